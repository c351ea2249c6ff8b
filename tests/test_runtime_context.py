"""Reading the Lambda context defensively: memory limit as a string, missing attributes."""

from __future__ import annotations

from types import SimpleNamespace

from lambda_trace import context
from lambda_trace.testing import FakeContext


def test_memory_limit_string_is_coerced():
    assert context.memory_limit_mb(SimpleNamespace(memory_limit_in_mb="1769")) == 1769
    assert context.memory_limit_mb(SimpleNamespace(memory_limit_in_mb=512)) == 512


def test_bad_or_missing_memory_limit_is_unknown(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", raising=False)
    assert context.memory_limit_mb(SimpleNamespace(memory_limit_in_mb="lots")) is None
    assert context.memory_limit_mb(SimpleNamespace(memory_limit_in_mb="0")) is None
    assert context.memory_limit_mb(None) is None


def test_environment_fills_in_when_the_context_lacks_values(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "from-env")
    assert context.memory_limit_mb(object()) == 1024
    assert context.function_name(object()) == "from-env"


def test_remaining_time_tolerates_broken_doubles():
    def broken():
        raise RuntimeError("no deadline")

    assert context.remaining_ms(SimpleNamespace(get_remaining_time_in_millis=broken)) is None
    assert context.remaining_ms(object()) is None
    assert 0 < context.remaining_ms(FakeContext(timeout_ms=500)) <= 500


def test_request_id():
    assert context.request_id(FakeContext(aws_request_id="abc")) == "abc"
    assert context.request_id(object()) is None
