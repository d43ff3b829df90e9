"""The public view ([public] enabled): the latest published snapshot's NOT PROTECTIVELY MARKED
measures, frozen rows only, for visitors nobody signed in as. The view in plain pytest; the page
with AppTest: on only when enabled, only what was published, never an OFFICIAL or
OFFICIAL-SENSITIVE canary (in the text or the download), no commentary and no audit."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from committee_council import CANARY, CANARY_NOTE, COMMENTARY, RATED_ON, build, restate
from sqlalchemy import Engine
from sqlmodel import Session, select
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from metrics import snapshots, store, views
from metrics.models import Metric, User
from metrics.publish import transparency
from metrics.publish.licence import LICENCE_NOTE
from metrics.views.public import NO_PRIORITY
from metrics.vocab import Marking, Role

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ESCAPED = re.compile(r"\\(.)")
OFFICIAL_CANARY = "Official wombat yodel measure"  # CP02's title here: OFFICIAL, never public
OFFICER = "pmitg@council.example"
REASON = "late figures from the depot"
PUBLIC = ["CP01", "ME01", "SS01"]  # the NOT PROTECTIVELY MARKED measures of committee_council
NEVER = [CANARY, CANARY_NOTE, OFFICIAL_CANARY, "SS09", "CP02", *COMMENTARY.values(), OFFICER]


def council(engine: Engine) -> None:
    """committee_council, its OFFICIAL measure retitled as a canary."""
    build(engine)
    retitle(engine, "CP02", OFFICIAL_CANARY)


def retitle(engine: Engine, code: str, title: str, marking: str | None = None) -> None:
    with store.write(engine) as session:
        metric = session.exec(select(Metric).where(Metric.code == code)).one()
        metric.title = title
        metric.marking = marking or metric.marking
        session.add(metric)
        store.bump_data_version(session)


def freeze(engine: Engine, period: str, **options: bool) -> int:
    header = snapshots.freeze(
        engine, period=period, title="Performance", actor=OFFICER, today=RATED_ON, **options
    )
    return int(header.id or 0)


def public(engine: Engine) -> views.PublicView | None:
    return views.public_view(engine, council="Melbury Vale")


# --- The view ---------------------------------------------------------------------------------


def test_nothing_is_public_before_the_first_snapshot(engine: Engine) -> None:
    council(engine)
    assert public(engine) is None


def test_the_latest_published_period_shows_only_unmarked_measures(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-02")
    latest = freeze(engine, "2016-03")
    view = public(engine)
    assert view is not None
    assert (view.period, view.snapshot_id, view.published) == (
        "2016-03",
        latest,
        ("2016-02", "2016-03"),
    )
    assert view.measures["Code"].tolist() == PUBLIC
    assert set(view.rows["marking"]) == {Marking.NOT_PROTECTIVELY_MARKED.value}
    cp01 = view.measures.set_index("Code").loc["CP01"]
    assert (cp01["Status"], cp01["Actual"], cp01["Target"]) == ("✖ Red", "40.0 %", "46.0 %")
    assert cp01["Travel"] == "▼ Worsening" and cp01["Why"].startswith("Red:")
    assert cp01["Trend"] == [47.0, 40.0]  # each published month's frozen actual


def test_counts_by_priority_count_what_is_shown(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-03")
    view = public(engine)
    assert view is not None
    counts = view.counts.set_index("Priority")
    assert counts.loc["Places: a clean borough"].to_dict() == {
        "Red": 1, "Amber": 0, "Green": 1, "Data only": 0, "Missing": 0  # CP01 Red, ME01 Green
    }  # fmt: skip
    assert counts.loc[NO_PRIORITY, "Amber"] == 1  # SS01, on its tolerance edge, serves none
    assert view.totals == {"Red": 1, "Amber": 1, "Green": 1, "Data only": 0, "Missing": 0}


def test_the_view_reads_frozen_rows_not_live_values(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-03")
    restate(engine, "CP01", "2016-03", actual=99.0, reason=REASON)
    view = public(engine)
    assert view is not None
    assert view.measures.set_index("Code").loc["CP01", "Actual"] == "40.0 %"
    freeze(engine, "2016-03")  # the next snapshot publishes the restated value
    again = public(engine)
    assert again is not None and again.measures.set_index("Code").loc["CP01", "Actual"] == "99.0 %"


def test_the_newest_period_wins_over_the_newest_snapshot(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-03")
    freeze(engine, "2016-02")  # taken later, for an earlier month
    view = public(engine)
    assert view is not None and view.period == "2016-03"
    assert view.published == ("2016-02", "2016-03")


def test_a_measure_marked_up_since_it_was_published_is_withdrawn(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-03")
    retitle(engine, "ME01", "Days to process a benefit claim", Marking.OFFICIAL_SENSITIVE.value)
    view = public(engine)
    assert view is not None and view.measures["Code"].tolist() == ["CP01", "SS01"]


def test_unapproved_values_are_withheld(engine: Engine) -> None:
    build(engine, status="submitted")
    freeze(engine, "2016-03", include_unapproved=True)
    view = public(engine)
    assert view is not None
    assert view.measures.empty and view.rows.empty
    assert view.withheld == len(PUBLIC)  # counted among public measures only


def test_the_download_holds_the_shown_rows_and_no_canary(engine: Engine) -> None:
    council(engine)
    freeze(engine, "2016-03")
    view = public(engine)
    assert view is not None
    data = transparency.public_csv(view.rows, council=view.council)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [row["measure_code"] for row in rows] == PUBLIC
    assert all(row["licence"].startswith("Open Government Licence v3.0") for row in rows)
    for text in NEVER:
        assert text.encode() not in data, text


# --- The page ---------------------------------------------------------------------------------


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the app at a copy of config.toml with identity mode and [public] enabled set."""
    from metrics.config import settings

    def configure(*, mode: str = "oidc", enabled: bool = True) -> None:
        text = (ROOT / "config.toml").read_text(encoding="utf-8")
        text = text.replace('mode = "demo"', f'mode = "{mode}"')
        text = text.replace("enabled = false", f"enabled = {str(enabled).lower()}")
        (tmp_path / "config.toml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("SCORECARD_CONFIG", str(tmp_path / "config.toml"))
        settings.cache_clear()
        assert settings().public.enabled is enabled and settings().identity_mode == mode

    return configure


@pytest.fixture
def published(app_on: Callable[[], Engine]) -> Engine:
    """The app on committee_council, 2016-02 and 2016-03 published, March's value restated
    since (audited), and a performance officer who can sign in."""
    engine = app_on()
    council(engine)
    freeze(engine, "2016-02")
    freeze(engine, "2016-03")
    restate(engine, "ME01", "2016-03", actual=12.5, reason=REASON)
    with Session(engine) as session:
        session.add(
            User(
                email=OFFICER,
                name="Pat Officer",
                role=Role.PERFORMANCE_OFFICER.value,
                clearance=Marking.OFFICIAL_SENSITIVE.value,
            )
        )
        session.commit()
    return engine


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """Every file a page hands the browser (downloads, the page icon), by mimetype."""
    sent: dict[str, bytes] = {}
    real = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        data = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
        sent[mimetype] = data
        return real(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    yield sent


def visit(user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = user or {"is_logged_in": False}
    return at.run()


def unescape(text: str) -> str:
    return ESCAPED.sub(r"\1", text).replace("\u2060", "")


def shown(at: AppTest) -> str:
    """Every piece of text and table cell the page sent, as one string."""
    parts = [
        str(e.value) for kind in ("markdown", "caption", "title", "subheader") for e in at.get(kind)
    ]
    parts += [e.value for kind in ("error", "info", "warning", "success") for e in at.get(kind)]
    parts += [m.label + " " + str(m.value) for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return unescape("\n".join(parts))


def test_a_visitor_reads_the_published_view_when_it_is_enabled(
    published: Engine, configured: Callable[..., None], downloads: dict[str, bytes]
) -> None:
    configured()
    at = visit()
    assert not at.exception
    assert [unescape(t.value) for t in at.title] == [
        "How Borough of Melbury Vale (demo) is performing"
    ]
    text = shown(at)
    assert LICENCE_NOTE in text and "reported for 2016-03" in text
    assert {m.label: m.value for m in at.metric}["✖ Red"] == "1"
    measures = next(f.value for f in at.dataframe if "Why" in f.value.columns)
    assert measures["Code"].tolist() == PUBLIC
    assert measures.set_index("Code").loc["ME01", "Actual"] == "8.0 days"  # frozen, not 12.5
    [button] = at.get("download_button")
    assert button.proto.label == "Download this data (CSV)"
    data = downloads.pop("text/csv")
    assert set(downloads) == {"image/png"}  # the page icon
    assert data.startswith(b"council,measure_code,") and data.count(b"\r\n") == 1 + len(PUBLIC)
    for secret in [*NEVER, REASON, "analyst@council", "12.5"]:
        assert secret not in text, secret
        assert secret.encode() not in data, secret


def test_the_public_view_is_off_by_default(
    published: Engine, configured: Callable[..., None], downloads: dict[str, bytes]
) -> None:
    configured(enabled=False)
    at = visit()
    assert not at.exception
    assert [unescape(i.value) for i in at.info] == ["Sign in to see the council's performance."]
    assert not at.dataframe and not at.metric and "text/csv" not in downloads
    assert "performing" not in shown(at)


def test_a_signed_in_person_gets_their_own_pages_not_the_public_view(
    published: Engine, configured: Callable[..., None]
) -> None:
    configured()
    at = visit({"is_logged_in": True, "email": OFFICER})
    assert not at.exception
    assert [unescape(t.value) for t in at.title] == ["ME2E dashboard: March 2016"]
    stranger = visit({"is_logged_in": True, "email": "stranger@example.com"})
    assert next(unescape(e.value) for e in stranger.error).startswith("You do not have access")
    assert "performing" not in shown(stranger) and not stranger.dataframe


def test_demo_personas_keep_their_pages_when_the_public_view_is_on(
    published: Engine, configured: Callable[..., None]
) -> None:
    configured(mode="demo")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = OFFICER
    at.run()
    assert not at.exception
    assert [unescape(t.value) for t in at.title] == ["ME2E dashboard: March 2016"]


def test_nothing_published_yet_says_so(
    app_on: Callable[[], Engine], configured: Callable[..., None]
) -> None:
    council(app_on())
    configured()
    at = visit()
    assert not at.exception
    assert [unescape(i.value) for i in at.info] == [
        "The council has not published any performance data yet."
    ]
    assert LICENCE_NOTE in shown(at) and not at.dataframe


def test_the_page_opened_directly_refuses_when_the_view_is_off(
    published: Engine, configured: Callable[..., None]
) -> None:
    configured(enabled=False)
    at = AppTest.from_file(str(ROOT / "pages" / "public.py"), default_timeout=60)
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert "performing" not in shown(at) and not at.dataframe
