"""Issue 17, "Hardening, round 2", analyzer side: nested JSON (item 5), truncated gzip (item 8).

Each case runs the real CLI in a subprocess, with orjson and with the stdlib fallback (orjson
blocked from importing), and checks the exit code, the one-line remark on stderr and that the
rest of the input is still reported.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

RID = "aaaaaaaa-bbbb-4ccc-8ddd-0000000000b1"
REPORT = (f"REPORT RequestId: {RID}\tDuration: 12.00 ms\tBilled Duration: 13 ms\t"
          "Memory Size: 128 MB\tMax Memory Used: 50 MB")

#: run the CLI with orjson importable (as installed) or blocked (the stdlib fallback)
DECODERS = {
    "orjson": "",
    "stdlib": "import sys; sys.modules['orjson'] = None; ",
}


def cli(decoder: str, *argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    code = (DECODERS[decoder] + "import sys; from lambda_trace.analyzer.cli import main; "
            "sys.exit(main())")
    return subprocess.run(
        [sys.executable, "-c", code, *argv], input=stdin.decode() if stdin else None,
        capture_output=True, text=True, timeout=120,
    )


NESTED = {
    "open objects, 1 KB+": '{"a":' * 1000,
    "closed objects, 300 deep": '{"a":' * 300 + "1" + "}" * 300,
    "arrays in an envelope": '{"logEvents":[' + "[" * 2000,
    "a record with a deep value": json.dumps({
        "lambda_trace": 1, "type": "call", "request_id": RID, "name": "x", "kind": "http",
        "start_ms": 1, "duration_ms": 1, "status": "ok"})[:-1] + ',"x":' + "[" * 200
        + "]" * 200 + "}",
    "subscription-style objects": '[{"message":' * 500,
}


def valid_log_with(line: str) -> str:
    return "\n".join([
        f"START RequestId: {RID} Version: $LATEST",
        line,
        f"END RequestId: {RID}",
        REPORT,
    ]) + "\n"


@pytest.mark.parametrize("decoder", sorted(DECODERS))
@pytest.mark.parametrize("shape", sorted(NESTED))
def test_a_deeply_nested_line_is_malformed_and_skipped(
    tmp_path: Path, decoder: str, shape: str
) -> None:
    log = tmp_path / "nested.log"
    log.write_text(valid_log_with(NESTED[shape]), encoding="utf-8")
    done = cli(decoder, "analyze", "--no-progress", "--format", "json", str(log))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["invocations"] == 1  # the rest of the file is still read
    parser = report["input"]["parser"]
    assert parser["malformed"] == 1 and parser["lines"] == 4, parser

    events = cli(decoder, "events", str(log))
    assert events.returncode == 0, events.stderr
    assert "Traceback" not in events.stderr
    types = [json.loads(line)["type"] for line in events.stdout.splitlines()]
    assert types == ["start", "end", "report"]
    assert "1 malformed" in events.stderr


@pytest.mark.parametrize("decoder", sorted(DECODERS))
def test_nested_json_on_stdin_as_in_the_issue(decoder: str) -> None:
    """``python3 -c "print('{\\"a\\":'*1000)" | lambda-trace analyze -``: exit 0, not 1."""
    done = cli(decoder, "analyze", "--no-progress", "-", stdin=('{"a":' * 1000 + "\n").encode())
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "1 malformed" in done.stderr or "malformed" in done.stdout, done.stdout


# -- item 8: a truncated .gz keeps what zlib can decode -----------------------------------------


def _lines(n: int) -> list[str]:
    return [f"2026-11-27T04:59:54.283Z\t{RID}\tINFO\tline {i:07d} " + "x" * 60 for i in range(n)]


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_a_truncated_gzip_keeps_what_zlib_can_decode(tmp_path: Path, cut: float) -> None:
    lines = _lines(40_000)  # ≈ 3.7 MB of text, ≈ 14 of the reader's 256 KB chunks
    data = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    # What zlib itself can recover from the cut stream: the floor the reader must reach.
    recoverable = zlib_recoverable(path.read_bytes())
    complete = recoverable.count(b"\n")
    assert complete > 0
    done = cli("orjson", "analyze", "--no-progress", "--format", "json", str(path))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    # every complete line zlib recovers is read (the cut last line too, as a line of its own)
    assert report["input"]["parser"]["app"] >= complete, (report["input"]["parser"], complete)
    notes = " ".join(report["input"]["sources"]["notes"]) + done.stderr
    assert "gzip data ends" in notes
    assert f"after {len(recoverable)} bytes of log text" in notes, notes
    assert f"compressed byte {path.stat().st_size}" in notes, notes


def zlib_recoverable(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(wbits=31).decompress(data)


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    """Several gzip members back to back (``cat a.gz b.gz``) are one input, all of it read."""
    first, second = _lines(1000), _lines(1500)
    path = tmp_path / "two.log.gz"
    path.write_bytes(gzip.compress(("\n".join(first) + "\n").encode())
                     + gzip.compress(("\n".join(second) + "\n").encode()))
    done = cli("orjson", "analyze", "--no-progress", "--format", "json", str(path))
    assert done.returncode == 0, done.stderr
    assert "gzip" not in done.stderr
    report = json.loads(done.stdout)
    assert report["input"]["parser"]["app"] == 2500
