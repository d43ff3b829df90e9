"""The suite's wait for an AppTest run (conftest joins the script thread instead of Streamlit's
millisecond poll) still sees a run through to its end, and still fails a run that overstays."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def test_a_run_is_read_only_after_it_has_finished() -> None:
    at = AppTest.from_string(
        "import time\nimport streamlit as st\ntime.sleep(0.3)\nst.write('after the wait')"
    ).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["after the wait"]


def test_a_run_past_its_timeout_fails_as_streamlits_own_wait_does() -> None:
    at = AppTest.from_string(
        "import time\nimport streamlit as st\ntime.sleep(0.6)\nst.write('too late')",
        default_timeout=0.1,
    )
    with pytest.raises(RuntimeError, match=r"timed out after 0\.1\(s\)"):
        at.run()
