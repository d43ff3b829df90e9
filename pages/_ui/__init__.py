"""The glue between the pages and `metrics/`: who the user is, the engine, cached readers, and
the widgets every page shares. Pages import this package as `ui` and use only the names below.

- `routing`: the pages each role gets, the engine and data version, period and links.
- `identity`: who the user is (demo, trusted header or single sign-on), `require`, sign-out.
- `readers`: every view of `metrics.views`, cached in one line keyed on the data version.
- `widgets`: breadcrumbs, status badges and counts, the headline, the line of sight, tables.
- `metric`: the metric page's widgets.
- `committee`: the committee page's snapshots, comparison, restatements and papers.
- `scorecard`: a service manager's landing page, My scorecard.
- `public`: the public view's routing (a visitor nobody is signed in as).
- `entry`: the monthly cycle's readers and widgets (My month); `approvals`: the approvals page's.
- `quality`: the data quality page's due grid and widgets.
- `admin`, `admin_measures`, `admin_workbook`: the administration pages' readers and forms.
- `text`: `plain`, the one way text from users or the database reaches Markdown.

Every cached reader takes the data version (read once per script run) so a write anywhere, on
any replica, refreshes it; every reader whose result depends on clearance takes it as an
argument, so a cached result never crosses from a cleared user to one who is not.
"""

from pages._ui import admin, admin_measures, admin_workbook, committee, scorecard
from pages._ui.approvals import approval_notice, approval_table
from pages._ui.entry import by_team, month_submit, my_month, team_form, to_approve
from pages._ui.entry import month_picker as entry_month_picker
from pages._ui.identity import (
    current_user,
    demo_banner,
    identity_panel,
    may,
    require,
    sign_in_gate,
)
from pages._ui.metric import (
    alignment_links,
    audit_table,
    definition,
    metric_summary,
    trend_chart,
    xmr_chart,
)
from pages._ui.public import public_pages, public_visitor, require_public
from pages._ui.quality import completeness_chart, csv_download, data_quality, due_grid, table
from pages._ui.readers import (
    audit,
    dashboard,
    level_view,
    metric_view,
    options,
    public_csv,
    public_view,
)
from pages._ui.routing import (
    PAGE_FILES,
    ROLE_PAGES,
    engine,
    follow_link,
    link_query,
    open_page,
    page_config,
    pages_for,
    period,
    period_label,
    period_notice,
    period_picker,
    selected,
    start_run,
    within,
)
from pages._ui.text import WORD_JOINER, plain
from pages._ui.widgets import (
    alignment_overview,
    breadcrumb,
    headline,
    index,
    level_header,
    level_table,
    listed_of,
    metric_table,
    status_badge,
    status_counts,
)

__all__ = [
    "PAGE_FILES",
    "ROLE_PAGES",
    "WORD_JOINER",
    "admin",
    "admin_measures",
    "admin_workbook",
    "alignment_links",
    "alignment_overview",
    "approval_notice",
    "approval_table",
    "audit",
    "audit_table",
    "breadcrumb",
    "by_team",
    "committee",
    "completeness_chart",
    "csv_download",
    "current_user",
    "dashboard",
    "data_quality",
    "definition",
    "demo_banner",
    "due_grid",
    "engine",
    "entry_month_picker",
    "follow_link",
    "headline",
    "identity_panel",
    "index",
    "level_header",
    "level_table",
    "level_view",
    "link_query",
    "listed_of",
    "may",
    "metric_summary",
    "metric_table",
    "metric_view",
    "month_submit",
    "my_month",
    "open_page",
    "options",
    "page_config",
    "pages_for",
    "period",
    "period_label",
    "period_notice",
    "period_picker",
    "plain",
    "public_csv",
    "public_pages",
    "public_view",
    "public_visitor",
    "require",
    "require_public",
    "scorecard",
    "selected",
    "sign_in_gate",
    "start_run",
    "status_badge",
    "status_counts",
    "table",
    "team_form",
    "to_approve",
    "trend_chart",
    "within",
    "xmr_chart",
]
