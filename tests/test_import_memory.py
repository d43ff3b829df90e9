"""An import's memory grows with its file, not with the database (issue 12): the same workbook
imported into a database holding no values and into one holding 100,000 peaks within a few
megabytes. Once, the import read every held value of the measures its file named, so each
100,000 values held cost it about 200 MB more."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import import_memory as bench  # benchmarks/ is not a package: found on the path above

MARGIN_MIB = 40  # RSS noise between two runs of the same import is a few MiB


@pytest.mark.slow
def test_import_memory_does_not_grow_with_the_database(
    make_engine: Callable[[], Engine], tmp_path: Path
) -> None:
    path = tmp_path / "council.xlsx"
    bench.write_workbook(path, metrics=200, months=24)  # 4,800 value rows
    peaks = {}
    for held in (0, 100_000):
        engine = make_engine()
        bench.build_database(engine, tmp_path, metrics=200, held=held)
        url = engine.url.render_as_string(hide_password=False)
        result = bench.import_apart(path, url)
        peaks[held] = result["peak_mib"]
    grew = peaks[100_000] - peaks[0]
    assert grew < MARGIN_MIB, f"peak {peaks[0]:.0f} MiB with none held, {peaks[100_000]:.0f} MiB"
