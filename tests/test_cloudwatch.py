"""CloudWatch Logs is read over HTTP (moto, or a loopback server for errors moto cannot produce).

Each failure a user can meet becomes one clear CliError; throttling is retried.
"""

from __future__ import annotations

import argparse
import http.server
import json
import math
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest

from lambda_trace.analyzer import cloudwatch
from lambda_trace.analyzer.cloudwatch import function_log_group, insights_query
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.prefetch import time_slices
from lambda_trace.analyzer.sources import SourceStats, open_sources
from lambda_trace.cli.sources import add_source_arguments

GROUP = "/aws/lambda/orders"
STREAMS = [f"2026/11/27/[$LATEST]{i:032x}" for i in (0xA1, 0xB2, 0xC3)]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


def read(*argv: str, stats: Optional[SourceStats] = None) -> list[LogEvent]:
    return list(open_sources(parse(*argv), stats if stats is not None else SourceStats()))


def put_invocations(moto: Any, now_ms: int, per_stream: int = 4) -> list[tuple[str, int, str]]:
    """Invocations in three streams over the last 40 minutes; returns (stream, ts, message)."""
    logs = moto.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    written = []
    for s, stream in enumerate(STREAMS):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        events = []
        for i in range(per_stream):
            ts = now_ms - 40 * 60_000 + (i * 3 + s) * 60_000
            rid = f"{s:08x}-0000-4000-8000-{i:012x}"
            for offset, message in enumerate(
                [
                    f"START RequestId: {rid} Version: $LATEST\n",
                    "[ERROR] KeyError: 'id'\rTraceback (most recent call last):\r  File \"x.py\"\n",
                    f"END RequestId: {rid}\n",
                    f"REPORT RequestId: {rid}\tDuration: 1.00 ms\t\n"
                    f"XRAY TraceId: 1-{i:08x}-{s:024x}\tSampled: true\n",
                ]
            ):
                events.append({"timestamp": ts + offset, "message": message})
                written.append((stream, ts + offset, message))
        logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=events)
    return written


def test_function_names_and_arns_map_to_their_log_group() -> None:
    """--function takes a name, NAME:ALIAS or an ARN (whose region is used)."""
    assert function_log_group("orders") == ("/aws/lambda/orders", None)
    assert function_log_group("orders:live") == ("/aws/lambda/orders", None)
    assert function_log_group("arn:aws:lambda:eu-west-1:123456789012:function:orders:3") == (
        "/aws/lambda/orders",
        "eu-west-1",
    )


def test_events_are_read_back_whole_from_every_stream(moto: Any) -> None:
    """--function reads the group: every stream, multi-line messages intact, times and names set."""
    now = int(time.time() * 1000)
    written = put_invocations(moto, now)
    stats = SourceStats()
    events = read("--function", "orders", "--since", "1h", stats=stats)
    assert sorted((e.log_stream, e.timestamp_ms, e.message) for e in events) == sorted(written)
    assert {e.log_group for e in events} == {GROUP}
    assert {e.origin for e in events} == {f"cloudwatch:{GROUP}"}
    for stream in STREAMS:  # each stream's events in time order
        times = [e.timestamp_ms for e in events if e.log_stream == stream]
        assert times == sorted(times)
    assert stats.events == len(written) and stats.inputs == 1
    assert stats.bytes_read == sum(len(m.encode()) for _, _, m in written)


def test_the_time_window_is_asked_for(moto: Any) -> None:
    """--since/--until select the events CloudWatch returns, both ends included."""
    now = int(time.time() * 1000)
    written = put_invocations(moto, now)
    start, end = written[4][1], written[20][1]
    events = read("--log-group", GROUP, "--since", str(start), "--until", str(end))
    assert sorted(e.timestamp_ms for e in events) == sorted(
        t for _, t, _ in written if start <= t <= end
    )


def test_pages_are_followed_to_the_end(moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 7 events a page, 48 events take 7 FilterLogEvents requests and all arrive once."""
    monkeypatch.setattr(cloudwatch, "PAGE_LIMIT", 7)
    written = put_invocations(moto, int(time.time() * 1000))
    stats = SourceStats()
    events = read("--function", "orders", "--since", "1h", "--endpoint-url", moto.endpoint,
                  "--fetchers", "1", stats=stats)
    assert len(written) == 48
    assert sorted((e.log_stream, e.timestamp_ms) for e in events) == sorted(
        (s, t) for s, t, _ in written
    )
    assert stats.requests == math.ceil(48 / 7)


def test_insights_prefilter_reads_rows_and_pages_past_its_row_limit(
    moto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--insights runs StartQuery/GetQueryResults; past the row limit the next query goes on
    from the last time read, without repeating rows (moto ignores the filter: only the
    plumbing is tested here)."""
    monkeypatch.setattr(cloudwatch, "INSIGHTS_LIMIT", 5)
    now = int(time.time() * 1000)
    logs = moto.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAMS[0])
    # 23 events, several sharing a millisecond across the 5-row page boundaries
    written = [
        (now - 600_000 + (i // 3) * 1000, f"REPORT RequestId: r{i}\tDuration: {i}.00 ms\n")
        for i in range(23)
    ]
    logs.put_log_events(
        logGroupName=GROUP,
        logStreamName=STREAMS[0],
        logEvents=[{"timestamp": t, "message": m} for t, m in written],
    )
    stats = SourceStats()
    events = read("--function", "orders", "--since", "1h", "--insights", stats=stats)
    assert sorted((e.timestamp_ms, e.message) for e in events) == sorted(written)
    assert {(e.log_stream, e.log_group) for e in events} == {(STREAMS[0], GROUP)}
    assert stats.requests >= 2 * math.ceil(23 / 5)  # StartQuery + GetQueryResults per page


def test_the_insights_query_keeps_what_the_analyzer_uses() -> None:
    """The query selects message, time and stream, filters on the analyzer's lines, oldest first."""
    query = insights_query(100)
    assert query.startswith("fields @timestamp, @message, @logStream, @log, @ptr\n| filter ")
    for needle in (
        '"RequestId:"',
        '"Task timed out"',
        '"ERROR"',
        "'\"lambda_trace\"'",
        "'\"_aws\"'",
        '"platform."',
    ):
        assert needle in query
    assert query.endswith("| sort @timestamp asc\n| limit 100")


def test_a_missing_log_group_is_one_clear_error(moto: Any) -> None:
    """ResourceNotFoundException names the group and the region."""
    with pytest.raises(CliError) as info:
        read("--function", "nope")
    assert str(info.value).startswith("log group /aws/lambda/nope does not exist in us-east-1")
    assert info.value.exit_code == cloudwatch.AWS_EXIT_CODE


def set_auth(moto: Any, count: str) -> None:
    request = urllib.request.Request(
        f"{moto.endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).read()


def test_access_denied_and_unknown_keys_are_told_apart(
    moto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With IAM checks on, a user without logs permissions is denied; an unknown key is rejected."""
    moto.client("logs").create_log_group(logGroupName=GROUP)
    iam = moto.client("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    set_auth(moto, "0")
    try:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        monkeypatch.delenv("AWS_SESSION_TOKEN")
        with pytest.raises(CliError) as denied:
            read("--function", "orders")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
        with pytest.raises(CliError) as unknown:
            read("--function", "orders")
    finally:
        set_auth(moto, "inf")
    assert str(denied.value).startswith(f"access denied reading {GROUP} (AccessDenied): User: ")
    assert "logs:FilterLogEvents" in str(denied.value)
    assert str(unknown.value) == (
        "AWS did not accept the credentials (InvalidClientTokenId): "
        "The security token included in the request is invalid."
    )


def test_missing_credentials_are_one_clear_error(
    moto: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """No keys, no profile, no metadata service: a hint on how to give credentials."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(CliError, match=r"^no AWS credentials found: pass --profile"):
        read("--function", "orders")


def test_an_unknown_profile_and_a_missing_region_are_one_clear_error(
    moto: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """--profile that is not configured, or no region anywhere, say so."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(CliError, match=r"^AWS profile 'nope' is not configured"):
        read("--function", "orders", "--profile", "nope")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(CliError, match=r"^no AWS region: pass --region"):
        read("--function", "orders")


def test_aws_region_alone_is_enough(moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 reads only AWS_DEFAULT_REGION; AWS_REGION (which Lambda sets) is honoured too."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with pytest.raises(CliError, match=r"^log group \S+ does not exist in eu-west-1"):
        read("--function", "orders")


def test_an_unreachable_endpoint_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection refused (a closed loopback port) gives 'cannot reach' with the URL."""
    monkeypatch.setattr(cloudwatch, "SDK_MAX_ATTEMPTS", 1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(CliError, match=rf"^cannot reach CloudWatch Logs: .*127\.0\.0\.1:{port}"):
        read("--function", "orders", "--endpoint-url", f"http://127.0.0.1:{port}")


@dataclass
class FakeLogs:
    """A loopback CloudWatch Logs endpoint answering with queued (status, body) replies."""

    url: str
    replies: list[tuple[int, dict[str, Any]]]
    targets: list[str] = field(default_factory=list)


@pytest.fixture
def fake_logs() -> Iterator[FakeLogs]:
    state = FakeLogs("", [])

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.targets.append(self.headers.get("X-Amz-Target", ""))
            status, body = state.replies.pop(0) if state.replies else (200, {"events": []})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def error(code: str, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    return status, {"__type": code, "message": message}


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "ExpiredTokenException",
            "The security token included in the request is expired",
            "the AWS credentials have expired (ExpiredTokenException): refresh them and try again",
        ),
        (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            "AWS did not accept the credentials (UnrecognizedClientException): "
            "The security token included in the request is invalid.",
        ),
        (
            "AccessDeniedException",
            "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: "
            "logs:FilterLogEvents",
            f"access denied reading {GROUP} (AccessDeniedException): User: "
            "arn:aws:sts::1:assumed-role/r/s is not authorized to perform: logs:FilterLogEvents "
            "— the caller needs logs:FilterLogEvents "
            "(and logs:StartQuery, logs:GetQueryResults for --insights)",
        ),
    ],
)
def test_aws_error_codes_become_one_line_each(
    fake_logs: FakeLogs, code: str, message: str, expected: str
) -> None:
    """Each error AWS sends back is turned into one sentence saying what to do."""
    fake_logs.replies = [error(code, message)]
    with pytest.raises(CliError) as info:
        read("--function", "orders", "--endpoint-url", fake_logs.url)
    assert str(info.value) == expected
    assert info.value.exit_code == cloudwatch.AWS_EXIT_CODE


def test_throttling_is_retried_by_botocore_and_then_by_us(
    fake_logs: FakeLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three throttles in a row outlast botocore's two attempts; our backoff retries the page."""
    monkeypatch.setattr(cloudwatch, "SDK_MAX_ATTEMPTS", 2)
    monkeypatch.setattr(cloudwatch, "THROTTLE_BASE_S", 0.01)
    page = {
        "events": [
            {"logStreamName": "s", "timestamp": 5, "message": "END RequestId: a\n", "eventId": "1"}
        ]
    }
    fake_logs.replies = [error("ThrottlingException", "Rate exceeded")] * 3 + [(200, page)]
    stats = SourceStats()
    events = read("--function", "orders", "--endpoint-url", fake_logs.url, "--fetchers", "1",
                  stats=stats)
    assert events == [LogEvent("END RequestId: a\n", 5, "s", GROUP, f"cloudwatch:{GROUP}")]
    assert fake_logs.targets == ["Logs_20140328.FilterLogEvents"] * 4
    assert stats.requests == 2  # our calls: one throttled past botocore, one that succeeded


def test_throttling_that_never_ends_is_reported(
    fake_logs: FakeLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After our retries run out, the user is told to narrow the window."""
    monkeypatch.setattr(cloudwatch, "SDK_MAX_ATTEMPTS", 1)
    monkeypatch.setattr(cloudwatch, "THROTTLE_BASE_S", 0.001)
    fake_logs.replies = [error("ThrottlingException", "Rate exceeded")] * 20
    with pytest.raises(CliError, match="kept throttling"):
        read("--function", "orders", "--endpoint-url", fake_logs.url, "--fetchers", "1")
    assert len(fake_logs.targets) == cloudwatch.THROTTLE_RETRIES + 1


def test_a_failed_insights_query_is_reported(fake_logs: FakeLogs) -> None:
    """A query that ends Failed is an error, not an empty result."""
    fake_logs.replies = [(200, {"queryId": "q1"}), (200, {"status": "Failed", "results": []})]
    with pytest.raises(CliError, match="ended with status Failed"):
        read("--function", "orders", "--insights", "--endpoint-url", fake_logs.url)
    assert fake_logs.targets == ["Logs_20140328.StartQuery", "Logs_20140328.GetQueryResults"]


def test_slices_of_the_window_read_every_event_once_in_time_order(
    moto: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four slices of the hour, each paged on its own: the same events as one chain, in order."""
    monkeypatch.setattr(cloudwatch, "PAGE_LIMIT", 7)
    used: list[list[tuple[int, int]]] = []

    def recording_slices(start: int, end: int, count: int) -> list[tuple[int, int]]:
        used.append(time_slices(start, end, count))
        return used[-1]

    monkeypatch.setattr(cloudwatch, "time_slices", recording_slices)
    written = put_invocations(moto, int(time.time() * 1000))
    one, four = SourceStats(), SourceStats()
    base = ("--function", "orders", "--since", "1h", "--endpoint-url", moto.endpoint)
    sequential = read(*base, "--fetchers", "1", stats=one)
    sliced = read(*base, "--fetchers", "4", stats=four)
    assert [len(slices) for slices in used] == [1, 4]
    key = lambda e: (e.log_stream, e.timestamp_ms, e.message)  # noqa: E731
    assert sorted(sliced, key=key) == sorted(sequential, key=key)
    assert len(sliced) == len(written) == 48
    # slices come oldest first (within one, moto pages stream by stream; AWS sorts by time)
    slice_of = [max(i for i, (s, _) in enumerate(used[1]) if s <= e.timestamp_ms)
                for e in sliced]
    assert slice_of == sorted(slice_of) and len(set(slice_of)) == 2  # 40…29 minutes ago
    for stream in STREAMS:
        times = [e.timestamp_ms for e in sliced if e.log_stream == stream]
        assert times == sorted(times)
    assert four.requests > one.requests  # each slice pages on its own (an empty one asks once)
    assert (four.events, four.bytes_read) == (one.events, one.bytes_read)


def test_an_event_on_a_slice_boundary_is_read_once(moto: Any) -> None:
    """FilterLogEvents includes both ends of a window; slices end 1 ms before the next starts."""
    now = int(time.time() * 1000)
    start, end = now - 40 * 60_000, now
    [_, (boundary, _), _] = time_slices(start, end, 4)[:3]
    logs = moto.client("logs")
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAMS[0])
    stamps = [boundary - 1, boundary, boundary + 1]
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[0], logEvents=[
        {"timestamp": t, "message": f"line at {t}\n"} for t in stamps
    ])
    events = read("--log-group", GROUP, "--since", str(start), "--until", str(end),
                  "--endpoint-url", moto.endpoint, "--fetchers", "4")
    assert [e.timestamp_ms for e in events] == stamps
