"""benchmarks/bench_watchdog_gil.py runs for real on a few invocations and prints its table.

No timing is asserted (BENCHMARKS.md's job); what must hold is that every variant ran, the
watchdog-off variant's other threads never switched, and the ``--before`` tree was the one
imported (the worker asserts it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_watchdog_gil  # noqa: E402

pytestmark = pytest.mark.slow


def test_a_small_run_prints_every_variant(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_watchdog_gil.main(["--reps", "1", "--rounds", "1", "--invocations", "5",
                                    "--calls", "2", "--before", "HEAD"]) == 0
    out = capsys.readouterr().out
    rows = dict(re.findall(r"^\| (lambda-trace[^|]*?) \| (.*) \|$", out, re.MULTILINE))
    assert set(rows) == {"lambda-trace (default)", "lambda-trace, watchdog off",
                         "lambda-trace (default) @ HEAD"}, out
    assert rows["lambda-trace, watchdog off"].endswith("| 0.00"), out
    assert "now minus @ HEAD, paired by repetition" in out
