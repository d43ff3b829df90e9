"""Entering a month: validation rules and their messages, scope, versions, preview, submit."""

from __future__ import annotations

import pandas as pd
import pytest
from entry_council import MANAGER, OFFICER, OTHER_MANAGER, TODAY, add_history, build
from sqlalchemy import Engine, select
from sqlmodel import Session

from metrics import entry, store, validation
from metrics.access import AccessDenied
from metrics.config import Settings
from metrics.models import AuditLog, ClosedYear, Metric, PeriodValue


@pytest.fixture
def council(engine: Engine) -> dict[str, int]:
    return build(engine)


def held(engine: Engine, metric_id: int, period: str) -> PeriodValue | None:
    with Session(engine) as session:
        return session.exec(
            select(PeriodValue).where(
                PeriodValue.metric_id == metric_id, PeriodValue.period == period
            )
        ).scalar_one_or_none()


def save(engine: Engine, code: str = "HOU02", period: str = "2016-03", **typed) -> PeriodValue:
    user = typed.pop("user", MANAGER)
    version = typed.pop("seen_version", 1)
    return entry.save_value(
        engine, user=user, entry=entry.Entry(code, period, version, **typed), today=TODAY
    )


@pytest.mark.parametrize(
    ("code", "period", "typed", "field", "message"),
    [
        ("HOU02", "2016-03", {"actual": "twelve"}, "actual", "'twelve' is not a number"),
        ("HOU02", "2016-03", {"actual": "inf"}, "actual", "'inf' is not a number"),
        ("HOU02", "2016-03", {"actual": -1}, "actual", "-1 is not a count"),  # below 0
        ("HOU02", "2016-03", {"actual": 10.5}, "actual", "10.5 is not a count"),  # not whole
        (
            "HOU03",
            "2016-03",
            {"actual": -0.5, "commentary": "x"},
            "actual",
            "days cannot be negative",
        ),
        ("HOU04", "2015-16 Q4", {"actual": 100.01}, "actual", "100.01 % is outside 0 to 100"),
        (
            "HOU04",
            "2015-16 Q4",
            {"actual": -0.01, "commentary": "c", "corrective_action": "a"},
            "actual",
            "-0.01 % is outside 0 to 100",
        ),
        ("HOU01", "2016-03", {"actual": 75}, "actual", "worked out from the numerator"),
        (
            "HOU01",
            "2016-03",
            {"numerator": 5},
            "numerator",
            "both the numerator and the denominator",
        ),
        (
            "HOU01",
            "2016-03",
            {"numerator": 11, "denominator": 10},
            "numerator",
            "11 is more than the denominator 10",
        ),
        (
            "HOU01",
            "2016-03",
            {"numerator": -1, "denominator": 10},
            "numerator",
            "cannot be negative",
        ),
        ("HOU01", "2016-03", {"numerator": 0, "denominator": 0}, "denominator", "must be above 0"),
        (
            "HOU01",
            "2016-03",
            {"numerator": "x", "denominator": 10},
            "numerator",
            "'x' is not a number",
        ),
        ("HOU02", "2016-05", {"actual": 12}, "period", "has not ended yet"),
        ("HOU03", "2016-03", {"actual": 8.4}, "commentary", "a value rated Amber needs commentary"),
        (
            "HOU02",
            "2016-03",
            {"actual": 5, "commentary": "c"},
            "corrective_action",
            "a value rated Red needs a corrective action",
        ),
        ("HOU02", "2016-13", {"actual": 5}, "period", "neither a month"),
        ("HOU04", "2016-03", {"actual": 95}, "period", "the metric is quarterly"),
        ("NOPE1", "2016-03", {"actual": 5}, "code", "no such measure"),
    ],
)
def test_each_rule_refuses_with_a_message_naming_the_field_and_changes_nothing(
    engine: Engine, council: dict[str, int], code, period, typed, field, message
) -> None:
    before = store.data_version(engine)
    version = 1 if period != "2016-05" else 0
    with pytest.raises(entry.EntryRefused) as refused:
        save(engine, code, period, seen_version=version, **typed)
    first = refused.value.problems[0]
    assert (first.field, first.code) == (field, code) and message in first.message, first
    assert store.data_version(engine) == before


@pytest.mark.parametrize(
    ("code", "period", "typed"),
    [
        (
            "HOU02",
            "2016-03",
            {"actual": 0, "commentary": "c", "corrective_action": "a"},
        ),  # 0 counts
        ("HOU02", "2016-03", {"actual": "12"}),  # text that is a number
        ("HOU02", "2016-03", {"actual": " 1,012 "}),  # thousands separator
        ("HOU04", "2015-16 Q4", {"actual": 100}),  # exactly 100 %
        ("HOU01", "2016-03", {"numerator": 10, "denominator": 10}),  # numerator = denominator
        ("HOU03", "2016-03", {"actual": 0}),  # 0 days
        ("HOU03", "2016-03", {"actual": 8.4, "commentary": "c"}),  # Amber edge, with commentary
        ("HOU03", "2016-03", {"actual": 8.41, "commentary": "c", "corrective_action": "a"}),
    ],
)
def test_values_on_the_boundaries_are_accepted(engine, council, code, period, typed) -> None:
    saved = save(engine, code, period, **typed)
    assert saved.status == "draft" and saved.version == 2


def test_a_ratio_actual_is_worked_out_never_typed(engine, council) -> None:
    saved = save(engine, "HOU01", numerator=7, denominator=8)
    assert saved.actual == pytest.approx(87.5)
    assert (saved.numerator, saved.denominator) == (7, 8)


def test_a_closed_year_and_an_inactive_measure_are_refused(engine, council) -> None:
    with store.write(engine) as session:
        session.add(ClosedYear(fiscal_year="2015-16", closed_by="admin"))
    with pytest.raises(entry.EntryRefused, match="the year 2015-16 is closed"):
        save(engine, actual=12)
    with store.write(engine) as session:
        metric = session.get(Metric, council["HOU03"])
        metric.active_from = "2016-04"
    with pytest.raises(entry.EntryRefused, match="not active in 2016-03"):
        save(engine, "HOU03", actual=3)


def test_commentary_rules_follow_the_configuration(engine, council) -> None:
    relaxed = Settings(
        entry=Settings().entry.__class__(
            commentary_required_for=(), corrective_action_required_for=()
        )
    )
    saved = entry.save_value(
        engine,
        user=MANAGER,
        entry=entry.Entry("HOU02", "2016-03", 1, actual=1),
        today=TODAY,
        config=relaxed,
    )
    assert saved.actual == 1


def test_an_outlier_needs_a_confirming_note_and_is_flagged(engine, council) -> None:
    add_history(engine, council["HOU03"], [7.0, 7.5, 8.0, 7.2, 7.8, 7.4], last="2016-03")
    with pytest.raises(entry.EntryRefused, match="outside this measure's natural process limits"):
        save(engine, "HOU03", actual=30, commentary="c", corrective_action="a")
    saved = save(
        engine,
        "HOU03",
        actual=30,
        commentary="c",
        corrective_action="a",
        outlier_note="a flood closed the depot",
    )
    assert saved.outlier and saved.outlier_note == "a flood closed the depot"
    inside = save(engine, "HOU03", actual=7.6, seen_version=2)
    assert not inside.outlier and inside.outlier_note == ""


def test_another_services_measure_is_refused_in_the_write(engine, council) -> None:
    with pytest.raises(AccessDenied, match="only enter values for Communications"):
        save(engine, user=OTHER_MANAGER, actual=12)
    with pytest.raises(AccessDenied, match="only enter values for Housing"):
        save(engine, "COM01", actual=6)
    assert held(engine, council["HOU02"], "2016-03").actual is None


def test_a_stale_version_is_refused_with_who_when_and_what(engine, council) -> None:
    save(engine, user=OFFICER, actual=12)
    with pytest.raises(entry.ValueConflict) as conflict:
        save(engine, actual=13)
    error = conflict.value
    assert (error.changed_by, error.changed_to["actual"], error.version) == (OFFICER.email, 12, 2)
    assert error.changed_at is not None and "pmitg@x.gov.uk" in str(error)
    assert str(error).startswith("HOU02 March 2016 was changed by pmitg@x.gov.uk at ")
    assert held(engine, council["HOU02"], "2016-03").actual == 12


def test_a_first_value_needs_seen_version_0_and_a_racing_creation_conflicts(
    engine, council
) -> None:
    first = save(engine, period="2016-02", seen_version=0, actual=12)
    assert (first.version, first.status, first.target) == (1, "draft", None)
    with pytest.raises(entry.ValueConflict):
        save(engine, period="2016-02", seen_version=0, actual=13)


def test_save_month_is_all_or_nothing(engine, council) -> None:
    entries = [
        entry.Entry("HOU02", "2016-03", 1, actual=12),
        entry.Entry("HOU03", "2016-03", 1, actual="bad"),
    ]
    with pytest.raises(entry.EntryRefused):
        entry.save_month(engine, user=MANAGER, entries=entries, today=TODAY)
    assert held(engine, council["HOU02"], "2016-03").actual is None


def test_every_changed_field_is_audited_with_old_and_new(engine, council) -> None:
    save(engine, actual=12)
    save(engine, actual=9.6e0 + 2.4, seen_version=2, commentary="steady")  # same actual, new text
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    assert [(r.field_name, r.old_value, r.new_value) for r in rows] == [
        ("actual", None, "12.0"),
        ("commentary", "", "steady"),
    ]
    assert {r.actor for r in rows} == {MANAGER.email}


def test_preview_gives_the_status_and_sentence_from_the_rating_rules() -> None:
    rows = pd.DataFrame(
        {
            "polarity": ["higher", "higher"],
            "aggregation": ["ratio", "sum"],
            "unit": ["percent", "number"],
            "decimals": [1, 0],
            "period": ["2016-03"] * 2,
            "target": [80.0, 10.0],
            "target_upper": [None, None],
            "tolerance": [None, None],
            "tolerance_is_percent": [True, True],
            "data_only": [False, False],
            "actual": [None, 4.0],
            "ytd": [None, 100.0],
            "ytd_target": [None, 115.0],
            "ytd_target_upper": [None, None],
        }
    )
    shown = entry.preview(rows, pd.Series([76.0, 20.0]), config=Settings())
    assert shown["rag"].tolist() == [
        "Amber",
        "Green",
    ]  # 76 is the 5 % edge; YTD 100 - 4 + 20 against 115
    assert shown["explanation"][0].startswith("Amber: 76.0 % is below the 80.0 % target")
    assert shown["value"][1] == 116.0


def test_preview_typed_works_a_ratio_out_and_ignores_text_that_is_not_a_number() -> None:
    rows = pd.DataFrame(
        {
            "polarity": ["higher", "lower"],
            "aggregation": ["ratio", "mean"],
            "unit": ["percent", "days"],
            "decimals": [1, 1],
            "period": ["2016-03"] * 2,
            "target": [80.0, 10.0],
            "target_upper": [None, None],
            "tolerance": [None, None],
            "tolerance_is_percent": [True, True],
            "data_only": [False, False],
            "actual": [None, None],
            "ytd": [None, None],
            "ytd_target": [None, None],
            "ytd_target_upper": [None, None],
        }
    )
    shown = entry.preview_typed(
        rows,
        actual=pd.Series([75.0, "soon"]),  # a ratio's typed actual is ignored
        numerator=pd.Series([9, None]),
        denominator=pd.Series([10, None]),
        config=Settings(),
    )
    assert shown["value"][0] == pytest.approx(90.0) and shown["rag"][0] == "Green"
    assert pd.isna(shown["value"][1])


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("2017-03", "HOU01 March 2017, actual: too high"),
        ("2016-17 Q4", "HOU01 Q4 2016-17, actual: too high"),
        ("2016-17", "HOU01 2016-17, actual: too high"),
        ("not a period", "HOU01 not a period, actual: too high"),  # shown as typed
    ],
)
def test_a_refusal_names_the_period_as_the_council_says_it(period: str, said: str) -> None:
    assert str(validation.Problem("HOU01", period, "actual", "too high")) == said
