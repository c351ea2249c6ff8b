"""``scripts/check_clock_literals.py`` finds fixed timestamps in tests that talk to a service."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_clock_literals.py"

TALKS_TO_MOTO = '''
def test_sends(moto):
    client = moto.client("logs")
    client.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
        {"timestamp": STAMP, "message": "x"}])
'''


def check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, paths)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def test_the_repositorys_tests_have_no_clock_bomb():
    """Every test that sends timestamps to moto, an endpoint or the Runtime API builds them."""
    done = check()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    ("literal", "moment"),
    [
        ("1_795_000_000_000", "2026-11-18T11:06:40Z"),  # epoch ms, the literal issue 9 found
        ("1795000000000", "2026-11-18T11:06:40Z"),
        ("1_800_000_000", "2027-01-15T08:00:00Z"),  # epoch seconds
        ("1795000000.123", "2026-11-18T11:06:40Z"),  # float seconds
    ],
)
def test_a_planted_literal_is_caught_with_its_line_and_date(tmp_path: Path, literal, moment):
    test = tmp_path / "test_planted.py"
    test.write_text(TALKS_TO_MOTO.replace("STAMP", literal))
    done = check(tmp_path)
    assert done.returncode == 1
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"{test}:5: epoch-like literal {literal} ({moment})")
    assert "1 clock bomb(s)" in done.stderr


def test_a_literal_in_an_offline_test_is_allowed(tmp_path: Path):
    """A parser test on saved log text may keep the timestamps the text had."""
    (tmp_path / "test_offline.py").write_text("def test_parse():\n    assert 1795000000000\n")
    assert check(tmp_path).returncode == 0


def test_a_line_that_says_why_is_allowed(tmp_path: Path):
    source = TALKS_TO_MOTO.replace("STAMP", "1795000000000")
    source = source.replace('"message": "x"}])', '"message": "x"}])  # clock-ok: rejection test')
    (tmp_path / "test_pragma.py").write_text(source)
    assert check(tmp_path).returncode == 0


def test_durations_and_sizes_are_not_timestamps(tmp_path: Path):
    """Numbers outside the epoch ranges (an hour in ms, 1 MB, an account id string) pass."""
    source = TALKS_TO_MOTO.replace("STAMP", "3_600_000 + 1_048_576 + int('123456789012')")
    (tmp_path / "test_numbers.py").write_text(source)
    assert check(tmp_path).returncode == 0


def test_a_missing_path_is_a_usage_error(tmp_path: Path):
    done = check(tmp_path / "nope")
    assert done.returncode == 2 and "no such file or directory" in done.stderr
