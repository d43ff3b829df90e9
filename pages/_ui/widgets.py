"""The widgets every page shares: breadcrumbs, status badges and counts, the dashboard's
headline, the line-of-sight overview, selectable tables and a level page's header."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from metrics import charts, views
from metrics.alignment import UNALIGNED, node_target, overview
from metrics.display import reading_order, with_symbol
from metrics.periods import spoken
from metrics.rating import COUNT_COLUMNS
from metrics.views.trail import read_trail, trail_text
from metrics.vocab import Status, Tier
from pages._ui.identity import current_user
from pages._ui.readers import _index, options
from pages._ui.routing import (
    BADGE_COLOURS,
    DELTA_COLOURS,
    KIND_WORDS,
    LINK_KINDS,
    PAGE_FILES,
    TRAIL,
    VIA,
    _version,
    open_page,
    period,
    period_label,
)
from pages._ui.text import plain

# --- Shared widgets ---------------------------------------------------------------------------


def breadcrumb(path: list[views.Crumb], here: str) -> None:
    """Links to every level above (the dashboard first), then where the user is: the way the
    reader came when the link carries it (`?via=`, each step checked against what the reader
    may open), else the levels above on the line of sight (docs/line-of-sight.md)."""
    crumbs = _checked_trail() or path
    st.session_state[TRAIL] = crumbs
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        query = {"period": str(period())} if period() else {}
        st.page_link(PAGE_FILES["dashboard"], label="Dashboard", query_params=query)
        for position, crumb in enumerate(crumbs):
            st.markdown("›")
            way = {VIA: trail_text(crumbs[:position])} if position else {}
            st.page_link(
                PAGE_FILES[crumb.kind],
                label=plain(crumb.label),
                query_params={crumb.kind: crumb.code, **query, **way},
            )
        st.markdown(f"› **{plain(here)}**")


def _checked_trail() -> list[views.Crumb]:
    """The link's `via`, kept only as far as every step is something this reader may open."""
    text, user = st.query_params.get(VIA), current_user()
    if not text or user is None:
        return []
    kinds = {part.partition(":")[0] for part in text.split(",")} & set(LINK_KINDS)
    names = {kind: options(kind, user.clearance) for kind in kinds}
    if "metric" in names:  # a measure's crumb is its code, as on its own breadcrumb
        names["metric"] = {code: code for code in names["metric"]}
    return read_trail(text, names)


def status_badge(status: str, prefix: str = "") -> None:
    """A status as a coloured badge that also carries its symbol and word."""
    st.badge(f"{prefix}{charts.status_label(status)}", color=BADGE_COLOURS.get(status, "gray"))


def status_counts(status: str, counts: dict[str, int], why: str = "") -> None:
    """The rolled-up status, the roll-up rule that gave it, and the counts behind it."""
    if not status:
        st.info(
            f"Nothing here is due in {period_label()}; choose another month to see its measures."
        )
        return
    status_badge(status, prefix="Rolled up: ")
    if why:
        st.caption(f"Why: {plain(why)}")
    for column, name in zip(st.columns(len(COUNT_COLUMNS)), COUNT_COLUMNS, strict=True):
        column.metric(charts.status_label(name), counts.get(name, 0))


def _change(change: float, colour: str) -> str:
    """A count's change as Markdown: red when it is bad news, green when good, grey else (the
    delta colours of `DELTA_COLOURS`, read as `st.metric` reads them)."""
    if pd.isna(change):
        return ""
    number = int(change)
    if number == 0:
        return ":gray-badge[±0]"
    good = (number > 0) == (colour == "normal")
    shade = "gray" if colour == "off" else "green" if good else "red"
    return f":{shade}-badge[{number:+d}]"  # a pill, as st.metric draws its delta


def headline(board: views.DashboardView) -> None:
    """Per tier: Red, Amber, Green, Data only and Missing, with the change since last period;
    one short row a tier that wraps on a phone instead of stacking fifteen tiles."""
    with st.container(border=True, gap="small"):
        for tier in (t.value for t in Tier):
            row = st.container(horizontal=True, gap="small", vertical_alignment="center")
            row.markdown(
                f"**{tier}**  \n{int(board.headline.loc[tier].sum())} measures due",
                width=140,
                help=f"{tier} measures by status in {spoken(board.period)} (Missing includes "
                "Overdue). After each count, its change since each measure's previous period: "
                "red is bad news, green good.",
            )
            for status in COUNT_COLUMNS:
                change = _change(board.change.loc[tier, status], DELTA_COLOURS[status])
                count = int(board.headline.loc[tier, status])
                # narrow enough for two counts beside the tier on a phone and three below
                row.markdown(
                    f"{charts.status_label(status)}  \n**{count}** {change}",
                    width=84 if status == Status.DATA_ONLY.value else 72,
                )


def _selection(event: object, part: str) -> list:
    """The selected rows or points of a chart or table event (empty when nothing is selected)."""
    try:
        return list(event["selection"][part])  # type: ignore[index]
    except (KeyError, TypeError):
        return []


OVERVIEW_COLUMNS = {
    "Name": st.column_config.TextColumn("Priority, and what delivers it", width=250),
    "Status": st.column_config.TextColumn("Status", width=96),
    "Bar": st.column_config.TextColumn(
        "Measures",
        width=190,
        help="One symbol a measure (scaled past 20): "
        + ", ".join(charts.status_label(s) for s in COUNT_COLUMNS),
    ),
}


def alignment_overview(nodes: pd.DataFrame) -> None:
    """The line of sight as a tree table: each priority, then the initiatives and services under
    it, with counts; selecting a row opens its page."""
    table = overview(nodes)
    if table.empty:
        st.info("No measures are due this month, so there is nothing to show.")
        return
    row = _selected_row(
        table,
        key="alignment",
        column_order=["Name", "Status", "Bar", *COUNT_COLUMNS],
        column_config={**LEVEL_COLUMNS, **OVERVIEW_COLUMNS},
    )
    target = node_target(nodes, str(row["id"])) if row is not None else None
    if target:
        open_page(*target)
    st.caption("Select a row to open it. A priority's counts take each measure once.")


# Over 4rem (64 px) a row wraps its text: three lines, so a reason, a title or a comment is read
# whole, not cut at the column's edge.
WRAPPED_ROW = 76
ROWS_SHOWN = 25  # a table of up to this many rows is shown whole, with no scroll bar of its own
LONG_TABLE = 900  # px: a longer one scrolls inside a box no taller than a laptop's screen

METRIC_COLUMNS = {
    # Code and reason fit a phone's width together (its selection box takes about 35 px)
    "code": st.column_config.TextColumn("Code", width=60, pinned=True),
    "Why": st.column_config.TextColumn(
        "Why this status", width=250, help="The rule that gave this colour, in the measure's unit"
    ),
    "Variation": st.column_config.TextColumn(
        "Variation",
        width="small",
        help="Signal or noise (XmR, NHS Making Data Count): is this period's value special?",
    ),
    "Assurance": st.column_config.TextColumn(
        "Assurance",
        width="small",
        help="Will the process meet its target: the target against the process limits",
    ),
    "Signal or noise": st.column_config.TextColumn(
        "Why this variation and assurance", width="large"
    ),
    "Commentary": st.column_config.TextColumn(
        "Latest commentary", width=320, help="This period's, or else the latest before it"
    ),
    "Measure": st.column_config.TextColumn("Measure", width=220),
}


def _height(rows: int, row_height: int) -> int | str:
    """A short table whole (no scroll bar inside the page); a long one as high as a laptop's
    screen holds, scrolling inside."""
    return "content" if rows <= ROWS_SHOWN else min((ROWS_SHOWN + 1) * row_height, LONG_TABLE)


def _selected_row(
    table: pd.DataFrame, *, key: str, row_height: int = 35, **columns: object
) -> pd.Series | None:
    """Show a table whose rows can be selected; the row the reader selected, if any."""
    event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        row_height=row_height,
        height=_height(len(table), row_height),  # type: ignore[arg-type]
        **columns,
    )
    rows = _selection(event, "rows")
    return table.iloc[rows[0]] if rows else None


def metric_table(table: pd.DataFrame, *, key: str, empty: str) -> None:
    """Measures as a table, the reason beside the code and the rest after it
    (`display.reading_order`), text wrapped; selecting a row opens the measure."""
    if table.empty:
        st.info(empty)
        return
    shown = table.assign(Why=with_symbol(table["Why"])) if "Why" in table else table
    row = _selected_row(
        shown,
        key=key,
        row_height=WRAPPED_ROW,
        column_order=reading_order(list(table.columns)),
        column_config=METRIC_COLUMNS,
    )
    if row is not None:
        open_page("metric", str(row["code"]))


def listed_of(shown: int, total: int, what: str) -> None:
    """Under a table the dashboard lists only the first rows of: how many of how many, and the
    measures page, which lists every measure due, highest risk first."""
    if total <= shown:
        return
    query = {"period": str(period())} if period() else {}
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(f"The first {shown:,} of {total:,} {what}.")
        st.page_link(
            PAGE_FILES["metric"], label="Every measure due, highest risk first", query_params=query
        )


# Wide enough for a team's "Service: Team" and for "■ Data only" over its count column.
LEVEL_COLUMNS = {
    "Name": st.column_config.TextColumn("Name", width=270),
    "Status": st.column_config.TextColumn("Status", width=96),
    "Why": st.column_config.TextColumn("Why this status", width="large"),
    "Counts": st.column_config.TextColumn("What it counts", width="medium"),
    **{
        name: st.column_config.NumberColumn(charts.status_label(name), width=88)
        for name in COUNT_COLUMNS
    },
}
# What a level row opens besides its page: the part of the level its counts are (`Within`).
PART_COLUMNS = ("serving", "aligned_to", "tier")


def level_table(table: pd.DataFrame, *, key: str, empty: str) -> None:
    """Priorities, initiatives, services or teams rolled up, with all five counts
    (`docs/line-of-sight.md`, "Roll-up"); selecting a row opens it."""
    if table.empty:
        st.info(empty)
        return
    row = _selected_row(
        table,
        key=key,
        column_order=[c for c in ["Name", "Status", "Why", "Counts", *COUNT_COLUMNS] if c in table],
        column_config=LEVEL_COLUMNS,
    )
    if row is not None and row["code"] != UNALIGNED:
        open_page(
            str(row["kind"]), str(row["code"]), {p: str(row[p]) for p in PART_COLUMNS if row.get(p)}
        )


def level_header(view: views.LevelView) -> None:
    """Breadcrumb, title, rolled-up status and counts, and any notes for a level page."""
    breadcrumb(view.path, view.name)
    st.title(plain(view.name))
    word = KIND_WORDS[view.kind]
    st.caption(f"{word[0].upper()}{word[1:]} · {period_label()}")  # "ME2E initiative" kept
    if view.within:
        part_note(view)
    status_counts(view.status, view.counts, view.why)
    for note in view.notes[1 if view.within else 0 :]:
        st.caption(plain(note))


def part_note(view: views.LevelView) -> None:
    """On a page showing part of a level: what it counts, and links to the whole level and to
    the priority or initiative the part is of."""
    st.info(plain(view.notes[0]), icon=":material/filter_alt:")
    query = {"period": str(period())} if period() else {}
    with st.container(horizontal=True, gap="small"):
        st.page_link(
            PAGE_FILES[view.kind],
            label=f"Show all of {plain(view.name)}",
            query_params={view.kind: view.code, **query},
        )
        for kind, code in (
            ("priority", view.within.serving),
            ("initiative", view.within.aligned_to),
        ):
            if code and code != UNALIGNED:
                st.page_link(
                    PAGE_FILES[kind],
                    label=f"Open the {KIND_WORDS[kind]}",
                    query_params={kind: code, **query},
                )


def index(kind: str, period: str | None, clearance: str, committee: bool = False) -> None:
    """Everything of a kind in the month, rolled up, worst first; selecting a row opens it (the
    committee's view: from approved values only)."""
    if period is None:
        st.info("No values have been entered yet.")
        return
    table = _index(kind, period, clearance, committee, _version(), date.today())
    if kind == "metric":
        month = spoken(period)
        st.caption(f"Every measure due in {month}, highest risk first. Select one to open it.")
        metric_table(table, key="index", empty=f"No measure is due in {month}.")
    else:
        month = spoken(period)
        st.caption(f"Every {KIND_WORDS[kind]} in {month}, worst first. Select one to open it.")
        level_table(table, key="index", empty=f"No {KIND_WORDS[kind]} is set up yet.")
