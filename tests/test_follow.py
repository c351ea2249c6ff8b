"""``lambda-trace analyze --follow``: a live tail of CloudWatch Logs (moto) with the analysis.

Events are written to moto while the tail runs; the tail ends by itself (--follow-max-seconds)
or on SIGINT (Ctrl-C), and prints the final report either way.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.follow import LiveAnalysis, Tail
from lambda_trace.analyzer.model import LogEvent

GROUP = "/aws/lambda/orders"
STREAM = "2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef"
ROOT = Path(__file__).resolve().parent.parent


def invocation(rid: str, ts: int, *, timeout: bool = False) -> list[dict[str, Any]]:
    call = {"lambda_trace": 1, "type": "call", "request_id": rid, "name": "dynamodb.GetItem",
            "kind": "aws", "start_ms": 1.0, "duration_ms": 12.5, "status": "ok"}
    lines = [f"START RequestId: {rid} Version: $LATEST", json.dumps(call)]
    if timeout:
        lines += [f"END RequestId: {rid}",
                  f"REPORT RequestId: {rid}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
                  "Memory Size: 128 MB\tMax Memory Used: 60 MB\tStatus: timeout",
                  f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ts / 1000))}.000Z {rid} "
                  "Task timed out after 3.00 seconds"]
    else:
        lines += [f"END RequestId: {rid}",
                  f"REPORT RequestId: {rid}\tDuration: 20.00 ms\tBilled Duration: 20 ms\t"
                  "Memory Size: 128 MB\tMax Memory Used: 60 MB\t"]
    return [{"timestamp": ts + i, "message": line} for i, line in enumerate(lines)]


def rid(i: int) -> str:
    return f"{i:08x}-aaaa-4bbb-8ccc-dddddddddddd"


def setup_group(moto: Any) -> Any:
    logs = moto.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    return logs


def write_later(logs: Any, batches: list[tuple[float, list[dict[str, Any]]]]) -> threading.Thread:
    def run() -> None:
        for delay, events in batches:
            time.sleep(delay)
            logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM, logEvents=events)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_events_written_while_following_are_in_the_final_report(
    moto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = setup_group(moto)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                        logEvents=invocation(rid(1), now - 60_000))  # before the tail started
    writer = write_later(logs, [
        (0.6, invocation(rid(2), now + 500)),
        (0.6, invocation(rid(3), now + 1500) + invocation(rid(4), now + 1600, timeout=True)),
    ])
    code = main(["analyze", "--function", "orders", "--follow", "--since", "2m",
                 "--follow-interval", "0.3", "--follow-max-seconds", "4",
                 "--endpoint-url", moto.endpoint, "--format", "json", "--no-progress"])
    writer.join()
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["invocations"] == 4 and report["timeouts"] == 1
    (dep,) = report["dependencies"]
    assert dep["name"] == "dynamodb.GetItem" and dep["calls"] == 4
    statuses = [line for line in err.splitlines() if "following /aws/lambda/orders" in line]
    # the status line grew as the events arrived (one line per change, not per poll)
    counts = [int(line.split(": ")[2].split(" ")[0]) for line in statuses]
    assert counts == sorted(counts) and counts[0] < 4 and len(set(counts)) >= 2, statuses


def test_ctrl_c_prints_the_final_report(moto: Any, tmp_path: Path) -> None:
    logs = setup_group(moto)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                        logEvents=invocation(rid(7), now - 5000))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_trace", "analyze", "--function", "orders", "--follow",
         "--follow-interval", "0.2", "--endpoint-url", moto.endpoint, "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # wait until the tail has seen the first invocation, then write one more and stop it
        assert proc.stderr is not None
        first = proc.stderr.readline()
        while "1 invocation," not in first:
            first = proc.stderr.readline()
            assert first, "the tail ended early"
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                            logEvents=invocation(rid(8), int(time.time() * 1000)))
        line = proc.stderr.readline()
        while "2 invocations" not in line:
            line = proc.stderr.readline()
            assert line, "the tail ended early"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out.startswith("lambda-trace report")
    assert re.search(r"^\s+invocations\s+cold starts.*\n.*\n\s+2\s+0\s+0\s+0\s", out, re.M)
    assert "Read: 1 input, " in out and ", 8 log events," in out  # each event counted once
    assert "dynamodb.GetItem" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_an_invocation_is_final_one_poll_after_its_report() -> None:
    """The late ``Task timed out`` line of the same poll still counts for its invocation."""
    live = LiveAnalysis()
    events = [LogEvent(e["message"], e["timestamp"], STREAM, GROUP)
              for e in invocation(rid(5), 1_000_000, timeout=True)]
    live.feed(events[:-1])
    assert live.agg.invocations == 0  # completed, but a later line may still belong to it
    live.feed(events[-1:])
    live.feed([])
    assert live.agg.invocations == 1 and live.agg.timeouts == 1
    assert [f["request_id"] for f in live.failures] == [rid(5)]


def test_the_tail_reads_each_event_once_across_overlapping_polls(moto: Any) -> None:
    from lambda_trace.analyzer.cloudwatch import CloudWatchQuery
    from lambda_trace.analyzer.sourcestats import SourceStats
    from lambda_trace.analyzer.timewindow import TimeWindow

    logs = setup_group(moto)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                        logEvents=invocation(rid(1), now - 3000))
    query = CloudWatchQuery(log_groups=(GROUP,), window=TimeWindow(None, None),
                            endpoint_url=moto.endpoint)
    tail = Tail(query, SourceStats(), now - 60_000)
    first = list(tail.poll())
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                        logEvents=invocation(rid(2), now - 1000))
    second = list(tail.poll())
    third = list(tail.poll())
    assert len(first) == 4 and len(second) == 4 and third == []
    assert {rid(2) in e.message for e in second if "RequestId" in e.message} == {True}


@pytest.mark.parametrize("argv, message", [
    (["x.log"], "--follow reads CloudWatch Logs: give --function or --log-group, not files"),
    (["--function", "f", "--insights"],
     "--follow reads with FilterLogEvents; leave out --insights"),
    (["--function", "f", "--until", "1h"], "--follow reads until Ctrl-C; leave out --until"),
])
def test_follow_needs_cloudwatch(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", "--follow", *argv]) == 2
    assert capsys.readouterr().err == f"lambda-trace: error: {message}\n"


def test_on_a_terminal_the_live_view_is_drawn_and_then_replaced_by_the_report(moto: Any) -> None:
    """stdout is a pseudo-terminal of 100 columns: rich's Live view shows the analysis, and the
    final report follows it when the tail ends."""
    import fcntl
    import pty
    import struct
    import termios

    logs = setup_group(moto)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAM,
                        logEvents=invocation(rid(9), now - 5000))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(PYTHONPATH=str(ROOT), TERM="xterm-256color")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambda_trace", "analyze", "--function", "orders", "--follow",
         "--follow-interval", "0.3", "--follow-max-seconds", "2", "--endpoint-url",
         moto.endpoint, "--no-progress"],
        stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "following /aws/lambda/orders (Ctrl-C stops and prints the report)" in plain
    assert "invocations: 1   failed: 0" in plain
    live_at = plain.index("following /aws/lambda/orders (Ctrl-C")
    report_at = plain.rindex("lambda-trace report")
    assert live_at < report_at  # the final report comes after the live view
    assert "\x1b[" in screen  # drawn as a terminal, with cursor control and colour
