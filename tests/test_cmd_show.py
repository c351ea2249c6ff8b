"""Specification of ``lambda-trace show``: one invocation's timeline from files, stdin or
CloudWatch (moto), in the terminal and as JSON; an unknown id is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.invocation_detail import mask_secrets, nest_calls

RID = "3f1c2a9e-7b4d-4e8a-9c6f-0d5e8b7a6c21"
OTHER = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"


def record(**fields: Any) -> str:
    return json.dumps({"lambda_trace": 1, "type": "call", "request_id": RID, **fields})


def invocation_lines(t0: int) -> list[tuple[int, str]]:
    """A cold, failing invocation (text log format) and a neighbour on the same stream."""
    return [
        (t0 - 500, "INIT_START Runtime Version: python:3.12.v38\tRuntime Version ARN: "
                   "arn:aws:lambda:eu-west-1::runtime:0f1e"),
        (t0, f"START RequestId: {RID} Version: $LATEST"),
        (t0 + 2, "loading order https://api.example.com/orders?token=s3cr3t from cache"),
        (t0 + 3, record(name="load_order", kind="segment", start_ms=3.0, duration_ms=40.0)),
        (t0 + 4, record(name="dynamodb.GetItem", kind="aws", start_ms=4.5, duration_ms=12.25)),
        (t0 + 20, record(name="s3.GetObject", kind="aws", start_ms=20.0, duration_ms=21.0,
                         status="error", error_class="NoSuchKey")),
        (t0 + 60, f"[INFO]\t2026-11-18T11:07:10.060Z\t{RID}\tretrying password=hunter2"),
        (t0 + 90, "[ERROR] KeyError: 'order_id'\rTraceback (most recent call last):\r"
                  '\u00a0\u00a0File "/var/task/app.py", line 31, in handler\r'
                  "\u00a0\u00a0\u00a0\u00a0return event['order_id']"),
        (t0 + 95, f"END RequestId: {RID}"),
        (t0 + 95, f"REPORT RequestId: {RID}\tDuration: 95.12 ms\tBilled Duration: 560 ms\t"
                  "Memory Size: 512 MB\tMax Memory Used: 91 MB\tInit Duration: 463.20 ms"),
        (t0 + 900, f"START RequestId: {OTHER} Version: $LATEST"),
        (t0 + 901, "another request's line"),
        (t0 + 905, f"END RequestId: {OTHER}"),
        (t0 + 905, f"REPORT RequestId: {OTHER}\tDuration: 5.00 ms\tBilled Duration: 5 ms\t"
                   "Memory Size: 512 MB\tMax Memory Used: 91 MB\t"),
    ]


def as_file(tmp_path: Path) -> Path:
    from datetime import datetime, timezone

    t0 = 1_795_000_030_000  # clock-ok: written to a file, never sent to a service
    text = ""
    for ts, message in invocation_lines(t0):
        stamp = datetime.fromtimestamp(ts / 1000, tz=timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        text += f"{stamp}\t{message}\n"
    path = tmp_path / "orders.log"
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_whole_invocation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "show", RID, str(as_file(tmp_path)), "--format", "json",
                         "--no-progress")
    assert code == 0, err
    detail = json.loads(out)
    assert detail["schema"] == "lambda-trace/show" and detail["request_id"] == RID
    assert detail["status"] == "error"
    assert detail["report"] == {"duration_ms": 95.12, "billed_duration_ms": 560,
                                "memory_size_mb": 512, "max_memory_used_mb": 91,
                                "init_duration_ms": 463.2, "status": "success"}
    calls = [(c["name"], c["start_ms"], c["duration_ms"], c["depth"]) for c in detail["calls"]]
    assert calls == [("load_order", 3.0, 40.0, 0), ("dynamodb.GetItem", 4.5, 12.25, 1),
                     ("s3.GetObject", 20.0, 21.0, 1)]
    (error,) = detail["errors"]
    assert error["error_type"] == "KeyError" and error["message"] == "'order_id'"
    assert any("app.py" in frame for frame in error["stack"])
    kinds = [(e["type"], e["offset_ms"]) for e in detail["timeline"]]
    assert kinds[0] == ("START", 0.0) and ("END", 95.0) in kinds and ("REPORT", 95.0) in kinds
    logs = [e["text"] for e in detail["timeline"] if e["type"] == "log"]
    # the app lines of this request only, secrets masked, the runtime's error line not repeated
    assert logs == ["loading order https://api.example.com/orders?(withheld) from cache",
                    f"[INFO] 2026-11-18T11:07:10.060Z {RID} retrying password=(withheld)"]
    assert "another request" not in out and OTHER not in out and "hunter2" not in out


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_terminal_timeline_fits_and_keeps_the_id_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    columns: int,
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, err = run(capsys, "show", RID, str(as_file(tmp_path)), "--no-progress")
    assert code == 0, err
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    assert lines[0] == f"Invocation {RID}"
    text = "\n".join(lines)
    for expected in ("status: error", "duration: 95.1 ms", "billed: 560 ms",
                     "memory: 91 of 512 MB", "init: 463 ms (cold start)",
                     "START    version $LATEST",
                     "call     load_order (segment)  40.0 ms",
                     "call       dynamodb.GetItem (aws)  12.2 ms",  # nested in the segment
                     "s3.GetObject (aws)  21.0 ms  error NoSuchKey",
                     "KeyError: 'order_id'", 'File "/var/task/app.py", line 31, in handler'):
        assert expected in text, expected


def test_stdin_works(tmp_path: Path) -> None:
    data = as_file(tmp_path).read_bytes()
    done = subprocess.run([sys.executable, "-m", "lambda_trace", "show", RID, "-",
                           "--format", "json", "--no-progress"],
                          input=data, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["report"]["duration_ms"] == 95.12


def test_an_unknown_id_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "00000000-1111-4222-8333-444444444444"
    code, out, err = run(capsys, "show", missing, str(as_file(tmp_path)), "--no-progress")
    assert code == 2 and out == ""
    assert err == f"lambda-trace: error: request id {missing} is not in the input\n"
    code, _, err = run(capsys, "show", '" OR x', str(as_file(tmp_path)))
    assert code == 2 and err.count("\n") == 1 and "is not a request id" in err


def test_cloudwatch_finds_the_id_and_reads_only_its_stream_around_it(
    moto: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = moto.client("logs")
    group, stream = "/aws/lambda/orders", "2026/11/18/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    noise_stream = "2026/11/18/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    logs.create_log_stream(logGroupName=group, logStreamName=noise_stream)
    t0 = int(time.time() * 1000) - 30 * 60_000
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": ts, "message": message} for ts, message in invocation_lines(t0)])
    # the same stream an hour earlier and another stream: not read in the narrowed window
    logs.put_log_events(logGroupName=group, logStreamName=noise_stream, logEvents=[
        {"timestamp": t0 + 10, "message": "a line of another environment"}])
    calls: list[dict[str, Any]] = []
    from lambda_trace.analyzer import cloudwatch

    real_call = cloudwatch.CloudWatchReader._call

    def spy(self: Any, operation: str, **params: Any) -> dict[str, Any]:
        calls.append({"operation": operation, **params})
        return real_call(self, operation, **params)

    monkeypatch.setattr(cloudwatch.CloudWatchReader, "_call", spy)
    code, out, err = run(capsys, "show", RID, "--function", "orders", "--since", "2h",
                         "--endpoint-url", moto.endpoint, "--format", "json", "--no-progress")
    assert code == 0, err
    detail = json.loads(out)
    assert detail["log_stream"] == stream
    assert [c["name"] for c in detail["calls"]] == ["load_order", "dynamodb.GetItem",
                                                    "s3.GetObject"]
    logs_shown = [e["text"] for e in detail["timeline"] if e["type"] == "log"]
    assert "loading order https://api.example.com/orders?(withheld) from cache" in logs_shown
    assert "a line of another environment" not in out
    # the search for the id reads the 2 h window as slices at once; then one narrowed read
    *search, second = calls
    assert len(search) == 4
    for first in search:
        assert first["filterPattern"] == f'"{RID}"' and "logStreamNames" not in first
    assert second["logStreamNames"] == [stream] and "filterPattern" not in second
    assert second["startTime"] == t0 - 2000 and second["endTime"] == t0 + 95 + 2000


def test_unknown_id_on_cloudwatch(moto: Any, capsys: pytest.CaptureFixture[str]) -> None:
    moto.client("logs").create_log_group(logGroupName="/aws/lambda/orders")
    code, _, err = run(capsys, "show", RID, "--function", "orders", "--endpoint-url",
                       moto.endpoint, "--no-progress")
    assert code == 2 and err == f"lambda-trace: error: request id {RID} is not in the input\n"


def test_segments_nest_and_secrets_are_masked() -> None:
    rows = nest_calls([
        {"name": "outer", "kind": "segment", "start_ms": 0.0, "duration_ms": 100.0},
        {"name": "inner", "kind": "segment", "start_ms": 10.0, "duration_ms": 50.0},
        {"name": "q", "kind": "aws", "start_ms": 20.0, "duration_ms": 5.0},
        {"name": "after", "kind": "aws", "start_ms": 101.0, "duration_ms": 5.0},
    ])
    assert [(r["name"], r["depth"]) for r in rows] == [
        ("outer", 0), ("inner", 1), ("q", 2), ("after", 0)]
    assert mask_secrets("GET https://u:p@h.example/x?a=1 Authorization: Bearer abcdefghij") == (
        "GET https://(withheld)@h.example/x?(withheld) Authorization: (withheld)")
    assert mask_secrets("key AKIAIOSFODNN7EXAMPLE api_key='x y'") == (
        "key (withheld) api_key='(withheld)'")
