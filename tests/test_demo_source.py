"""The demo council's source (data/demo) and the values generated from it; no database needed."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from metrics import demo
from metrics.names import slug
from metrics.vocab import Aggregation, Frequency, Marking, Polarity, Role, Tier, Unit

METRIC_HEADERS = [
    "Code",
    "Title",
    "Definition",
    "Tier",
    "Priority",
    "Initiative",
    "Service",
    "Team",
    "Aligned to",
    "Unit",
    "Decimals",
    "Polarity",
    "Frequency",
    "Aggregation",
    "Tolerance",
    "Risk impact",
    "Marking",
    "Data only",
    "Responsible officer",
    "Data source",
    "Baseline",
]
SERVICES = {
    "Communications",
    "Customer Services",
    "Revenues and Benefits",
    "Housing",
    "Planning",
    "Environmental Services",
    "Communities and Neighbourhoods",
    "Corporate Governance",
}
# Responsible officers are job titles from this list, never people.
JOB_TITLES = {
    "Head of Communications",
    "Communications Manager",
    "Information Management Officer",
    "Corporate Governance Officer",
    "Digital Engagement Officer",
    "Customer Services Manager",
    "Contact Centre Team Leader",
    "Customer Access Point Supervisor",
    "Revenues Manager",
    "Benefits Manager",
    "Corporate Fraud Manager",
    "Head of Housing",
    "Housing Options Manager",
    "Tenancy Services Manager",
    "Property Services Manager",
    "Head of Regulatory Services",
    "Development Management Manager",
    "Planning Policy Manager",
    "Building Control Manager",
    "Head of Environmental Services",
    "Waste Services Manager",
    "Environmental Health Manager",
    "Parks and Leisure Manager",
    "Head of Communities and Neighbourhoods",
    "Corporate Policy Manager",
    "Community Safety Manager",
    "Economic Development Manager",
    "Head of Corporate Governance",
    "Democratic Services Manager",
    "Electoral Services Manager",
    "Chief Finance Officer",
    "Human Resources Manager",
}
CODE_PATTERNS = {
    Tier.CORPORATE_PLAN: r"CP\d{2}",
    Tier.ME2E: r"ME\d{2}",
    Tier.SERVICE_STANDARDS: r"SS-[A-Z]{3}-\d{2}",
}
LATEST = {"2017-03", "2016-17 Q4", "2016-17"}


@pytest.fixture(scope="module")
def metrics() -> pd.DataFrame:
    return demo.metrics_frame()


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return demo.values_frame()


@pytest.fixture(scope="module")
def rows(metrics: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Every value row with its metric's template beside it."""
    return values.merge(metrics, on="Code", how="left", validate="many_to_one")


def _rough_rag(row: pd.Series) -> str | None:
    """Actual against target with a 5 % tolerance, by polarity; None when not rated."""
    if pd.isna(row["Actual"]) or pd.isna(row["Target"]):
        return None
    upper = None if pd.isna(row["Target upper"]) else row["Target upper"]
    return demo.rough_rag(row["Actual"], row["Target"], upper, row["Polarity"], "5%")


# --- Metric templates -----------------------------------------------------------------------


def test_metrics_sheet_has_the_workbook_headers(metrics: pd.DataFrame) -> None:
    assert list(metrics.columns) == METRIC_HEADERS


def test_about_120_metrics_with_unique_codes(metrics: pd.DataFrame) -> None:
    assert 110 <= len(metrics) <= 130
    assert metrics["Code"].is_unique


@pytest.mark.parametrize(
    ("tier", "fewest", "most"),
    [
        (Tier.CORPORATE_PLAN, 15, 20),
        (Tier.ME2E, 20, 25),
        (Tier.SERVICE_STANDARDS, 75, 85),
    ],
)
def test_each_tier_has_its_share_of_metrics_and_codes(
    metrics: pd.DataFrame, tier: Tier, fewest: int, most: int
) -> None:
    mine = metrics[metrics["Tier"] == tier.value]
    assert fewest <= len(mine) <= most
    assert mine["Code"].str.fullmatch(CODE_PATTERNS[tier]).all()


@pytest.mark.parametrize(
    ("column", "allowed"),
    [
        ("Tier", Tier),
        ("Unit", Unit),
        ("Polarity", Polarity),
        ("Frequency", Frequency),
        ("Aggregation", Aggregation),
        ("Marking", Marking),
        ("Data only", ("yes", "no")),
    ],
)
def test_coded_columns_hold_vocabulary_values(
    metrics: pd.DataFrame, column: str, allowed: object
) -> None:
    values = {member.value if hasattr(member, "value") else member for member in allowed}
    assert set(metrics[column]) <= values


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        ("Decimals", r"[0-3]"),
        ("Risk impact", r"[1-3]"),
        ("Tolerance", r"(\d+(\.\d+)?%?)?"),  # 5%, an absolute 2, or blank for the default
        ("Baseline", r"\d+(\.\d+)?"),
    ],
)
def test_number_columns_are_numbers(metrics: pd.DataFrame, column: str, pattern: str) -> None:
    assert metrics[column].str.fullmatch(pattern).all()


def test_every_value_of_the_vocabulary_is_used(metrics: pd.DataFrame) -> None:
    for column, enum in [
        ("Unit", Unit),
        ("Polarity", Polarity),
        ("Frequency", Frequency),
        ("Aggregation", Aggregation),
        ("Marking", Marking),
    ]:
        assert set(metrics[column]) == {member.value for member in enum}, column


def test_eight_services_with_two_or_three_teams_each(metrics: pd.DataFrame) -> None:
    assert set(metrics["Service"]) == SERVICES
    teams = metrics.groupby("Service")["Team"].nunique()
    assert teams.between(2, 3).all()
    assert 18 <= teams.sum() <= 24


def test_service_standards_are_owned_by_a_team(metrics: pd.DataFrame) -> None:
    standards = metrics[metrics["Tier"] == Tier.SERVICE_STANDARDS.value]
    assert (standards["Service"] != "").all()
    assert (standards["Team"] != "").all()
    prefixes = standards.groupby("Service")["Code"].agg(lambda codes: {c[:6] for c in codes})
    assert prefixes.map(len).eq(1).all()  # one SS-XXX prefix per service


def test_every_service_standard_reaches_a_priority(metrics: pd.DataFrame) -> None:
    priority_of = metrics.set_index("Code")["Priority"]
    standards = metrics[metrics["Tier"] == Tier.SERVICE_STANDARDS.value]
    reached = standards["Priority"].where(
        standards["Priority"] != "", standards["Aligned to"].map(priority_of).fillna("")
    )
    assert (reached != "").all(), standards.loc[reached == "", "Code"].tolist()


def test_aligned_to_names_a_corporate_plan_or_me2e_metric(metrics: pd.DataFrame) -> None:
    tier_of = metrics.set_index("Code")["Tier"]
    aligned = metrics.loc[metrics["Aligned to"] != "", "Aligned to"]
    assert len(aligned) >= 40
    assert aligned.isin(tier_of.index).all()
    assert set(aligned.map(tier_of)) <= {Tier.CORPORATE_PLAN.value, Tier.ME2E.value}


@pytest.mark.parametrize(
    ("tier", "needs_priority", "needs_initiative"),
    [
        (Tier.CORPORATE_PLAN, True, False),
        (Tier.ME2E, True, True),
    ],
)
def test_upper_tiers_sit_under_a_priority(
    metrics: pd.DataFrame, tier: Tier, needs_priority: bool, needs_initiative: bool
) -> None:
    mine = metrics[metrics["Tier"] == tier.value]
    assert (mine["Priority"] != "").all() == needs_priority
    assert (mine["Initiative"] != "").all() == needs_initiative


def test_priorities_and_initiatives_named_in_metrics_are_in_their_lists(
    metrics: pd.DataFrame,
) -> None:
    priorities = set(demo.priorities_frame()["name"])
    initiatives = set(demo.initiatives_frame()["name"])
    assert 5 <= len(priorities) <= 7
    assert 7 <= len(initiatives) <= 9
    assert set(metrics["Priority"]) - {""} == priorities
    assert set(metrics["Initiative"]) - {""} == initiatives


def test_each_initiative_delivers_known_priorities() -> None:
    priorities = set(demo.priorities_frame()["name"])
    for cell in demo.initiatives_frame()["priorities"]:
        named = demo.initiative_priorities(cell)
        assert named
        assert set(named) <= priorities


def test_an_me2e_metric_serves_a_priority_its_initiative_delivers(metrics: pd.DataFrame) -> None:
    delivers = {
        name: set(demo.initiative_priorities(cell))
        for name, cell in demo.initiatives_frame()[["name", "priorities"]].itertuples(index=False)
    }
    me2e = metrics[metrics["Tier"] == Tier.ME2E.value]
    for code, priority, initiative in me2e[["Code", "Priority", "Initiative"]].itertuples(
        index=False
    ):
        assert priority in delivers[initiative], code


def test_line_of_sight_names_fit_the_code_columns() -> None:
    """Priority and initiative codes are slugs of their names; they must fit in 40 characters."""
    names = [*demo.priorities_frame()["name"], *demo.initiatives_frame()["name"]]
    assert all(len(slug(name)) < 40 for name in names)


@pytest.mark.parametrize(
    ("words", "unit", "polarity"),
    [
        (("FOI", "EIR", "20 working days"), Unit.PERCENT, Polarity.HIGHER),
        (("Subject access", "one month"), Unit.PERCENT, Polarity.HIGHER),
        (("Transparency Code", "on time"), Unit.PERCENT, Polarity.HIGHER),
        (("incidents reported",), Unit.NUMBER, Polarity.LOWER),
        (("information security training",), Unit.PERCENT, Polarity.HIGHER),
        (("Protective marking",), Unit.PERCENT, Polarity.HIGHER),
    ],
)
def test_communications_carries_the_information_law_measures(
    metrics: pd.DataFrame, words: tuple[str, ...], unit: Unit, polarity: Polarity
) -> None:
    communications = metrics[metrics["Service"] == "Communications"]
    titles = communications["Title"].str.lower()
    found = communications[titles.map(lambda t: all(w.lower() in t for w in words))]
    assert not found.empty, words
    assert (found["Unit"] == unit.value).all()
    assert (found["Polarity"] == polarity.value).all()


def test_information_incidents_are_official_sensitive(metrics: pd.DataFrame) -> None:
    titles = metrics["Title"].str.lower()
    incidents = metrics[titles.str.contains("information") & titles.str.contains("incidents")]
    assert len(incidents) >= 2
    assert (incidents["Service"] == "Communications").all()
    assert (incidents["Marking"] == Marking.OFFICIAL_SENSITIVE.value).all()


def test_communications_has_the_information_teams(metrics: pd.DataFrame) -> None:
    teams = set(metrics.loc[metrics["Service"] == "Communications", "Team"])
    assert {"Information Management", "Digital Engagement"} <= teams


def test_a_few_measures_are_sensitive_and_a_few_data_only(metrics: pd.DataFrame) -> None:
    assert 4 <= (metrics["Marking"] == Marking.OFFICIAL_SENSITIVE.value).sum() <= 6
    assert 3 <= (metrics["Data only"] == "yes").sum() <= 12


def test_percent_metrics_that_add_up_as_ratios_have_a_denominator(metrics: pd.DataFrame) -> None:
    profiles = demo.profiles_frame().set_index("Code")
    ratios = metrics[(metrics["Aggregation"] == "ratio") & (metrics["Data only"] == "no")]
    assert (profiles.loc[ratios["Code"], "Typical denominator"] != "").all()


def test_band_metrics_include_the_usual_suspects(metrics: pd.DataFrame) -> None:
    bands = metrics.loc[metrics["Polarity"] == Polarity.BAND.value, "Title"].str.lower()
    for words in ("sickness absence", "rent arrears", "planning appeals"):
        assert bands.str.contains(words).any(), words


def test_responsible_officers_are_job_titles(metrics: pd.DataFrame) -> None:
    assert set(metrics["Responsible officer"]) <= JOB_TITLES


@pytest.mark.parametrize(
    "name",
    [
        "priorities.csv",
        "initiatives.csv",
        "metrics.csv",
        "profiles.csv",
        "commentary.csv",
        "notes.csv",
        "users.csv",
    ],
)
def test_no_real_people_are_named(name: str) -> None:
    text = (demo.DEMO_SOURCE / name).read_text(encoding="utf-8")
    for person in ("Tebbutt", "Tiltman", "Angela", "Stewart"):
        assert person not in text
    assert not re.search(r"\b(Mr|Mrs|Ms|Miss|Dr|Cllr|Councillor)\.? [A-Z][a-z]+", text)


# --- Generated values -----------------------------------------------------------------------


def test_values_have_the_workbook_columns(values: pd.DataFrame) -> None:
    assert list(values.columns) == demo.VALUE_COLUMNS


def test_values_are_the_same_every_run(values: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(values, demo.values_frame())


def test_every_metric_has_values(metrics: pd.DataFrame, values: pd.DataFrame) -> None:
    assert set(values["Code"]) == set(metrics["Code"])
    assert not values.duplicated(["Code", "Period"]).any()


@pytest.mark.parametrize(
    ("frequency", "count", "first", "last"),
    [
        (Frequency.MONTHLY, 24, "2015-04", "2017-03"),
        (Frequency.QUARTERLY, 8, "2015-16 Q1", "2016-17 Q4"),
        (Frequency.ANNUAL, 2, "2015-16", "2016-17"),
    ],
)
def test_each_frequency_has_two_years_of_periods(
    rows: pd.DataFrame, frequency: Frequency, count: int, first: str, last: str
) -> None:
    mine = rows[rows["Frequency"] == frequency.value]
    assert not mine.empty
    for _, history in mine.groupby("Code"):
        labels = history["Period"].tolist()
        assert len(labels) == count
        assert (labels[0], labels[-1]) == (first, last)


def test_percentages_lie_between_0_and_100(rows: pd.DataFrame) -> None:
    percents = rows[rows["Unit"] == Unit.PERCENT.value]
    for column in ("Actual", "Target", "Target upper"):
        present = percents[column].dropna()
        assert present.between(0, 100).all(), column


def test_every_actual_is_non_negative(values: pd.DataFrame) -> None:
    assert (values["Actual"].dropna() >= 0).all()


def test_counts_are_whole_numbers(rows: pd.DataFrame) -> None:
    counts = rows[(rows["Unit"] == Unit.NUMBER.value) & (rows["Decimals"] == "0")]
    actual = counts["Actual"].dropna()
    assert (actual == actual.round()).all()


def test_actuals_keep_their_metric_decimals(rows: pd.DataFrame) -> None:
    present = rows.dropna(subset=["Actual"])
    rounded = [
        round(value, int(places))
        for value, places in zip(present["Actual"], present["Decimals"], strict=True)
    ]
    assert present["Actual"].tolist() == rounded


def test_ratio_rows_are_consistent(rows: pd.DataFrame) -> None:
    ratios = rows.dropna(subset=["Numerator", "Denominator"])
    assert len(ratios) > 500
    assert (ratios["Numerator"] == ratios["Numerator"].round()).all()
    assert (ratios["Denominator"] == ratios["Denominator"].round()).all()
    assert (ratios["Denominator"] > 0).all()
    scale = ratios["Unit"].map({Unit.PERCENT.value: 100.0}).fillna(1.0)
    expected = [
        round(value, int(places))
        for value, places in zip(
            scale * ratios["Numerator"] / ratios["Denominator"], ratios["Decimals"], strict=True
        )
    ]
    assert ratios["Actual"].tolist() == pytest.approx(expected)


def test_ratio_aggregated_percents_have_numerators(rows: pd.DataFrame) -> None:
    ratio = rows[(rows["Aggregation"] == "ratio") & rows["Actual"].notna()]
    assert ratio[["Numerator", "Denominator"]].notna().all(axis=None)


def test_band_rows_have_a_range_and_others_do_not(rows: pd.DataFrame) -> None:
    band = rows[(rows["Polarity"] == Polarity.BAND.value) & (rows["Data only"] == "no")]
    assert (band["Target"] <= band["Target upper"]).all()
    others = rows[rows["Polarity"] != Polarity.BAND.value]
    assert others["Target upper"].isna().all()


def test_data_only_rows_have_no_target(rows: pd.DataFrame) -> None:
    data_only = rows[rows["Data only"] == "yes"]
    assert data_only[["Target", "Target upper"]].isna().all(axis=None)
    targeted = rows[rows["Data only"] == "no"]
    assert targeted["Target"].notna().all()


def test_a_few_actuals_are_missing_including_the_latest_month(values: pd.DataFrame) -> None:
    missing = values[values["Actual"].isna()]
    assert 3 <= len(missing) <= 8
    assert (missing["Period"] == "2017-03").sum() >= 2
    assert (missing["Approval"] == "draft").all()


def test_history_is_approved_and_the_latest_return_is_in_progress(values: pd.DataFrame) -> None:
    latest = values["Period"].isin(LATEST)
    history = values[~latest & values["Actual"].notna()]
    assert (history["Approval"] == "approved").all()
    states = values.loc[latest, "Approval"].value_counts()
    assert set(states.index) == {"submitted", "draft", "returned"}
    assert states["returned"] == 1


def test_reds_at_the_year_end_carry_commentary(rows: pd.DataFrame) -> None:
    latest = rows[rows["Period"].isin(LATEST)]
    reds = latest[latest.apply(_rough_rag, axis=1) == "Red"]
    assert (reds["Commentary"] != "").all()
    assert (reds["Corrective action"] != "").sum() >= len(reds) // 2


def test_some_commentary_would_be_a_formula_if_not_made_inert(values: pd.DataFrame) -> None:
    assert values["Commentary"].str.match(r"[=+\-@]").any()


def test_year_end_has_a_mix_of_red_amber_and_green(rows: pd.DataFrame) -> None:
    latest = rows[rows["Period"].isin(LATEST)]
    shares = latest.apply(_rough_rag, axis=1).value_counts(normalize=True)
    assert 0.5 <= shares["Green"] <= 0.7
    assert 0.12 <= shares["Amber"] <= 0.3
    assert 0.08 <= shares["Red"] <= 0.25


def test_some_reds_are_worsening_at_the_year_end(rows: pd.DataFrame) -> None:
    monthly = rows[rows["Frequency"] == Frequency.MONTHLY.value]
    worsening = 0
    for _, history in monthly.groupby("Code"):
        last, previous = history.iloc[-1], history.iloc[-2]
        if _rough_rag(last) != "Red" or pd.isna(previous["Actual"]):
            continue
        better_before = (previous["Actual"] > last["Actual"]) == (last["Polarity"] == "higher")
        worsening += bool(better_before)
    assert worsening >= 3


@pytest.mark.parametrize(
    ("polarity", "actual", "target", "upper", "tolerance", "expected"),
    [
        ("higher", 80.0, 80.0, None, "", "Green"),  # on target
        ("higher", 76.0, 80.0, None, "", "Amber"),  # exactly at the 5 % edge
        ("higher", 75.9, 80.0, None, "", "Red"),
        ("higher", 73.0, 80.0, None, "10%", "Amber"),  # a wider percent tolerance
        ("lower", 14.0, 12.0, None, "2", "Amber"),  # an absolute tolerance
        ("lower", 15.0, 12.0, None, "2", "Red"),
        ("band", 2.1, 1.8, 2.4, "", "Green"),  # inside the range
        ("band", 2.5, 1.8, 2.4, "5%", "Amber"),  # within 5 % of the upper end
        ("band", 1.6, 1.8, 2.4, "5%", "Red"),  # below the range by more than 5 %
    ],
)
def test_rough_rag(polarity, actual, target, upper, tolerance, expected) -> None:
    assert demo.rough_rag(actual, target, upper, polarity, tolerance) == expected


# --- Users and the workbook -----------------------------------------------------------------


def test_one_demo_user_per_role() -> None:
    assert {user["role"] for user in demo.DEMO_USERS} == {role.value for role in Role}
    assert len({user["email"] for user in demo.DEMO_USERS}) == len(demo.DEMO_USERS)
    assert demo.DEMO_USERS[0]["name"] == "Demo Director"


@pytest.mark.parametrize(
    ("email", "role", "clearance", "services"),
    [
        ("director", Role.MANAGEMENT_TEAM, Marking.OFFICIAL_SENSITIVE, []),
        ("comms.manager", Role.SERVICE_MANAGER, Marking.OFFICIAL, ["Communications"]),
        ("housing.manager", Role.SERVICE_MANAGER, Marking.OFFICIAL, ["Housing"]),
        ("performance", Role.PERFORMANCE_OFFICER, Marking.OFFICIAL_SENSITIVE, []),
        ("admin", Role.ADMINISTRATOR, Marking.OFFICIAL_SENSITIVE, []),
        ("councillor", Role.COUNCILLOR, Marking.OFFICIAL, []),
    ],
)
def test_demo_users(email: str, role: Role, clearance: Marking, services: list[str]) -> None:
    user = next(u for u in demo.DEMO_USERS if u["email"] == f"{email}@demo.melburyvale.gov.uk")
    assert (user["role"], user["clearance"], user["services"]) == (role, clearance, services)
    assert user["name"].startswith("Demo ")
    assert set(user["services"]) <= SERVICES


def test_demo_workbook_keeps_numbers_as_numbers_and_text_inert(tmp_path: Path) -> None:
    path = tmp_path / "demo.xlsx"
    demo.write_demo_workbook(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Metrics", "Values"]
    metrics_rows = list(book["Metrics"].iter_rows(values_only=True))
    values_rows = list(book["Values"].iter_rows(values_only=True))
    assert list(metrics_rows[0]) == METRIC_HEADERS
    assert list(values_rows[0]) == demo.VALUE_COLUMNS
    assert len(values_rows) - 1 == len(demo.values_frame())
    decimals = METRIC_HEADERS.index("Decimals")
    assert all(isinstance(row[decimals], int) for row in metrics_rows[1:])
    actual = demo.VALUE_COLUMNS.index("Actual")
    assert all(isinstance(row[actual], int | float | None) for row in values_rows[1:])
    commentary = [row[demo.VALUE_COLUMNS.index("Commentary")] for row in values_rows[1:]]
    risky = [text for text in commentary if text and text.lstrip("'")[:1] in "=+-@"]
    assert risky
    assert all(text.startswith("'") for text in risky)
