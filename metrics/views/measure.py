"""One measure's view: its template, its rated history up to a month, the trend and XmR charts'
frames, where it sits on the alignment, and its audit trail. Pure."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from metrics import periods, rating, spc
from metrics.alignment import UNALIGNED, Structure
from metrics.config import RatingRules
from metrics.display import period_table
from metrics.frames import among
from metrics.plain_words import audit_table
from metrics.views.trail import Crumb
from metrics.vocab import Tier


@dataclass(frozen=True)
class MetricView:
    """One measure: its template, its history up to the chosen month, and where it sits."""

    code: str
    template: dict[str, object]
    current: dict[str, object] | None  # the rated row of the latest period up to the month
    history: pd.DataFrame  # every period up to the month, rated
    trend: pd.DataFrame  # what the trend chart plots
    xmr: pd.DataFrame  # metrics.spc.xmr of the actuals, with their period labels and targets
    table: pd.DataFrame  # periods for reading
    path: list[Crumb]
    aligned_up: list[Crumb]
    owners: list[Crumb]  # its service and team
    aligned_below: pd.DataFrame  # measures aligned to this one


def metric_view(
    code: str,
    history: pd.DataFrame,
    metrics: pd.DataFrame,
    served: pd.DataFrame,
    where: Structure,
    month: str,
    *,
    rules: RatingRules,
    fy_start: int = 4,
    definition: str | None = None,
) -> MetricView | None:
    """Everything the metric page shows (its template with its `definition`); None when the
    code is unknown *or* not visible."""
    found = metrics[metrics["code"] == code]
    if found.empty:
        return None
    template = {**found.iloc[0].to_dict(), "definition": definition or ""}
    end = periods.month_for(month, fy_start).end
    upto = (
        history[pd.to_datetime(history["period_end"]).dt.date <= end] if len(history) else history
    )
    current = _without_blanks(upto.iloc[-1].to_dict()) if len(upto) else None
    chart = _xmr(upto, template, rules)
    below = metrics[metrics["aligned_to"] == code]
    return MetricView(
        code=code,
        template=template,
        current=current,
        history=upto.reset_index(drop=True),
        trend=trend_frame(upto, fy_start=fy_start, rules=rules),
        xmr=chart,
        table=period_table(upto),
        path=metric_path(template, served, where),
        aligned_up=_aligned_up(template),
        owners=owners(template),
        aligned_below=below[["code", "title", "tier", "service", "team"]].rename(
            columns={"title": "Measure", "tier": "Tier", "service": "Service", "team": "Team"}
        ),
    )


def metric_path(template: dict[str, object], served: pd.DataFrame, where: Structure) -> list[Crumb]:
    """The levels above a measure on the line of sight: its priorities (and initiative) for
    Corporate Plan and ME2E measures; its service and team for Service Standards ones."""
    if template["tier"] == Tier.SERVICE_STANDARDS.value:
        return owners(template)
    priorities = served.loc[
        (served["code"] == template["code"]) & (served["priority_code"] != UNALIGNED),
        "priority_code",
    ]
    path = [Crumb("priority", p, where.name("priority", p) or p) for p in priorities]
    if template["tier"] == Tier.ME2E.value and _present(template.get("initiative_code")):
        path.append(
            Crumb("initiative", str(template["initiative_code"]), str(template["initiative"]))
        )
    return path


def owners(template: dict[str, object]) -> list[Crumb]:
    """The service and team that own a measure."""
    found = []
    if _present(template.get("service_code")):
        found.append(Crumb("service", str(template["service_code"]), str(template["service"])))
    if _present(template.get("team_code")):
        found.append(Crumb("team", str(template["team_code"]), str(template["team"])))
    return found


def _aligned_up(template: dict[str, object]) -> list[Crumb]:
    """What a Service Standards measure is aligned to: a measure, an initiative or a priority."""
    if template["tier"] != Tier.SERVICE_STANDARDS.value:
        return []
    up = []
    if _present(template.get("aligned_to")):
        up.append(Crumb("metric", str(template["aligned_to"]), str(template["aligned_to"])))
    if _present(template.get("initiative_code")):
        up.append(
            Crumb("initiative", str(template["initiative_code"]), str(template["initiative"]))
        )
    if _present(template.get("priority_code")):
        up.append(Crumb("priority", str(template["priority_code"]), str(template["priority"])))
    return up


def _without_blanks(row: dict[str, object]) -> dict[str, object]:
    """A row whose missing commentary and corrective action are None, never a NaN that reads
    as text ('nan') wherever the page shows one if it has one."""
    return {
        key: None if key in ("commentary", "corrective_action") and not _present(value) else value
        for key, value in row.items()
    }


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def trend_frame(history: pd.DataFrame, *, fy_start: int = 4, rules: RatingRules) -> pd.DataFrame:
    """What the trend chart plots: the rated value (year to date for `sum` measures) against
    its target, the Amber band edges, each period's status, last year's value, and each
    period's financial year and whether it is rated year to date (where its line breaks)."""
    columns = [
        "period",
        "value",
        "target",
        "target_upper",
        "band_low",
        "band_high",
        "status",
        "last_year",
        "polarity",
        "fiscal_year",
        "cumulative",
    ]
    if history.empty:
        return pd.DataFrame(columns=columns)
    judged, value = rating.judged(history), rating.rated_value(history)
    below = rating.tolerance_below(judged, rules.default_tolerance_percent)
    above = rating.tolerance_above(judged, rules.default_tolerance_percent)
    polarity = judged["polarity"]
    upper = judged["target_upper"].where(polarity == "band", judged["target"])
    band_low = np.select(
        [polarity == "higher", polarity == "lower"],
        [judged["target"] - below, judged["target"]],
        judged["target"] - below,
    )
    band_high = np.select(
        [polarity == "higher", polarity == "lower"],
        [judged["target"], judged["target"] + above],
        upper + above,
    )
    rated_by_period = dict(zip(history["period"], value, strict=True))
    unrated = judged["data_only"].astype(bool) | judged["target"].isna()
    return pd.DataFrame(
        {
            "period": history["period"],
            "value": value,
            "target": judged["target"].where(~unrated),
            "target_upper": judged["target_upper"].where(~unrated),
            "band_low": pd.Series(band_low, index=history.index).where(~unrated),
            "band_high": pd.Series(band_high, index=history.index).where(~unrated),
            "status": history["rag"],
            "last_year": history["last_year_period"].map(rated_by_period),
            "polarity": polarity,
            "fiscal_year": history["fiscal_year"],
            "cumulative": history["rated_on"] == "ytd",
        }
    ).reset_index(drop=True)


def _xmr(history: pd.DataFrame, template: dict[str, object], rules: RatingRules) -> pd.DataFrame:
    """The XmR chart of the actuals read with the measure's polarity (the points the badges
    read), with their period labels and targets; empty under the minimum points."""
    known = history.dropna(subset=["actual"]) if len(history) else history
    if len(known) < rules.spc_min_points:
        return pd.DataFrame()
    chart = spc.xmr(
        known["actual"],
        str(template["polarity"]),
        rules=rules,
        data_only=bool(template.get("data_only")),
    )
    chart["period"] = known["period"].to_numpy()
    neutral = spc.direction(
        pd.Series([template["polarity"]]), pd.Series([template.get("data_only")])
    )
    chart["target"] = known["target"].to_numpy() if neutral.iloc[0] != 0 else np.nan
    return chart


def _hide_alignment(rows: pd.DataFrame, visible: set[str]) -> pd.DataFrame:
    """The audit rows with any `aligned_to` code the reader may not see blanked: a field row's
    old and new value, and the key inside a JSON "create" value."""
    out = rows.copy()
    field = out["field_name"].fillna("")
    for column in ("old_value", "new_value"):
        value = out[column]
        hidden = (field == "aligned_to") & value.notna() & ~among(value.astype(str), visible)
        out[column] = value.astype(object).where(~hidden, None)
    created = (field == "") & out["new_value"].map(lambda v: isinstance(v, str))
    if created.any():  # a template's "create" row: one a measure, parsed only where present
        out.loc[created, "new_value"] = out.loc[created, "new_value"].map(
            lambda text: _hide_in_created(text, visible)
        )
    return out


def _hide_in_created(text: str, visible: set[str]) -> str:
    """A "create" value (JSON) with its `aligned_to` blanked unless the reader may see it."""
    try:
        created = json.loads(text)
    except ValueError:
        return text
    if isinstance(created, dict) and created.get("aligned_to") not in (None, *visible):
        created["aligned_to"] = None
        return json.dumps(created, sort_keys=True, default=str, ensure_ascii=False)
    return text


def audit_trail(rows: pd.DataFrame, visible: Collection[str]) -> pd.DataFrame:
    """Who changed a metric's template or values, when, from what to what, and why, from its
    `queries.audit_rows`, in plain words (`plain_words.audit_table`); an `aligned_to` code outside
    `visible` (the codes the reader may see) is blanked, so a sensitive code never shows."""
    frame = rows.copy()
    if not frame.empty:
        frame = _hide_alignment(frame, set(visible))
    period = frame["entity_key"].astype(str).str.split("/", n=1).str[1].astype(object)
    return audit_table(frame.assign(period=period.replace("", None)))


def for_committee(view: MetricView) -> MetricView:
    """The measure as the committee sees it: no corrective-action drafts and no approval
    states (its values are already the approved ones: `metric(approved_only=True)`)."""
    current = dict(view.current) if view.current is not None else None
    if current is not None:
        current["corrective_action"] = None
    return replace(
        view,
        current=current,
        history=view.history.drop(columns=["corrective_action"], errors="ignore"),
        table=view.table.drop(columns=["Corrective action", "Approval"], errors="ignore"),
    )
