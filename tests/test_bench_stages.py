"""benchmarks/analyzer_stages.py runs for real on a small generated log and prints every stage.

No speed is asserted (BENCHMARKS.md and the lead's runs report it): each stage's row must be
there, in order, with a measured CPU time, and the log generated where it was told to go.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_every_stage_is_measured(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "analyzer_stages.py"), "--size", "256K",
         "--rounds", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    rows = {m.group(1): float(m.group(2))
            for m in re.finditer(r"^\| ([^|]+?) \| ([\d.]+) \|", out, re.MULTILINE)}
    assert list(rows) == ["floor (read + split + json.loads)", "read (files -> log events)",
                          "+ parse", "+ redaction", "+ join", "+ aggregate (= analyze)"]
    assert all(cpu > 0 for cpu in rows.values())
    assert (tmp_path / f"stages-{256 << 10}.log").stat().st_size >= 256 << 10
