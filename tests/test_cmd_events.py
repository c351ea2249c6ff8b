"""`lambda-trace events`: one JSON object per recognised event on stdout, a summary on stderr."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from testdata import CORPUS

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.model import COMMON_KEYS, EVENT_KEYS

RID = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"


def run_cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The real command in a child process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "lambda_trace", "events", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


def lines_of(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def test_events_of_a_real_log_file() -> None:
    """Every event of timeouts.log comes out in input order, then the counts on one stderr line."""
    done = run_cli(str(CORPUS / "timeouts.log"))
    assert done.returncode == 0, done.stderr
    events = lines_of(done.stdout)
    assert len(events) == 37
    for event in events:
        assert list(event)[:4] == list(COMMON_KEYS)
        assert set(EVENT_KEYS[event["type"]]) <= event.keys()
    timeouts = [(e["request_id"], e["seconds"]) for e in events if e["type"] == "timeout"]
    assert timeouts == [("fd9bb1b0dfd7", 6.01), ("b47cde10-029a-11e6-b5d6-1f01b70b94b2", 120.0),
                        ("160788cd-45ff-4583-809f-c7e31127cb95", 3.07),
                        ("e94af20e-24ef-4a6e-8d4b-db09a9a705b0", 3.02), (None, 60.0)]
    stderr = done.stderr.decode().splitlines()
    assert len(stderr) == 1
    assert stderr[0].startswith(
        "lambda-trace: 37 events (end 3, init_start 4, report 14, start 11, timeout 5); 47 lines:")
    assert "0 unparsed, 0 malformed" in stderr[0]


def test_type_filter_keeps_only_the_types_asked_for() -> None:
    """--type takes a comma-separated list and can be repeated."""
    done = run_cli(str(CORPUS / "oom_crashes.log"), "--type", "runtime_exit,timeout",
                   "--type", "error")
    assert done.returncode == 0, done.stderr
    kinds = [e["type"] for e in lines_of(done.stdout)]
    assert sorted(set(kinds)) == ["error", "runtime_exit", "timeout"]
    assert kinds.count("runtime_exit") == 7


def test_standard_input_and_a_report_completed_by_its_xray_line() -> None:
    """``-`` reads stdin; the XRAY line of a pasted REPORT is in the printed REPORT."""
    text = (f"START RequestId: {RID} Version: $LATEST\n"
            f"REPORT RequestId: {RID}\tDuration: 2.46 ms\tBilled Duration: 417 ms\t"
            "Memory Size: 1024 MB\tMax Memory Used: 95 MB\tInit Duration: 413.61 ms\t\n"
            "XRAY TraceId: 1-6ac7c67a-1c0aa43118a5d54708c0da61\tSegmentId: 2d54219895e821dd\t"
            "Sampled: true\n")
    done = run_cli("-", stdin=text.encode())
    assert done.returncode == 0, done.stderr
    start, report = lines_of(done.stdout)
    assert (start["type"], start["request_id"], start["version"]) == ("start", RID, "$LATEST")
    assert (report["type"], report["duration_ms"], report["billed_duration_ms"],
            report["init_duration_ms"], report["xray_trace_id"]) == (
        "report", 2.46, 417, 413.61, "1-6ac7c67a-1c0aa43118a5d54708c0da61")


def test_unknown_type_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt --type fails before reading, naming the known types."""
    with pytest.raises(SystemExit) as exc:
        main(["events", "-", "--type", "reprot"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "unknown event type reprot" in err and "report" in err


def test_unreadable_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "nope.log"))
    assert done.returncode == 2
    assert done.stderr.decode().count("\n") == 1
    assert b"Traceback" not in done.stderr and done.stdout == b""


def test_malformed_lines_are_counted_not_fatal(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.log"
    path.write_bytes(b'{"lambda_trace": 1, "type": "call", "name": "s3.G\n\xff\xfe\x00 binary\n'
                     + f"END RequestId: {RID}\n".encode())
    assert main(["events", str(path)]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["type"] for line in out.splitlines()] == ["end"]
    assert "1 unparsed, 1 malformed" in err


def test_events_read_from_cloudwatch(moto: Any) -> None:
    """--function reads /aws/lambda/NAME over the CloudWatch Logs API (a real moto server)."""
    logs = moto.client("logs")
    group, stream = "/aws/lambda/orders", "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000) - 60_000
    record = {"lambda_trace": 1, "type": "call", "request_id": RID, "name": "s3.GetObject",
              "kind": "aws", "duration_ms": 41.5, "status": "ok"}
    messages = [f"START RequestId: {RID} Version: $LATEST\n", json.dumps(record) + "\n",
                f"END RequestId: {RID}\n",
                f"REPORT RequestId: {RID}\tDuration: 50.00 ms\tBilled Duration: 50 ms\t"
                "Memory Size: 128 MB\tMax Memory Used: 64 MB\t\n"]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": m} for i, m in enumerate(messages)])
    done = run_cli("--function", "orders", "--since", "1h", "--endpoint-url", moto.endpoint,
                   "--no-progress")
    assert done.returncode == 0, done.stderr
    events = lines_of(done.stdout)
    assert [e["type"] for e in events] == ["start", "call", "end", "report"]
    assert {e["log_stream"] for e in events} == {stream}
    assert [e["timestamp_ms"] for e in events] == [now, now + 1, now + 2, now + 3]
    assert events[1]["duration_ms"] == 41.5 and events[3]["memory_size_mb"] == 128


def test_a_broken_gzip_input_is_noted_after_the_summary(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Where a .gz input breaks off is told on stderr, after the summary; its lines are kept."""
    # Varied lines, so the first half of the compressed bytes holds whole read chunks.
    text = "".join(f"START RequestId: {uuid.uuid4()} Version: $LATEST\n" for _ in range(40000))
    whole = gzip.compress(text.encode())
    path = tmp_path / "cut.log.gz"
    path.write_bytes(whole[: len(whole) // 2])
    assert main(["events", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.count('"type":"start"') > 0
    summary, note = err.splitlines()
    assert summary.startswith("lambda-trace: ") and "events (start" in summary
    assert note.startswith(f"lambda-trace: {path}: gzip data ends or breaks after ")


def test_the_decompression_limit_is_noted(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """An input cut at --max-decompressed says so on stderr."""
    path = tmp_path / "big.log.gz"
    path.write_bytes(gzip.compress(f"END RequestId: {RID}\n".encode() * 1000))
    assert main(["events", "--max-decompressed", "1K", str(path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "1 input cut at the size limit" in err[0]
    assert err[1].startswith(f"lambda-trace: {path}: stopped after 1024 bytes of log text")
