"""The read side of the line of sight: which priority each measure serves, the tree, roll-ups,
the drill-down views and a metric's history, on small tables and on the demo council."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session

from metrics import alignment, periods, queries, views
from metrics.alignment import Structure
from metrics.config import RatingRules, Settings
from metrics.models import AuditLog, Metric, PeriodValue
from metrics.rating import COUNT_COLUMNS
from metrics.views import board, levels, measure, rated
from metrics.vocab import Marking, Signal

RULES = RatingRules()
CLEARED = Marking.OFFICIAL_SENSITIVE.value
OFFICIAL = Marking.OFFICIAL.value


def catalogue_rows(*rows: tuple) -> pd.DataFrame:
    """code, tier, priority_code, initiative_code, aligned_to for priorities_served()."""
    columns = ["code", "tier", "priority_code", "initiative_code", "aligned_to"]
    return pd.DataFrame(rows, columns=columns)


DELIVERS = pd.DataFrame(
    {"initiative_code": ["I1", "I1", "I2"], "priority_code": ["P1", "P2", "P3"]}
)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("CP1", "Corporate Plan", "P1", None, None), {("P1", "priority")}),
        # an initiative delivering two priorities puts its measure under both
        (("ME1", "ME2E", None, "I1", None), {("P1", "initiative"), ("P2", "initiative")}),
        # an own priority is more direct than the initiative's
        (("ME2", "ME2E", "P3", "I1", None), {("P3", "priority")}),
        # aligned to a Corporate Plan measure: that measure's priority
        (("SS1", "Service Standards", None, None, "CP1"), {("P1", "aligned")}),
        # aligned to an ME2E measure: the priorities its initiative delivers
        (("SS2", "Service Standards", None, None, "ME1"), {("P1", "aligned"), ("P2", "aligned")}),
        # its own priority and the aligned measure's both count
        (
            ("SS5", "Service Standards", "P3", None, "CP1"),
            {("P3", "priority"), ("P1", "aligned")},
        ),
        # aligned to an initiative directly
        (("SS3", "Service Standards", None, "I2", None), {("P3", "initiative")}),
        # aligned to nothing at all
        (("SS4", "Service Standards", None, None, None), {(alignment.UNALIGNED, "none")}),
    ],
)
def test_priorities_served_follow_the_most_direct_alignment(row: tuple, expected: set) -> None:
    metrics = catalogue_rows(
        ("CP1", "Corporate Plan", "P1", None, None), ("ME1", "ME2E", None, "I1", None), row
    ).drop_duplicates("code", keep="last")
    served = alignment.priorities_served(metrics, DELIVERS)
    mine = served[served["code"] == row[0]]
    assert set(zip(mine["priority_code"], mine["via"], strict=True)) == expected


def test_an_alignment_to_an_invisible_measure_is_blanked() -> None:
    frame = catalogue_rows(
        ("SS1", "Service Standards", None, None, "SECRET"),
        ("SS2", "Service Standards", None, None, "CP1"),
        ("CP1", "Corporate Plan", "P1", None, None),
    )
    masked = alignment.mask_alignment(frame)
    assert masked.set_index("code")["aligned_to"].isna().to_dict() == {
        "SS1": True,
        "SS2": False,
        "CP1": True,
    }


def test_node_target_opens_the_segment_page_but_not_the_unaligned_group() -> None:
    nodes = pd.DataFrame(
        {
            "id": ["P:a", "P:a|S:s|T:s/t", "P:-"],
            "kind": ["priority", "team", "priority"],
            "code": ["a", "s/t", alignment.UNALIGNED],
        }
    )
    # a team segment counts its Service Standards measures serving the priority: so does the page
    part = {"serving": "a", "tier": "Service Standards"}
    assert alignment.node_target(nodes, "P:a|S:s|T:s/t") == ("team", "s/t", part)
    assert alignment.node_target(nodes, "P:a") == ("priority", "a", {})
    assert alignment.node_target(nodes, "P:-") is None
    assert alignment.node_target(nodes, "nothing") is None


def test_changes_read_worse_and_better_by_status_rank() -> None:
    status = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "rag": ["Red", "Green", "Amber", "Amber"],
            "rag_before": ["Amber", "Red", "Missing", "Amber"],
            "risk_score": [9, 1, 4, 4],
            "title": ["a", "b", "c", "d"],
            "tier": ["ME2E"] * 4,
            "unit": ["number"] * 4,
            "decimals": [0] * 4,
            "actual": [1.0, 2.0, 3.0, 4.0],
            "target": [2.0] * 4,
            "ytd": [1.0] * 4,
            "forecast": [1.0] * 4,
            "forecast_rag": ["Red"] * 4,
            "dot_previous": ["Worsening"] * 4,
            "risk_level": ["High"] * 4,
            "explanation": ["why"] * 4,
            "commentary": [""] * 4,
        }
    )
    table = board.changes(status)
    assert table["code"].tolist() == ["A", "C", "B"]  # worse first, unchanged D left out
    assert table["Change"].tolist() == ["▼ Worse", "► Changed", "▲ Better"]
    assert table["Now"].tolist() == ["✖ Red", "◆ Amber", "● Green"]
    assert board.changes(status, limit=2)["code"].tolist() == ["A", "C"]  # the first, in order
    assert board.changed(status).tolist() == [True, True, True, False]
    overdue = status.assign(rag=["Overdue"] * 4, rag_before=["Missing", "Overdue", "Red", None])
    assert board.changed(overdue).tolist() == [False, False, True, False]  # Overdue is Missing


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("Green", "Red", "▼ Worse"),
        ("Amber", "Red", "▼ Worse"),
        ("Green", "Amber", "▼ Worse"),
        ("Green", "Missing", "▼ Worse"),
        ("Green", "Overdue", "▼ Worse"),
        ("Red", "Green", "▲ Better"),
        ("Red", "Amber", "▲ Better"),
        ("Missing", "Green", "▲ Better"),
        ("Overdue", "Green", "▲ Better"),
        ("Missing", "Red", "► Changed"),
        ("Red", "Overdue", "► Changed"),
        ("Data only", "Green", "► Changed"),
        ("Amber", "Data only", "► Changed"),
        ("Overdue", "Missing", None),  # Overdue is Missing: no change
        ("Amber", "Amber", None),
        (None, "Red", None),  # nothing to compare with
    ],
)
def test_which_way_a_change_of_status_reads(
    before: str | None, after: str, change: str | None
) -> None:
    status = pd.DataFrame(
        {"code": ["A"], "rag": [after], "rag_before": [before], "risk_score": [3]}
    ).astype({"rag": "str"})
    got = board.first_changes(status)
    assert got["change"].tolist() == ([] if change is None else [change])


def test_each_measure_is_compared_with_its_own_previous_period() -> None:
    """`with_previous`: the RAG of the period a measure names as its previous one, from any of
    the earlier months; blank where none has it, or has another of its periods."""
    status = pd.DataFrame(
        {
            "code": pd.array(["A", "B", "C", "D", "E"], dtype="str"),
            "previous_period": pd.array(
                ["2017-02", "2016-17 Q3", "2017-02", None, "2017-02"], dtype="str"
            ),
            "rag": pd.array(["Red"] * 5, dtype="str"),
        }
    )
    february = pd.DataFrame(
        {
            "code": ["A", "E", "Z"],
            "period": ["2017-02", "2016-12", "2017-02"],
            "rag": ["Green", "Amber", "Red"],
        }
    ).astype("str")
    december = pd.DataFrame({"code": ["B"], "period": ["2016-17 Q3"], "rag": ["Amber"]}).astype(
        "str"
    )
    got = board.with_previous(status, [february, december])
    assert got["rag_before"].tolist()[:2] == ["Green", "Amber"]
    assert got["rag_before"].isna().tolist() == [False, False, True, True, True]
    assert got.drop(columns="rag_before").equals(status)
    # a measure with several earlier periods (two months' every RAG): by code and period
    both = pd.concat([february, february.assign(period="2017-01", rag="Red")], ignore_index=True)
    again = board.with_previous(status, [both, december])
    pd.testing.assert_series_equal(again["rag_before"], got["rag_before"], check_dtype=False)
    assert board.with_previous(status, [])["rag_before"].isna().all()


# --- On the demo council ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def month(demo_database: str) -> str:
    from metrics import store

    engine = store.make_engine(demo_database)
    latest = views.latest_reported_month(engine, clearance=CLEARED)
    engine.dispose()
    assert latest is not None
    return latest


def _rows(engine: Engine, month: str, clearance: str = CLEARED) -> tuple:
    where = Structure(**queries.structure_frames(engine))
    catalogue = views.read_scope(engine, clearance=clearance).catalogue
    status = alignment.mask_alignment(
        views.status(engine, period=month, clearance=clearance), catalogue["code"]
    )
    served = alignment.priorities_served(catalogue, where.delivers)
    return status, alignment.placed(status, served), where, catalogue, served


def test_tree_parents_and_ids_are_consistent(demo_engine: Engine, month: str) -> None:
    status, rows, where, _, _ = _rows(demo_engine, month)
    nodes = alignment.tree(rows, where, rules=RULES)
    assert nodes["id"].is_unique
    parents = nodes.loc[nodes["parent"] != "", "parent"]
    assert parents.isin(nodes["id"]).all()
    assert set(nodes.loc[nodes["parent"] == "", "kind"]) == {"priority"}
    # branchvalues="total": a parent's value is the sum of its children's
    children = nodes[nodes["parent"] != ""].groupby("parent")["value"].sum()
    assert (nodes.set_index("id").loc[children.index, "value"] == children).all()
    # every measure due this month hangs somewhere in the tree
    assert set(status["code"]) <= set(nodes.loc[nodes["kind"] == "metric", "code"])


def _placed_at_the_edges(rows: pd.DataFrame) -> pd.DataFrame:
    """The demo's placed rows with the places a tree must still hang somewhere: an ME2E measure
    of no initiative, a Service Standards measure of no service, a measure serving no priority,
    one whose status is unknown, and an Overdue High-risk one."""
    edges = rows.copy()
    me2e = edges.index[edges["tier"] == "ME2E"][0]
    service = edges.index[edges["tier"] == "Service Standards"][0]
    plan = edges.index[edges["tier"] == "Corporate Plan"][0]
    edges.loc[me2e, "initiative_code"] = None
    edges.loc[service, ["service_code", "rag", "risk_level"]] = [None, None, None]
    edges.loc[plan, ["serves", "rag", "risk_level"]] = [alignment.UNALIGNED, "Overdue", "High"]
    return edges


@pytest.mark.parametrize("edges", [False, True], ids=["demo", "edges"])
def test_the_overview_is_the_whole_trees_top_two_levels(
    demo_engine: Engine, month: str, edges: bool
) -> None:
    """The dashboard's overview nodes (rolled up from the rows grouped by where they sit) are
    the whole tree's priorities, initiatives and services, number for number."""
    _, rows, where, _, _ = _rows(demo_engine, month)
    rows = _placed_at_the_edges(rows) if edges else rows
    whole = alignment.tree(rows, where, rules=RULES)
    shown = whole[whole["kind"].isin(alignment.OVERVIEW_KINDS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(alignment.tree(rows, where, rules=RULES, whole=False), shown)
    if edges:
        assert f"P:{alignment.UNALIGNED}" in set(shown["id"])


def test_priority_counts_are_the_rollup_of_every_measure_serving_it(
    demo_engine: Engine, month: str
) -> None:
    _, rows, where, _, _ = _rows(demo_engine, month)
    nodes = alignment.tree(rows, where, rules=RULES).set_index("id")
    for code in where.priorities["code"]:
        serving = rows[rows["serves"] == code].drop_duplicates("code")
        counts = serving["rag"].replace("Overdue", "Missing").value_counts()
        view = levels.priority_view(code, rows, where, RULES)
        assert view is not None
        for status in COUNT_COLUMNS:
            assert view.counts[status] == counts.get(status, 0), (code, status)
            if len(serving):
                assert nodes.loc[f"P:{code}", status] == counts.get(status, 0)


def test_measures_aligned_to_a_corporate_plan_measure_appear_under_its_priority(
    demo_engine: Engine, month: str
) -> None:
    _, rows, where, catalogue, _ = _rows(demo_engine, month)
    aligned = catalogue[catalogue["aligned_to"].notna() & (catalogue["tier"] != "ME2E")]
    target = aligned.merge(
        catalogue[["code", "tier", "priority_code"]].rename(
            columns={"code": "aligned_to", "tier": "up_tier", "priority_code": "up_priority"}
        ),
        on="aligned_to",
    )
    target = target[(target["up_tier"] == "Corporate Plan") & target["code"].isin(rows["code"])]
    assert len(target), "the demo council aligns Service Standards measures to Corporate Plan ones"
    for _, row in target.iterrows():
        view = levels.priority_view(row["up_priority"], rows, where, RULES)
        assert row["code"] in set(view.aligned["code"]), row["code"]
        assert row["up_priority"] in set(rows.loc[rows["code"] == row["code"], "serves"])
        shown = view.aligned.set_index("code").loc[row["code"], "Aligned to"]
        assert shown == f"measure {row['aligned_to']}"


def test_an_initiative_gathers_its_measures_and_those_aligned_to_them(
    demo_engine: Engine, month: str
) -> None:
    _, rows, where, catalogue, _ = _rows(demo_engine, month)
    for code in where.initiatives["code"]:
        view = levels.initiative_view(code, rows, where, RULES)
        own = set(rows.loc[(rows["tier"] == "ME2E") & (rows["initiative_code"] == code), "code"])
        assert set(view.metrics["code"]) == own
        for aligned in view.aligned["code"]:
            row = catalogue.set_index("code").loc[aligned]
            assert row["initiative_code"] == code or row["aligned_to"] in own
        assert {c.code for c in view.path} == set(
            where.delivers.loc[where.delivers["initiative_code"] == code, "priority_code"]
        )


@pytest.mark.parametrize("kind", ["priority", "initiative"])
def test_a_level_lists_the_first_of_its_aligned_measures_highest_risk_first(
    demo_engine: Engine, month: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A priority's or an initiative's page lists the first `levels.LISTED` measures aligned
    to it from below, highest risk first and then by code, and says how many are due."""
    _, rows, where, _, _ = _rows(demo_engine, month)
    risk = rows.drop_duplicates("code").set_index("code")["risk_score"]
    shortened = 0
    for code in where.options(kind):
        every = levels.LEVELS[kind](code, rows, where, RULES)
        monkeypatch.setattr(levels, "LISTED", 2)
        first = levels.LEVELS[kind](code, rows, where, RULES)
        monkeypatch.undo()
        assert every is not None and first is not None
        assert every.aligned_due == first.aligned_due == len(every.aligned)
        keys = [(-int(risk[c]), c) for c in every.aligned["code"]]
        assert keys == sorted(keys)
        pd.testing.assert_frame_equal(first.aligned, every.aligned.head(2))
        shortened += len(first.aligned) < first.aligned_due
    assert shortened > 0  # some of the demo's have more than two


def test_a_service_rolls_up_its_teams(demo_engine: Engine, month: str) -> None:
    _, rows, where, _, _ = _rows(demo_engine, month)
    for code in where.services["code"]:
        view = levels.service_view(code, rows, where, RULES)
        team_total = view.children[COUNT_COLUMNS].to_numpy().sum() if len(view.children) else 0
        assert team_total == sum(view.counts.values())
        for team in view.children["code"]:
            team_view = levels.team_view(team, rows, where, RULES)
            assert team_view.path[0].code == code


def test_an_alignment_is_named_only_to_a_reader_who_may_see_it(demo_engine: Engine) -> None:
    """By the aligned measure's code, looked up whatever part of the templates is read; blank
    when the reader may not see that measure."""
    cleared = queries.metric_frame(demo_engine, clearance=CLEARED)
    official = queries.metric_frame(demo_engine, clearance=OFFICIAL).set_index("code")
    marking = cleared.set_index("code")["marking"]
    aligned = cleared[cleared["aligned_to"].notna()]
    assert len(aligned) > 0
    for row in aligned.itertuples():
        alone = queries.metric_frame(demo_engine, clearance=CLEARED, codes=[row.code])
        assert alone["aligned_to"].tolist() == [row.aligned_to]  # not among those read
        if row.code in official.index:
            hidden = marking[row.aligned_to] == Marking.OFFICIAL_SENSITIVE.value
            shown = official.loc[row.code, "aligned_to"]
            assert (None if pd.isna(shown) else shown) == (None if hidden else row.aligned_to)


def test_a_sensitive_measure_never_reaches_an_official_view(
    demo_engine: Engine, month: str
) -> None:
    with Session(demo_engine) as session:
        sensitive = set(
            session.exec(
                select(Metric.code).where(Metric.marking == Marking.OFFICIAL_SENSITIVE.value)
            ).scalars()
        )
    assert sensitive, "the demo council has OFFICIAL-SENSITIVE measures"
    status, rows, where, catalogue, served = _rows(demo_engine, month, OFFICIAL)
    nodes = alignment.tree(rows, where, rules=RULES)
    assert not sensitive & set(catalogue["code"])
    assert not sensitive & set(catalogue["aligned_to"].dropna())
    assert not sensitive & set(nodes["code"])
    assert not sensitive & set(status["aligned_to"].dropna())
    for code in sensitive:
        history = views.metric_history(demo_engine, code=code, clearance=OFFICIAL)
        assert history.empty
        assert (
            measure.metric_view(code, history, catalogue, served, where, month, rules=RULES) is None
        )


def test_metric_history_rates_each_period_as_the_status_query_does(
    demo_engine: Engine, month: str
) -> None:
    columns = ["actual", "target", "ytd", "rag", "dot_previous", "dot_last_year", "risk_score"]
    columns += ["forecast", "forecast_rag", "explanation", "spc_variation", "spc_assurance"]
    columns += ["spc_variation_why", "spc_assurance_why"]
    # every measure at a year end (all frequencies due), and a sample mid-year; every history
    # in one call (issue 12: this sweep took 158 s as one history per measure)
    for period, sample in (("2016-03", None), ("2016-08", 12)):
        status = views.status(demo_engine, period=period, clearance=CLEARED)
        codes = list(status["code"].iloc[:sample])
        histories = views.metric_histories(demo_engine, codes=codes, clearance=CLEARED)
        histories = histories.set_index(["code", "period"])
        for code in codes:
            rated = histories.loc[(code, status.set_index("code").loc[code, "period"])]
            expected = status.set_index("code").loc[code]
            for column in columns:
                assert rated[column] == pytest.approx(expected[column], nan_ok=True) or (
                    pd.isna(rated[column]) and pd.isna(expected[column])
                ), (period, code, column)


def test_each_measures_history_is_its_part_of_the_histories_read_together(
    demo_engine: Engine,
) -> None:
    status = views.status(demo_engine, period="2017-03", clearance=CLEARED)
    codes = [*status.groupby("frequency")["code"].first(), "NO-SUCH-CODE"]
    together = views.metric_histories(demo_engine, codes=codes, clearance=CLEARED)
    assert set(together["code"]) == set(codes[:-1]) and len(codes) == 4
    for code in codes[:-1]:
        alone = views.metric_history(demo_engine, code=code, clearance=CLEARED)
        mine = together[together["code"] == code].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, mine)


def test_metric_view_shows_the_trend_up_to_the_month(demo_engine: Engine) -> None:
    _, _, where, catalogue, served = _rows(demo_engine, "2016-09")
    history = views.metric_history(demo_engine, code="CP03", clearance=CLEARED)
    view = measure.metric_view("CP03", history, catalogue, served, where, "2016-09", rules=RULES)
    assert view.current["period"] == "2016-09"
    assert view.trend["period"].iloc[-1] == "2016-09"
    assert len(view.table) == len(view.trend) == 18
    # higher is better: the Amber band runs from target less tolerance up to the target
    row = view.trend.iloc[-1]
    assert row["band_high"] == row["target"] > row["band_low"]
    # last year's comparison is the value twelve months earlier
    assert view.trend.set_index("period").loc["2016-09", "last_year"] == pytest.approx(
        view.trend.set_index("period").loc["2015-09", "value"]
    )
    assert {c.kind for c in view.path} == {"priority"}
    assert set(view.aligned_below["code"]) >= {"SS-ENV-04", "SS-ENV-10"}
    assert len(view.xmr) == 18 and {"upper_limit", "lower_limit"} <= set(view.xmr.columns)


def test_the_xmr_chart_its_badges_and_the_status_row_agree(demo_engine: Engine) -> None:
    """The metric page's chart ends on the reading its badges show, which is the one the
    dashboard and the status command show for the same period: three measures of each reading
    the demo has (every reading is there)."""
    status = views.status(demo_engine, period="2017-03", clearance=CLEARED)
    assert set(status["spc_variation"]) == {s.value for s in Signal}
    sample = status.groupby("spc_variation").head(3).set_index("code")
    _, _, where, catalogue, served = _rows(demo_engine, "2017-03")
    for code, row in zip(sample.index, sample.to_dict("records"), strict=True):
        history = views.metric_history(demo_engine, code=code, clearance=CLEARED, until="2017-03")
        view = measure.metric_view(code, history, catalogue, served, where, "2017-03", rules=RULES)
        assert view is not None and view.current is not None
        for column in ("spc_variation", "spc_assurance", "spc_variation_why", "spc_assurance_why"):
            assert view.current[column] == row[column], (code, column)
        if row["spc_variation"] == Signal.TOO_FEW_POINTS:
            assert view.xmr.empty
        else:
            assert view.xmr["variation"].iloc[-1] == row["spc_variation"], code


def test_audit_trail_holds_the_template_and_every_value(demo_engine: Engine) -> None:
    trail = measure.audit_trail(queries.audit_rows(demo_engine, code="CP03"), {"CP03"})
    assert (trail["Period"] == "Definition").sum() >= 1
    assert trail["Period"].str.match(r"^[A-Z][a-z]+ \d{4}$").sum() == 24  # 'March 2017'
    assert not trail.isin(["None", None]).any().any()
    assert not trail["New value"].str.contains("{", regex=False).any()  # no raw JSON
    # no other measure's rows leak in through a shared prefix (CP03 vs CP030)
    assert not measure.audit_trail(queries.audit_rows(demo_engine, code="CP0"), {"CP0"}).size


def test_audit_trail_blanks_an_aligned_to_code_the_reader_may_not_see(engine: Engine) -> None:
    created = json.dumps({"aligned_to": "SEN01", "title": "Bins"})
    rows = [
        AuditLog(at=datetime(2017, 1, 1, tzinfo=UTC), actor="a", action="create", entity="metric",
                 entity_key="CP01", new_value=created),
        AuditLog(at=datetime(2017, 1, 2, tzinfo=UTC), actor="a", action="import", entity="metric",
                 entity_key="CP01", field_name="aligned_to", old_value="SEN01", new_value="CP02"),
    ]  # fmt: skip
    with Session(engine) as session:
        session.add_all(rows)
        session.commit()
    hidden = measure.audit_trail(queries.audit_rows(engine, code="CP01"), {"CP01", "CP02"})
    assert "SEN01" not in hidden.to_csv()
    assert hidden["New value"].tolist()[0] == "CP02"  # a visible code still shows
    assert hidden["New value"].tolist()[1] == "Title: Bins"  # the blanked field left out
    assert (
        "SEN01"
        in measure.audit_trail(
            queries.audit_rows(engine, code="CP01"), {"CP01", "CP02", "SEN01"}
        ).to_csv()
    )


def test_period_options_run_newest_first_over_the_data(demo_engine: Engine) -> None:
    options = views.period_options(demo_engine, clearance=CLEARED)
    assert options[0] == "2017-03" and options[-1] == "2015-04" and len(options) == 24


def test_the_period_list_and_default_hold_only_months_the_reader_may_see(engine: Engine) -> None:
    with Session(engine) as session:
        secret = Metric(code="SEN01", title="Secret", tier="ME2E", marking=CLEARED)
        open_ = Metric(code="OPEN01", title="Open", tier="ME2E")
        session.add_all([secret, open_])
        session.flush()
        for metric, month in ((open_, 4), (open_, 5), (secret, 6)):
            session.add(
                PeriodValue(
                    metric_id=metric.id,
                    period=f"2016-{month:02d}",
                    fiscal_year="2016-17",
                    period_end=periods.parse(f"2016-{month:02d}").end,
                    actual=1.0,
                    status="approved",
                )
            )
        session.commit()
    assert views.period_options(engine, clearance=OFFICIAL) == ["2016-05", "2016-04"]
    assert views.period_options(engine, clearance=CLEARED)[0] == "2016-06"
    assert views.latest_reported_month(engine, clearance=OFFICIAL) == "2016-05"
    assert views.latest_reported_month(engine, clearance=CLEARED) == "2016-06"


@pytest.mark.parametrize("rows", [1, 7, 400])
def test_headline_is_the_crosstab_of_tier_and_status(rows: int) -> None:
    """Every tier and status (and none, and one of neither) counted as `pd.crosstab` counts
    them, Overdue as Missing."""
    rng = np.random.default_rng(rows)
    tiers = rng.choice(["Corporate Plan", "ME2E", "Service Standards", None, "Other"], rows)
    rags = rng.choice(["Red", "Amber", "Green", "Data only", "Missing", "Overdue", None], rows)
    status = pd.DataFrame({"tier": tiers, "rag": rags}, dtype="str", index=np.arange(rows) * 3)
    crossed = pd.crosstab(status["tier"], status["rag"].replace("Overdue", "Missing"))
    tiers_in_order = ["Corporate Plan", "ME2E", "Service Standards"]
    expected = crossed.reindex(index=tiers_in_order, columns=board.COUNT_COLUMNS)
    pd.testing.assert_frame_equal(board.headline(status), expected.fillna(0).astype(int))


def test_headline_counts_overdue_as_missing() -> None:
    status = pd.DataFrame({"tier": ["ME2E", "ME2E", "ME2E"], "rag": ["Red", "Overdue", "Missing"]})
    table = board.headline(status)
    assert table.loc["ME2E", "Missing"] == 2
    assert table.loc["Corporate Plan"].sum() == 0


def test_latest_commentary_falls_back_to_the_most_recent_of_the_past_year(
    demo_engine: Engine,
) -> None:
    reading = views.read_month(
        demo_engine, period="2016-12", clearance=CLEARED, today=date.today(), settings=Settings()
    )
    shown = reading.status.set_index("code")
    own = shown[shown["commentary"] != ""]
    assert (own["latest_commentary"] == own["commentary"]).all()
    earlier = shown[(shown["commentary"] == "") & (shown["latest_commentary"] != "")]
    assert len(earlier)
    for code, row in earlier.iterrows():
        said_in, _, said = row["latest_commentary"].partition(": ")
        history = views.metric_history(demo_engine, code=code, clearance=CLEARED)
        before = history[(history["period"] < row["period"]) & (history["commentary"] != "")]
        assert said_in == periods.spoken(before["period"].iloc[-1])  # 'November 2016'
        assert said == before["commentary"].iloc[-1]
        break


@pytest.mark.parametrize(
    ("said_on", "text", "shown"),
    [
        (date(2016, 11, 30), "Snow", "November 2016: Snow"),  # the month before
        (date(2016, 1, 1), "Floods", "January 2016: Floods"),  # 365 days before: in the year
        (date(2015, 12, 31), "Old", ""),  # 366 days before: not the year before it
        (date(2016, 12, 31), "Own", ""),  # its own period's is the row's own commentary
        (date(2017, 1, 31), "Later", ""),  # after it: never
        (date(2016, 11, 30), "", ""),  # blank says nothing
        (date(2016, 11, 30), None, ""),
    ],
)
def test_a_row_shows_the_latest_commentary_of_the_year_before_it(
    said_on: date, text: str | None, shown: str
) -> None:
    status = pd.DataFrame(
        {"metric_id": [1, 2], "period": ["2016-12", "2016-12"],
         "period_end": [date(2016, 12, 31)] * 2, "commentary": ["", "Its own"]}
    )  # fmt: skip
    values = pd.DataFrame(
        {"metric_id": [1, 1, 2], "period": [said_on.strftime("%Y-%m"), "2016-06", "2016-11"],
         "period_end": [said_on, date(2016, 6, 30), date(2016, 11, 30)],
         "commentary": [text, None, "Not shown: row 2 has its own"]}
    )  # fmt: skip
    if said_on == date(2016, 1, 1):
        values.loc[0, "period"] = "2015-16 Q4"  # a quarter's end, said as the council says it
        shown = "Q4 2015-16: Floods"
    rows = rated.with_latest_commentary(status, values)
    assert rows["latest_commentary"].tolist() == [shown, "Its own"]


def test_the_committee_reads_commentary_of_approved_values_only(demo_copy: Engine) -> None:
    """A draft's commentary is not the committee's to read, in its own row or a later one."""
    from metrics import store

    demo_engine, month = demo_copy, "2016-12"
    committee = views.read_month(demo_engine, period=month, clearance=CLEARED, today=TODAY,
                                 settings=Settings(), approved_only=True)  # fmt: skip
    code = str(committee.status["code"].iloc[0])
    metric_id = int(committee.status["metric_id"].iloc[0])
    with store.write(demo_engine) as session:  # November's value becomes a draft with a note
        session.execute(
            text("UPDATE period_value SET status = 'draft', commentary = 'Draft note'"
                 " WHERE metric_id = :m AND period = '2016-11'"),
            {"m": metric_id},
        )  # fmt: skip
        session.execute(
            text("UPDATE period_value SET commentary = '' WHERE metric_id = :m AND period = :p"),
            {"m": metric_id, "p": month},
        )
        store.bump_data_version(session)
    officers = views.read_month(demo_engine, period=month, clearance=CLEARED, today=TODAY,
                                settings=Settings())  # fmt: skip
    committee = views.read_month(demo_engine, period=month, clearance=CLEARED, today=TODAY,
                                 settings=Settings(), approved_only=True)  # fmt: skip
    said = officers.status.set_index("code").loc[code, "latest_commentary"]
    assert said == "November 2016: Draft note"
    assert "Draft note" not in committee.status.set_index("code").loc[code, "latest_commentary"]


def test_a_priority_names_the_teams_behind_its_status_worst_first(demo_engine) -> None:
    rules = RatingRules()
    cleared = "OFFICIAL-SENSITIVE"
    status = views.status(demo_engine, period="2017-03", clearance=cleared)
    where = Structure(**queries.structure_frames(demo_engine))
    served = alignment.priorities_served(
        views.read_scope(demo_engine, clearance=cleared).catalogue, where.delivers
    )
    rows = alignment.placed(status, served)
    for code in where.priorities["code"]:
        view = levels.priority_view(code, rows, where, rules)
        teams = view.teams
        assert teams["kind"].eq("team").all()
        assert list(teams["Red"]) == sorted(teams["Red"], reverse=True)
        mine = rows[rows["serves"] == code].drop_duplicates("code")
        assert teams[COUNT_COLUMNS].to_numpy().sum() == len(mine[mine["team_code"].notna()])


@pytest.fixture(scope="module")
def demo_sweep(demo_database: str):
    """The demo council's structure, catalogue and every month, read once for the sweeps."""
    from metrics import store

    engine = store.make_engine(demo_database)
    cleared = "OFFICIAL-SENSITIVE"
    catalogue = views.read_scope(engine, clearance=cleared).catalogue
    where = Structure(**queries.structure_frames(engine))
    served = alignment.priorities_served(catalogue, where.delivers)
    yield engine, cleared, catalogue, where, served, views.period_options(engine, clearance=cleared)
    engine.dispose()


DEMO_MONTHS = [f"{year}-{month:02d}" for year in (2015, 2016) for month in range(4, 13)] + [
    f"{year}-{month:02d}" for year in (2016, 2017) for month in range(1, 4)
]


# The everyday suite builds the first month, a quarter end and the last (a year end); `make
# faults` builds the other twenty-one (an exhaustive sweep of the demo is marked slow).
EVERYDAY_MONTHS = {"2015-04", "2016-12", "2017-03"}


@pytest.mark.parametrize(
    "month",
    [m if m in EVERYDAY_MONTHS else pytest.param(m, marks=pytest.mark.slow) for m in DEMO_MONTHS],
)
def test_every_level_builds_for_every_month_of_the_demo(demo_sweep, month: str) -> None:
    engine, cleared, _, where, served, months = demo_sweep
    assert month in months
    rules = RatingRules()
    builders = {
        "priority": levels.priority_view,
        "initiative": levels.initiative_view,
        "service": levels.service_view,
        "team": levels.team_view,
    }
    rows = alignment.placed(views.status(engine, period=month, clearance=cleared), served)
    for kind, view in builders.items():
        for code in where.options(kind):
            built = view(code, rows, where, rules)
            assert built is not None, (kind, code)
            assert built.status in {*COUNT_COLUMNS, "Missing", ""}, (kind, code)


@pytest.mark.slow  # an exhaustive sweep of the demo: `make faults`
def test_every_measure_page_builds_at_the_start_middle_and_end_of_the_demo(demo_sweep) -> None:
    engine, cleared, catalogue, where, served, months = demo_sweep
    rules = RatingRules()
    for code in catalogue["code"]:
        history = views.metric_history(engine, code=code, clearance=cleared)
        for month in (months[0], months[len(months) // 2], months[-1]):
            view = measure.metric_view(code, history, catalogue, served, where, month, rules=rules)
            assert view is not None, (code, month)


def test_headline_change_compares_only_measures_with_a_previous_status() -> None:
    status = pd.DataFrame(
        {
            "tier": ["ME2E", "ME2E", "Corporate Plan"],
            "rag": ["Red", "Red", "Green"],
            "rag_before": ["Green", None, None],
        }
    )
    change = board.headline_change(status)
    # the measure with no previous status counts neither now nor before
    assert change.loc["ME2E", "Red"] == 1 and change.loc["ME2E", "Green"] == -1
    # a tier with nothing to compare has no delta at all
    assert change.loc["Corporate Plan"].isna().all()
    assert change.loc["Service Standards"].isna().all()


def test_changes_read_overdue_as_missing_and_missing_as_worse_than_green() -> None:
    status = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "rag": ["Overdue", "Missing", "Green", "Red"],
            "rag_before": ["Green", "Overdue", "Missing", "Missing"],
            "risk_score": [0, 0, 0, 0],
        }
    )
    shown = status.assign(title="t", tier="ME2E", explanation="", actual=None, target=None)
    shown = shown.assign(unit="number", decimals=0, aggregation="mean", ytd=None, forecast=None)
    shown = shown.assign(risk_level="Low", dot_previous=None, forecast_rag=None, commentary="")
    table = board.changes(shown).set_index("code")
    assert "B" not in table.index  # Overdue to Missing is not a change
    assert table.loc["A", "Change"] == "▼ Worse"
    assert table.loc["C", "Change"] == "▲ Better"
    assert table.loc["D", "Change"] == "► Changed"


@pytest.mark.parametrize(
    "month",
    [m if m in EVERYDAY_MONTHS else pytest.param(m, marks=pytest.mark.slow) for m in DEMO_MONTHS],
)
def test_the_status_command_and_the_dashboard_agree_on_every_measure_in_every_month(
    demo_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    month: str,
) -> None:
    """One rating pipeline: the command line and the dashboard give every demo measure the same
    RAG, sentence and risk in every demo month (and the tree's leaves carry the same RAG); four
    months everyday, all 24 in `make faults`."""
    from metrics import cli, store
    from metrics.config import settings

    monkeypatch.setenv("SCORECARD_DATABASE_URL", demo_database)
    settings.cache_clear()
    engine = store.make_engine(demo_database)
    today = "2017-04-20"
    try:
        argv = ["status", "--period", month, "--format", "csv", "--include-sensitive"]
        assert cli.main([*argv, "--today", today]) == 0
        printed = pd.read_csv(
            io.StringIO(capsys.readouterr().out), dtype=str, keep_default_na=False
        ).set_index("code")
        seen = {"period": month, "clearance": Marking.OFFICIAL_SENSITIVE.value,
                "today": date.fromisoformat(today), "settings": settings()}  # fmt: skip
        reading = views.read_month(engine, **seen)  # one read serves the board and the tree
        board = views.dashboard(engine, **seen, reading=reading)
        shown = board.rated.set_index("code")
        assert sorted(printed.index) == sorted(shown.index), month
        shown = shown.loc[printed.index]
        assert printed["rag"].tolist() == shown["rag"].tolist(), month
        said = reading.status.set_index("code").loc[printed.index, "explanation"]
        assert printed["explanation"].tolist() == said.tolist(), month
        assert printed["risk_level"].tolist() == shown["risk_level"].tolist(), month
        assert printed["risk_score"].astype(int).tolist() == shown["risk_score"].tolist()
        nodes = alignment.tree(reading.rows, reading.scope.structure, rules=settings().rating)
        leaves = nodes[nodes["kind"] == "metric"].drop_duplicates("code")
        assert (leaves["status"] == leaves["code"].map(printed["rag"])).all(), month
        overview = nodes[nodes["kind"].isin(alignment.OVERVIEW_KINDS)].reset_index(drop=True)
        pd.testing.assert_frame_equal(board.nodes, overview)  # the dashboard's part of the tree
    finally:
        engine.dispose()
        settings.cache_clear()


# --- The entry points the glue caches, without Streamlit -----------------------------------------

TODAY = date(2017, 4, 20)


def _view_args(period: str, clearance: str = CLEARED) -> dict:
    return {"period": period, "clearance": clearance, "today": TODAY, "settings": Settings()}


def test_a_shared_reading_gives_the_same_views_as_reading_afresh(demo_engine: Engine) -> None:
    reading = views.read_month(demo_engine, **_view_args("2016-11"))
    fresh = views.level(demo_engine, kind="priority", code="homes-good-homes-for-everyone",
                        **_view_args("2016-11"))  # fmt: skip
    shared = views.level(demo_engine, kind="priority", code="homes-good-homes-for-everyone",
                         **_view_args("2016-11"), reading=reading)  # fmt: skip
    assert fresh is not None and shared is not None
    assert (fresh.status, fresh.counts) == (shared.status, shared.counts)
    pd.testing.assert_frame_equal(fresh.metrics, shared.metrics)
    board_view = views.dashboard(demo_engine, **_view_args("2016-11"), reading=reading)
    assert board_view.headline.to_numpy().sum() == len(reading.status)
    rated = board_view.rated  # every measure counted: the totals count them, the lists show them
    assert board_view.exceptions_total == rated["rag"].isin(["Red", "Amber"]).sum()
    assert board_view.exceptions_total == len(board_view.exceptions)  # under 200: all listed
    assert board_view.changes_total == len(board_view.changes) > 0


def test_the_index_lists_every_level_of_a_kind_rolled_up_as_its_page(demo_engine: Engine) -> None:
    reading = views.read_month(demo_engine, **_view_args("2017-03"))
    table = views.index(demo_engine, kind="service", **_view_args("2017-03"), reading=reading)
    assert set(table["code"]) == set(reading.scope.structure.options("service"))
    for row in table.itertuples():
        page = views.level(demo_engine, kind="service", code=row.code, **_view_args("2017-03"),
                           reading=reading)  # fmt: skip
        assert page is not None and page.counts["Red"] == row.Red
    measures = views.index(demo_engine, kind="metric", **_view_args("2017-03"), reading=reading)
    assert set(measures["code"]) == set(reading.status["code"])


def test_unknown_and_invisible_codes_give_no_view(demo_engine: Engine) -> None:
    sensitive = views.read_scope(demo_engine, clearance=CLEARED).catalogue
    secret = sensitive.loc[sensitive["marking"] == CLEARED, "code"].iloc[0]
    official = _view_args("2017-03", OFFICIAL)
    assert views.metric(demo_engine, code=secret, **official) is None
    assert views.metric(demo_engine, code="NO-SUCH", **official) is None
    assert views.audit(demo_engine, code=secret, clearance=OFFICIAL) is None
    assert views.audit(demo_engine, code=secret, clearance=CLEARED) is not None
    assert views.level(demo_engine, kind="team", code="no/such", **official) is None
    shown = views.metric(demo_engine, code="CP03", **official)
    assert shown is not None and shown.current is not None and shown.current["period"] == "2017-03"


@pytest.mark.parametrize("month", ["2015-04", "2015-09", "2016-03", "2016-12", "2017-03"])
def test_the_earlier_months_rag_is_the_status_rag(demo_engine: Engine, month: str) -> None:
    """rag_in rates with status_only (no forecast, sentence or XmR) and reads only the year's
    values: the RAG is the one the full status gives."""
    full = views.status(demo_engine, period=month, clearance=CLEARED, today=TODAY)
    quick = views.rag_in(demo_engine, period=month, clearance=CLEARED, today=TODAY)
    merged = full.merge(quick, on=["code", "period"], suffixes=("", "_quick"))
    assert len(merged) == len(full) == len(quick)
    assert (merged["rag"] == merged["rag_quick"]).all()


@pytest.mark.parametrize("month", ["2017-03", "2016-12", "2016-06"])
@pytest.mark.parametrize("approved_only", [False, True])
def test_earlier_months_rated_from_the_values_a_status_read_match_a_fresh_read(
    demo_engine: Engine, month: str, approved_only: bool
) -> None:
    """The dashboard rates each earlier month from the rows its status read (`held`); those
    ratings equal reading the database again, measures not due this month included."""
    today, settings = date(2017, 5, 1), Settings()
    _rated, held = views.status_and_values(
        demo_engine,
        period=month,
        clearance=CLEARED,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )
    earlier = [periods.shift(periods.month_for(month), -n).label for n in (1, 3, 12)]
    for before in earlier:
        kwargs = dict(period=before, clearance=CLEARED, today=today, settings=settings)
        fresh = views.rag_in(demo_engine, approved_only=approved_only, **kwargs)
        reused = views.rag_in(demo_engine, approved_only=approved_only, held=held, **kwargs)
        pd.testing.assert_frame_equal(reused, fresh)
        assert len(fresh)  # something was rated


@pytest.mark.parametrize("month", ["2017-03", "2016-04", "2016-06", "2015-05"])
@pytest.mark.parametrize("approved_only", [False, True])
def test_each_measures_previous_rag_in_one_call_is_the_months_rag(
    demo_engine: Engine, month: str, approved_only: bool
) -> None:
    """`rags_before` rates every measure's own previous period in one pipeline call; each RAG
    is the one `rag_in` gives for that period's month, read afresh."""
    today, settings = date(2017, 5, 1), Settings()
    rated, held = views.status_and_values(
        demo_engine,
        period=month,
        clearance=CLEARED,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )
    months = views.board.previous_months(rated)
    args = dict(clearance=CLEARED, today=today, settings=settings, approved_only=approved_only)
    together = views.rags_before(demo_engine, rated, months=months, held=held, **args)
    assert sorted(together) == months
    nothing = views.Held(held.values.iloc[:0], frozenset(), held.first_end, held.first_end)
    read = views.rags_before(demo_engine, rated, months=months, held=nothing, **args)
    for before in months:  # held rows that do not cover the periods: read afresh, same answer
        pd.testing.assert_frame_equal(read[before], together[before])
    pairs = rated[["code", "previous_period"]].rename(columns={"previous_period": "period"})
    for before in months:
        alone = views.rag_in(demo_engine, period=before, **args).merge(pairs)
        pd.testing.assert_frame_equal(
            together[before].sort_values("code", ignore_index=True),
            alone.sort_values("code", ignore_index=True),
        )
        assert len(alone)  # something was rated
