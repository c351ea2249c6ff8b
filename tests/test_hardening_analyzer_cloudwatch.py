"""CloudWatch read errors through the real CLI in a subprocess: one clear line, a non-zero exit.

Access denied comes from a moto server with IAM enforcement on; an expired token and throttling
come from a loopback endpoint answering with CloudWatch's own error documents.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from clocks import now_ms
from test_cloudwatch import FakeLogs, error, fake_logs, set_auth

from lambda_trace.analyzer import cloudwatch

__all__ = ["fake_logs"]  # the fixture, imported for its side effect on pytest

GROUP = "/aws/lambda/orders"


def analyze(endpoint: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", "--log-group", GROUP,
         # one fetcher: the scripted replies answer one chain of requests in order
         "--since", "1h", "--endpoint-url", endpoint, "--fetchers", "1"],
        capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("lambda-trace: error: "), lines
    return lines[0]


def test_a_user_without_filter_log_events_is_told_what_permission_is_missing(
    moto: Any,
) -> None:
    """IAM on, a user with no policy: AccessDenied becomes one line naming the action; exit 3."""
    moto.client("logs").create_log_group(logGroupName=GROUP)
    iam = moto.client("iam")
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    set_auth(moto, "0")
    try:
        done = analyze(moto.endpoint, AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                       AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"], AWS_SESSION_TOKEN="")
    finally:
        set_auth(moto, "inf")
    line = one_error_line(done)
    assert done.returncode == cloudwatch.AWS_EXIT_CODE
    assert f"access denied reading {GROUP}" in line
    assert "logs:FilterLogEvents" in line
    assert done.stdout == ""


def test_an_expired_token_is_one_line_and_a_non_zero_exit(fake_logs: FakeLogs) -> None:
    """ExpiredTokenException says to refresh the credentials; it is not retried."""
    fake_logs.replies = [error("ExpiredTokenException", "The security token is expired")]
    done = analyze(fake_logs.url)
    line = one_error_line(done)
    assert done.returncode == cloudwatch.AWS_EXIT_CODE
    assert "the AWS credentials have expired" in line
    assert len(fake_logs.targets) == 1


def test_throttling_is_retried_until_the_page_comes(fake_logs: FakeLogs) -> None:
    """Two throttled answers, then the events: the report is made and the exit is 0."""
    rid = "0f0e0d0c-0b0a-4000-8000-000000000001"
    now = now_ms()  # the analyzer asks for the last hours: the reply's events are recent
    events = [
        {"logStreamName": "s", "timestamp": now - 1000 + i, "message": text, "eventId": str(i)}
        for i, text in enumerate([
            f"START RequestId: {rid} Version: $LATEST\n",
            f"END RequestId: {rid}\n",
            f"REPORT RequestId: {rid}\tDuration: 12.00 ms\tBilled Duration: 12 ms\t"
            "Memory Size: 128 MB\tMax Memory Used: 50 MB\t\n",
        ])
    ]
    fake_logs.replies = [error("ThrottlingException", "Rate exceeded")] * 2 + [
        (200, {"events": events})
    ]
    done = analyze(fake_logs.url)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert fake_logs.targets == ["Logs_20140328.FilterLogEvents"] * 3
    assert "3 log events" in done.stdout, done.stdout
