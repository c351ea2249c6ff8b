"""benchmarks/bench_bytes.py runs for real in smoke mode and its tables say what they measured.

No byte budget is asserted here (BENCHMARKS.md reports it); the rows must be consistent: the
parts add up to the total, the default ordinary invocation writes no call line, mode all does.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_bytes  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return bench_bytes.run(sys.executable, True, lambda text: None)


def rows(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["row"]: r for r in results["rows"]}


def test_every_row_is_measured_and_adds_up(results: dict[str, Any]) -> None:
    by_name = rows(results)
    assert set(bench_bytes.ROWS) - by_name.keys() <= {
        "lambda-trace before v2 (mode all was the default)"}  # needs git history
    for row in results["rows"]:
        # Means add up exactly (every kind is sized in every invocation, 0 when absent);
        # medians need not: a duration one digit longer in one kind's median invocation.
        parts = sum(k["bytes_mean"] for k in row["by_kind"].values())
        assert parts == pytest.approx(row["bytes_mean"]), row["row"]
        assert row["usd_per_million"] > 0


def test_the_modes_write_what_they_promise(results: dict[str, Any]) -> None:
    by_name = rows(results)
    ordinary = by_name["lambda-trace default, ordinary invocation"]
    assert "call" not in ordinary["by_kind"] and ordinary["emf_docs_median"] == 1
    assert by_name["lambda-trace CALL_LINES=all"]["by_kind"]["call"]["lines_median"] == 6
    slow = by_name["lambda-trace default, slow invocation (every call's line)"]
    assert slow["by_kind"]["call"]["lines_median"] == 6
    assert by_name["Powertools Logger (inject_lambda_context + 1 info line)"]["by_kind"][
        "powertools"]["lines_median"] == 1


def test_series_are_counted_and_rendered(results: dict[str, Any], tmp_path: Path) -> None:
    [ours] = [s for s in results["series"] if s["row"].startswith("lambda-trace default")]
    assert ours["successes"] >= 4 and ours["with_failures"] > ours["successes"]
    text = bench_bytes.render(results)
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(f"# B\n\nprose\n\n{bench_bytes.START}\nSTALE-TABLE\n{bench_bytes.END}\n\nmore\n")
    bench_bytes.write(doc, text)
    written = doc.read_text()
    assert "STALE-TABLE" not in written and written.count(bench_bytes.START) == 1
    assert "prose" in written and "more" in written and "Metric series per function" in written
