"""``analyze --jobs N``: the report of N processes is the serial one, byte for byte.

The logs come from the benchmark's generator (several execution environments, Text and JSON
log formats, errors, timeouts, OOM kills) with hostile lines added; the ranges are forced small
so a log of a few hundred kB is really cut.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from lambda_trace.analyzer import parallel
from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.sourcestats import SourceStats

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

import gen_logs  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="--jobs needs fork()"),
    # Python 3.12 warns when a multi-threaded process forks. Here the threads are pytest-xdist's
    # (execnet), not the CLI's: `lambda-trace analyze --jobs 2` forks from a single thread and
    # prints no such warning.
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

HOSTILE = [
    b'{"lambda_trace": 1, "type": "call", "request_id": "cut-short',  # JSON cut short
    b"\xff\xfe not utf-8 \xc3",  # undecodable bytes
    b"",  # a blank line
    b"just a print() line",
    b'{"level": "ERROR", "message": "pretty',  # a JSON document that never closes
    b"[ERROR] KeyError: 'x'",
    b"x" * 300,
]


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_RANGE_BYTES", 1)


def hostile_log(path: Path, *, seed: int, size: int = 1_500_000) -> Path:
    """A generated log with a malformed or odd line after every 40th line."""
    gen_logs.generate(path, size, seed=seed)
    rng = random.Random(seed)
    out = []
    for i, line in enumerate(path.read_bytes().split(b"\n")):
        out.append(line)
        if i % 40 == 39:
            out.append(rng.choice(HOSTILE))
    path.write_bytes(b"\n".join(out))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["analyze", "--no-progress", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ranges_used(path: Path, jobs: int) -> str:
    args = argparse.Namespace(paths=[str(path)], max_decompressed=0)
    analysis, how = parallel.analyze_file(args, SourceStats(), jobs)
    assert analysis is not None, how
    return how


@pytest.mark.parametrize("fmt", ["json", "terminal"])
@pytest.mark.parametrize("jobs", [2, 3])
def test_jobs_give_the_serial_report_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, jobs: int
) -> None:
    log = hostile_log(tmp_path / "big.log", seed=11)
    serial = run(capsys, "--format", fmt, str(log))
    parallel_run = run(capsys, "--format", fmt, "--jobs", str(jobs), str(log))
    assert serial[0] == 0
    assert parallel_run == serial
    assert "malformed" in serial[1] or "malformed" in serial[2] or fmt == "terminal"
    assert ranges_used(log, jobs) == f"{jobs} of {jobs} ranges parsed apart"


def test_counts_of_skipped_lines_stay_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = hostile_log(tmp_path / "big.log", seed=12)
    _, serial, _ = run(capsys, "--format", "json", str(log))
    _, split, _ = run(capsys, "--format", "json", "--jobs", "3", str(log))
    assert split == serial
    assert '"undecodable_lines": 0' not in serial  # the hostile bytes were counted


def test_a_crlf_file_without_a_final_newline_splits_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = hostile_log(tmp_path / "dos.log", seed=18)
    log.write_bytes(log.read_bytes().replace(b"\n", b"\r\n").rstrip(b"\r\n"))
    serial = run(capsys, "--format", "json", str(log))
    assert run(capsys, "--format", "json", "--jobs", "3", str(log)) == serial
    assert ranges_used(log, 3) == "3 of 3 ranges parsed apart"


def with_lines_before_each_start(log: Path, seed: int, inserted: list[bytes]) -> Path:
    """A generated log with ``inserted`` before every line that begins an environment."""
    gen_logs.generate(log, 1_500_000, seed=seed)
    lines: list[bytes] = []
    for line in log.read_bytes().split(b"\n"):
        if line.startswith(b"INIT_START") or b'"platform.initStart"' in line:
            lines += inserted
        lines.append(line)
    log.write_bytes(b"\n".join(lines))
    return log


@pytest.mark.parametrize(("seed", "inserted"), [
    # A console timestamp line before every INIT_START dates it: no cut is clean there.
    (13, [b"2026-11-27T00:00:00.000Z"]),
    # A time then a tab dates every later line without one, the next INIT_START included: the
    # reader hands that line on alone, but the parser's state at it is not a fresh parser's.
    (17, [b"2026-11-27T00:00:00.000Z\t", b"a print"]),
], ids=["reader-state", "parser-state"])
def test_a_cut_the_serial_run_would_read_differently_is_read_through(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int, inserted: list[bytes]
) -> None:
    log = with_lines_before_each_start(tmp_path / "stamped.log", seed, inserted)
    serial = run(capsys, "--format", "json", str(log))
    assert run(capsys, "--format", "json", "--jobs", "2", str(log)) == serial
    assert ranges_used(log, 2) == "1 of 2 ranges parsed apart"


def test_a_file_without_a_cut_point_is_read_serially(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "warm.log"
    gen_logs.generate(log, 600_000, seed=14)
    kept = [line for line in log.read_bytes().split(b"\n")
            if not (line.startswith(b"INIT_START") or b'"platform.initStart"' in line)]
    log.write_bytes(b"\n".join(kept))
    code, out, err = run(capsys, "--format", "json", str(log))
    code2, out2, err2 = run(capsys, "--format", "json", "--jobs", "2", str(log))
    assert (code2, out2) == (code, out)
    assert err2 == ("lambda-trace: --jobs: no place to cut the file between execution "
                    "environments; reading serially\n") + err


def test_standard_input_is_read_serially(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "big.log", seed=15, size=150_000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def analyze(*argv: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "lambda_trace.analyzer.cli", "analyze", "--no-progress",
             "--format", "json", *argv, "-"],
            input=log.read_bytes(), capture_output=True, env=env, check=False, timeout=120)

    serial, split = analyze(), analyze("--jobs", "2")
    assert serial.returncode == split.returncode == 0
    assert split.stdout == serial.stdout
    assert b"only one file (not standard input) is split" in split.stderr


def test_the_cli_forks_from_one_thread(tmp_path: Path) -> None:
    """A real run, at the real minimum range size, every warning shown: Python 3.12 warns
    (DeprecationWarning, on stderr; ``-W error`` does not turn this one into an exception) when a
    multi-threaded process forks, and the CLI must not be one."""
    log = tmp_path / "big.log"
    gen_logs.generate(log, 12 << 20, seed=19)  # three real 4 MB ranges (the fixture sets 1)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    split = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", "-m", "lambda_trace", "analyze",
         "--no-progress", "--format", "json", "--jobs", "2", str(log)],
        capture_output=True, env=env, check=False, timeout=120)
    assert split.returncode == 0, split.stderr.decode()
    assert b"reading serially" not in split.stderr and b"multi-threaded" not in split.stderr
    assert ranges_used(log, 2) == "2 of 2 ranges parsed apart"


@pytest.mark.parametrize("value, message", [
    ("0", "must be 1 or more: '0'"),
    ("-2", "must be 1 or more: '-2'"),
    ("two", "not a whole number: 'two'"),
])
def test_a_bad_jobs_value_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    log = tmp_path / "f.log"
    log.write_text("START RequestId: x\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", "--jobs", value, str(log)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --jobs: {message}" in err


def test_cuts_fall_on_lines_that_start_an_environment(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    gen_logs.generate(log, 1_500_000, seed=16)
    data = log.read_bytes()
    cuts = parallel.find_cuts(str(log), 4, min_range=1)
    assert len(cuts) == 3
    assert [c.offset for c in cuts] == sorted({c.offset for c in cuts})
    for cut in cuts:
        assert data[cut.offset - 1:cut.offset] == b"\n"
        line = data[cut.offset:cut.offset + cut.size]
        assert line.endswith(b"\n") and line.decode()[:-1] == cut.line
        assert cut.line.startswith("INIT_START ") or '"type":"platform.initStart"' in cut.line
