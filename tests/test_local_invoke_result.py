"""What an invocation returns: its payload as JSON, and how a runtime's exit is worded."""

from __future__ import annotations

import signal

import pytest

from lambda_trace.local.invoke_result import InvokeResult, exit_reason


def result(payload: bytes) -> InvokeResult:
    return InvokeResult(
        request_id="r", outcome="success", payload=payload, error_type=None, duration_ms=1.0,
        billed_duration_ms=1, max_memory_used_mb=40, init_duration_ms=None, cold_start=False,
        log_stream="s",
    )  # fmt: skip


def test_the_response_is_the_payload_as_json_or_none() -> None:
    assert result(b'{"statusCode": 200}').response() == {"statusCode": 200}
    assert result(b"").response() is None
    assert result(b"not json").response() is None


@pytest.mark.parametrize(
    ("returncode", "words"),
    [
        (None, "signal: killed"),
        (-signal.SIGKILL, "signal: killed"),
        (-signal.SIGSEGV, "signal: segmentation fault"),
        (-signal.SIGABRT, "signal: aborted"),
        (-signal.SIGTERM, "signal: terminated"),
        (-signal.SIGUSR1, "signal: sigusr1"),
        (-200, "signal: 200"),
        (0, "exit status 0"),
        (3, "exit status 3"),
    ],
)
def test_an_exit_is_worded_as_lambda_words_it(returncode: int | None, words: str) -> None:
    assert exit_reason(returncode) == words
