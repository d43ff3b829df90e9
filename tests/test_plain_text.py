"""User and measure text is shown as plain text: never markup, a link, an icon or a colour.

Streamlit renders Markdown in the browser, and some of its transforms run on the text *after*
backslash escapes are resolved (GFM autolinks for `https://`, `www.` and e-mail addresses,
emoji and `:material/...:` icon shortcodes, `:streamlit:`, `->` arrows). `ui.plain` escapes
every ASCII punctuation character and puts an invisible word joiner (U+2060) where one of those
patterns would match. These tests model what the browser does with the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics.models import Metric, PeriodValue, Priority, Service, User
from metrics.vocab import Marking, Role
from pages._ui import WORD_JOINER, plain

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = [
    "https://evil.example/x",
    "www.example.com",
    ":material/warning:",
    ":red[x]",
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "**bold**",
]
# What the browser's Markdown would turn into something other than the literal text, once the
# backslash escapes are resolved: the patterns of its text transforms (remark-gfm autolinks,
# remark-emoji and Streamlit's icon, logo and arrow replacements).
ACTIVE_IN_TEXT = [
    re.compile(r"(https?://|www(?=\.))", re.IGNORECASE),
    re.compile(r"[-.\w+]+@[-\w]+(\.[-\w]+)+"),
    re.compile(r":[\w+-]+:"),
    re.compile(r":material/"),
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
]
PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


def shown(body: str) -> str:
    """The text the reader sees: escapes resolved, word joiners invisible."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body).replace(WORD_JOINER, "")


def assert_inert(body: str) -> None:
    """Every punctuation character is escaped (no markup, HTML, directive or link syntax) and
    no text transform the browser applies after escaping can match."""
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", body)
    assert not PUNCTUATION.search(unescaped), body
    resolved = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", body)
    for pattern in ACTIVE_IN_TEXT:
        assert not pattern.search(resolved), (pattern.pattern, body)
    assert ":material/" not in body, body  # Streamlit rewrites this before parsing
    assert not body.startswith(("    ", "\t")), body  # an indented code block


@pytest.mark.parametrize(
    "text",
    [
        *HOSTILE,
        "someone@example.gov.uk",  # an e-mail autolink
        ":smile: and :streamlit:",  # emoji and the Streamlit logo
        "bins -> recycling <- waste >= landfill -- <-> ~= <=",  # typographic arrows
        ":+1: :-1: WWW.example.org",
        "# Heading",
        "1. not a list",
        "> not a quote",
        "a | table | row",
        "$x^2$ is not maths",
        "&amp; is not an entity",
        "~~not struck~~ and `not code`",
        "C:\\path\\to\\file",
        "71.2 % of 80 % (5 % tolerance)",
        "",
    ],
)
def test_plain_shows_text_literally_and_inert(text: str) -> None:
    body = plain(text)
    assert shown(body) == text
    assert_inert(body)


def test_plain_of_nothing_is_empty() -> None:
    assert plain(None) == ""


# --- On the metric page ---------------------------------------------------------------------

PAYLOAD = " ".join(HOSTILE)
READER = "reader@example.gov.uk"


@pytest.fixture
def hostile_measure(app_on: Callable[[], Engine]) -> Engine:
    """A measure whose title, commentary and corrective action hold every hostile text."""
    engine = app_on()
    with Session(engine) as session:
        priority, service = Priority(code="P1", name="Safe"), Service(code="S1", name="Care")
        reader = User(email=READER, name="Reader", role=Role.MANAGEMENT_TEAM.value)
        session.add_all([priority, service, reader])
        session.flush()
        metric = Metric(
            code="CP01",
            title=f"Bins {PAYLOAD}",
            tier="Corporate Plan",
            marking=Marking.OFFICIAL.value,
            priority_id=priority.id,
            service_id=service.id,
        )
        session.add(metric)
        session.flush()
        session.add(
            PeriodValue(
                metric_id=metric.id,
                period="2016-03",
                fiscal_year="2015-16",
                period_end=date(2016, 3, 31),
                actual=3.0,
                target=5.0,
                commentary=f"Said {PAYLOAD}",
                corrective_action=f"Do {PAYLOAD}",
                status="approved",
            )
        )
        session.commit()
    return engine


def markdown_bodies(at: AppTest) -> list[str]:
    """Every Markdown body the page sent: text, captions, titles, labels and badges."""
    bodies = [
        str(e.value) for kind in ("markdown", "caption", "title", "subheader") for e in at.get(kind)
    ]
    bodies += [e.value for kind in ("error", "info", "warning") for e in at.get(kind)]
    bodies += [m.label for m in at.metric]
    return bodies


def test_hostile_text_on_the_metric_page_is_shown_literally(hostile_measure: Engine) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["persona"] = READER
    at.query_params["metric"] = "CP01"
    at.query_params["period"] = "2016-03"
    at.run()
    assert not at.exception
    carrying = [body for body in markdown_bodies(at) if "evil" in body]
    seen = "\n".join(shown(body) for body in carrying)
    assert f"Bins {PAYLOAD}" in seen  # the title
    assert f"Said {PAYLOAD}" in seen  # the commentary
    assert f"Do {PAYLOAD}" in seen  # the corrective action
    for body in carrying:
        for text in (f"Bins {PAYLOAD}", f"Said {PAYLOAD}", f"Do {PAYLOAD}"):
            start = shown(body).find(text)
            if start >= 0:
                assert_inert(plain(text))
                assert plain(text) in body
    # the periods table holds the commentary as a plain cell
    table = next(frame.value for frame in at.dataframe if "Commentary" in frame.value.columns)
    assert table["Commentary"].iloc[0] == f"Said {PAYLOAD}"
