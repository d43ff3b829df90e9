"""Data quality frames, My month, the chase list on the command line, and e-mailed reminders
received by a real SMTP server on loopback."""

from __future__ import annotations

import socket
from datetime import date

import pytest
from aiosmtpd.controller import Controller
from entry_council import MANAGER, OFFICER, TODAY, build
from sqlalchemy import Engine

from metrics import approval, cli, config, entry, periods, quality, remind, views
from metrics.config import Settings, Smtp
from metrics.queries import entry as entry_queries

MARCH = [periods.parse("2016-03")]


@pytest.fixture
def council(engine: Engine) -> dict[str, int]:
    ids = build(engine)
    for code, actual in (("HOU02", 12), ("HOU03", 7)):
        saved = entry.save_value(
            engine, user=MANAGER, entry=entry.Entry(code, "2016-03", 1, actual=actual), today=TODAY
        )
        entry.submit(engine, user=MANAGER, seen={(code, "2016-03"): saved.version}, today=TODAY)
    approval.return_value(
        engine, user=OFFICER, code="HOU03", period="2016-03", seen_version=3, reason="check it"
    )
    return ids


def grid(engine: Engine) -> object:
    return entry_queries.due_grid(engine, clearance="OFFICIAL", months=MARCH, config=Settings())


def test_chase_list_names_the_officer_and_days_overdue(engine: Engine, council) -> None:
    chase = quality.chase_list(grid(engine), TODAY)
    rows = {row.code: row for row in chase.itertuples()}
    assert set(rows) == {"HOU01", "HOU03", "HOU04", "COM01"}  # HOU02 is in; HOU03 was returned
    # March ends Thu 31st; 10 working days, Good Friday and Easter Monday 2016 left out: 14 April
    assert rows["HOU01"].deadline == date(2016, 4, 14)
    assert (rows["HOU01"].status, rows["HOU01"].days_overdue) == ("Overdue", 36)
    assert rows["HOU01"].responsible_email == "allocations@x.gov.uk"
    assert quality.chase_list(grid(engine), date(2016, 4, 14))["status"].eq("Missing").all()


def test_completeness_awaiting_returned_and_dimensions(engine: Engine, council) -> None:
    frame = grid(engine)
    complete = quality.completeness(frame).set_index(["service", "team"])
    assert complete.loc[("Housing", "Allocations"), ["due", "entered"]].tolist() == [2, 1]
    assert quality.awaiting_approval(frame, TODAY)["code"].tolist() == ["HOU02"]
    back = quality.returned(frame)
    assert back[["code", "return_reason"]].values.tolist() == [["HOU03", "check it"]]
    dims = quality.dimensions(frame, TODAY).set_index("dimension")["figure"]
    assert list(dims.index) == [
        "accuracy",
        "validity",
        "reliability",
        "timeliness",
        "relevance",
        "completeness",
    ]
    assert dims["completeness"] == pytest.approx(1 / 5)
    assert dims["timeliness"] == 0.0  # submitted on 20 May, after the 14 April deadline


def test_my_month_shows_only_the_managers_services_with_versions(engine: Engine, council) -> None:
    month, frame = entry_queries.my_month(engine, user=MANAGER, today=TODAY, config=Settings())
    assert month == "2016-03"  # the earliest still due: no measure is due before its first row
    month, frame = entry_queries.my_month(
        engine, user=MANAGER, month="2016-03", today=TODAY, config=Settings()
    )
    assert set(frame["service"]) == {"Housing"}
    row = frame.set_index("code").loc["HOU03"]
    assert (row["approval"], row["return_reason"], row["version"]) == ("returned", "check it", 4)
    held = frame[frame["actual"].notna()]
    shown = entry.preview(held, held["actual"], config=Settings())
    assert shown["rag"].tolist() == held["rag"].tolist()  # the preview agrees with the status


def test_audit_table_reads_like_a_sentence(engine: Engine, council) -> None:
    rows = entry_queries.audit_rows(engine, entity_key_prefix="HOU03/")
    table = quality.audit_table(rows)
    first = table.iloc[0]
    last = table[table["what"] == "status of HOU03/2016-03"].iloc[-1]
    assert (first["who"], first["what"], first["change"]) == (
        MANAGER.email,
        "actual of HOU03/2016-03",
        "set to 7.0",
    )
    assert (last["change"], last["why"]) == ("from submitted to returned", "check it")
    assert len(last["when"]) == len("30 Nov 2026 14:05")


def test_quality_command_prints_the_chase_list_as_csv(engine, council, monkeypatch, capsys):
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    try:
        code = cli.main(
            ["quality", "--period", "2016-03", "--format", "csv", "--today", "2016-05-20"]
        )
    finally:
        config.settings.cache_clear()
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == "measure,team,responsible_officer,status,days_overdue"
    assert "HOU01 Measure HOU01,Allocations,Head of Allocations,Overdue,36" in lines


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        content = envelope.content.decode("utf8", errors="replace")
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_reminders_reach_each_responsible_officer_through_smtp(engine: Engine, council) -> None:
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        chase = quality.chase_list(grid(engine), TODAY)
        messages = remind.compose(chase, sender="performance@x.gov.uk", council="Melbury Vale")
        sent = remind.send(
            messages, Smtp(host="127.0.0.1", port=port, sender="performance@x.gov.uk")
        )
    finally:
        server.stop()
    assert sent == 3
    by_recipient = {rcpt[0]: content for _, rcpt, content in inbox.received}
    assert set(by_recipient) == {"allocations@x.gov.uk", "repairs@x.gov.uk", "information@x.gov.uk"}
    repairs = by_recipient["repairs@x.gov.uk"]
    assert "Subject: Melbury Vale: 2 performance values overdue" in repairs
    assert "HOU03 Measure HOU03 (Repairs), 2016-03: due 14 Apr 2016, 36 days overdue" in repairs
    assert "HOU01" not in repairs  # each officer sees only their own measures


def test_no_relay_configured_sends_nothing() -> None:
    assert remind.send(["a message"], Smtp()) == 0  # type: ignore[list-item]


def test_csv_bytes_makes_every_text_cell_inert() -> None:
    import pandas as pd

    frame = pd.DataFrame({"code": ["=HYPERLINK(1)", "CP01"], "days_overdue": [-3, 4]})
    lines = quality.csv_bytes(frame).decode("utf-8").splitlines()
    assert lines == ["code,days_overdue", "'=HYPERLINK(1),-3", "CP01,4"]  # numbers stay numbers


def test_the_completeness_heatmap_has_a_row_per_team_and_a_column_per_month() -> None:
    import pandas as pd

    from metrics import charts

    shares = pd.DataFrame(
        {
            "service": ["Housing", "Housing", "Care"],
            "team": ["Options", "Options", "<b>Adults</b>"],
            "month": ["2017-02", "2017-03", "2017-03"],
            "due": [4, 4, 2],
            "entered": [4, 2, 0],
            "share": [1.0, 0.5, 0.0],
        }
    )
    heatmap = charts.completeness_figure(shares).data[0]
    assert list(heatmap.x) == ["February 2017", "March 2017"]  # in month order, in words
    assert list(heatmap.y) == ["Care · &lt;b&gt;Adults&lt;/b&gt;", "Housing · Options"]
    assert heatmap.z[1].tolist() == [100.0, 50.0]


# --- One deadline, bank holidays counted, for the status, the chase list and reminders ------------

SHIPPED = config.load_settings(config.DEFAULT_CONFIG, environ={})  # England and Wales holidays
APRIL = [periods.parse("2016-04")]


@pytest.mark.parametrize(
    ("settings", "today", "expected"),
    [
        # April 2016 ends Saturday 30th; Monday 2 May is a bank holiday: due Monday 16 May
        (SHIPPED, date(2016, 5, 13), "Missing"),  # the deadline if bank holidays were worked
        (SHIPPED, date(2016, 5, 14), "Missing"),  # a weekend inside the window
        (SHIPPED, date(2016, 5, 16), "Missing"),  # the deadline day itself is still on time
        (SHIPPED, date(2016, 5, 17), "Overdue"),  # the day after
        (Settings(), date(2016, 5, 14), "Overdue"),  # no holidays configured: due Friday 13th
    ],
)
def test_every_overdue_judgement_counts_bank_holidays(
    engine: Engine, council, settings: Settings, today: date, expected: str
) -> None:
    status = views.status(
        engine, period="2016-04", clearance="OFFICIAL", today=today, settings=settings
    )
    assert status.set_index("code").loc["HOU02", "rag"] == expected
    month = entry_queries.due_grid(engine, clearance="OFFICIAL", months=APRIL, config=settings)
    chase = quality.chase_list(month, today)
    assert chase.set_index("code").loc["HOU02", "status"] == expected
    reminded = remind.compose(chase, sender="pmitg@x.gov.uk", council="Test")
    to_allocations = [m for m in reminded if m["To"] == "allocations@x.gov.uk"]
    assert bool(to_allocations) == (expected == "Overdue")
