"""Issue 17, "Hardening, round 2": one regression test per break, in-process (runtime).

The subprocess cases (fd 1 reused, SIGPIPE, faulthandler's last word) are in
``test_hardening_round2_process.py``; the analyzer's in ``test_hardening_analyzer_round2.py``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from lambda_trace import trace
from lambda_trace.testing import FakeContext, invoke, validate_record


def sentinel() -> str:
    return f"SENTINEL{uuid.uuid4().hex}"


# -- item 3: redaction misses common secret forms -----------------------------------------------


@pytest.mark.parametrize("shape", [
    "refresh_token={s}", "client_secret={s}", "id_token: {s}", "session_token={s}",
    "db_password={s}", "aws_secret_access_key={s}", "passwd={s}", "pwd={s}",
    '{{"refresh_token": "{s}"}}', "SecretString='{s}'", "postgres://u:{s}@h/db",
    "Authorization: Token {s}", "cookie: sid={s}", "user:{s}@127.0.0.1",
])
def test_exception_messages_lose_every_secret_form(shape: str) -> None:
    secret = sentinel()

    @trace
    def handler(event: Any, context: Any) -> None:
        raise RuntimeError("request failed: " + shape.format(s=secret))

    cap = invoke(handler)
    assert isinstance(cap.error, RuntimeError)
    (record,) = cap.invocations
    validate_record(record)
    assert secret not in json.dumps(record)
    assert "(withheld)" in record["error_message"]
    assert record["error_message"].startswith("request failed: ")


# -- item 2: S3 object keys in error messages and resources -------------------------------------


def test_botocore_timeout_message_keeps_the_bucket_not_the_key() -> None:
    from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

    email = f"{sentinel()}@example.com"
    url = f"http://127.0.0.1:5000/invoices/u/{email}/file.pdf"

    @trace
    def timeout(event: Any, context: Any) -> None:
        raise ReadTimeoutError(endpoint_url=url)

    @trace
    def refused(event: Any, context: Any) -> None:
        raise EndpointConnectionError(endpoint_url=url.replace("127.0.0.1:5000/invoices",
                                                               "invoices.s3.amazonaws.com"))

    for handler, host in ((timeout, "127.0.0.1:5000/invoices"), (refused, "s3.amazonaws.com")):
        cap = invoke(handler)
        (record,) = cap.invocations
        assert email.split("@")[0] not in json.dumps(record)
        assert host in record["error_message"] and "(withheld)" in record["error_message"]


def test_access_denied_resource_is_bucket_level() -> None:
    """S3's AccessDenied naming an object ARN: the call's ``resource`` stops at the bucket."""
    from lambda_trace._errors import iam_details

    key = f"u/{sentinel()}@example.com/file.pdf"
    message = ("User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: "
               f"s3:GetObject on resource: \"arn:aws:s3:::invoices/{key}\" because no "
               "identity-based policy allows the s3:GetObject action")
    assert iam_details(message, "s3", "GetObject") == (
        "s3:GetObject", "arn:aws:s3:::invoices/*", False)


# -- item 9: numeric settings bounded -----------------------------------------------------------


@pytest.mark.parametrize(("var", "value"), [
    ("LAMBDA_TRACE_TIMEOUT_MARGIN_MS", "1e308"),
    ("LAMBDA_TRACE_TIMEOUT_MARGIN_MS", "1e20"),
    ("LAMBDA_TRACE_SLOW_MS", "1e308"),
    ("LAMBDA_TRACE_MEMORY_POLL_MS", "1e308"),
    ("LAMBDA_TRACE_MEMORY_POLL_MS", "1e-300"),
    ("LAMBDA_TRACE_MAX_CALL_LINES", "9" * 400),
])
def test_huge_numeric_settings_fall_back_and_tracing_carries_on(
    monkeypatch: pytest.MonkeyPatch, capfd: Any, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)

    @trace
    def handler(event: Any, context: Any) -> str:
        return "ok"

    cap = invoke(handler, context=FakeContext(timeout_ms=3000))
    assert cap.result == "ok"
    assert len(cap.invocations) == 1, "tracing was disabled by the setting"
    err = capfd.readouterr().err
    assert f"{var}=" in err and "is invalid" in err
    assert "internal error" not in err


# -- item 9: async def __call__ objects ---------------------------------------------------------


def test_an_async_callable_object_is_traced_as_async() -> None:
    import asyncio

    class Handler:
        async def __call__(self, event: Any, context: Any) -> str:
            await asyncio.sleep(0)
            raise KeyError("boom")

    traced = trace(Handler())
    with pytest.raises(KeyError):
        asyncio.run(_with_capture(traced))


async def _with_capture(traced: Any) -> None:
    from lambda_trace.testing import capture

    with capture() as cap:
        try:
            await traced({}, FakeContext())
        finally:
            (record,) = cap.invocations
            assert record["status"] == "error"
            assert record["error_type"] == "KeyError"


# -- item 9: @trace above @classmethod / @staticmethod ------------------------------------------


@pytest.mark.parametrize("wrapper", [classmethod, staticmethod])
def test_trace_above_classmethod_fails_at_decoration(wrapper: Any) -> None:
    def fn(*args: Any) -> None:
        return None

    with pytest.raises(TypeError, match="below @"):
        trace(wrapper(fn))


def test_trace_below_classmethod_works() -> None:
    class Service:
        @classmethod
        @trace
        def handle(cls, event: Any, context: Any) -> str:
            return cls.__name__

    cap = invoke(Service.handle)
    assert cap.result == "Service"
    assert len(cap.invocations) == 1


# -- item 9: a handler that calls itself --------------------------------------------------------


def test_recursion_through_the_traced_handler_costs_no_extra_frame() -> None:
    """A traced handler that calls itself reaches the plain handler's depth (not half of it)."""
    from lambda_trace.testing import capture

    reached = [0]

    def plain(event: int, context: Any) -> None:
        reached[0] = event
        plain(event + 1, context)

    @trace
    def traced(event: int, context: Any) -> None:
        reached[0] = event
        traced(event + 1, context)

    def depth(handler: Any) -> int:
        reached[0] = 0
        with pytest.raises(RecursionError):
            handler(0, FakeContext())
        return reached[0]

    plain_depth = depth(plain)
    with capture() as cap:
        traced_depth = depth(traced)
    assert traced_depth >= plain_depth - 10, (plain_depth, traced_depth)
    (record,) = cap.invocations
    assert record["error_type"] == "RecursionError"


# -- item 9: a call that ends after its invocation ---------------------------------------------


@pytest.mark.usefixtures("every_call_line")
def test_a_call_finished_after_its_invocation_is_dropped_not_written() -> None:
    """A thread left running by the handler ends its call after the record: no stray line."""
    import threading

    from lambda_trace import segment
    from lambda_trace.testing import capture

    release, started = threading.Event(), threading.Event()

    def background() -> None:
        with segment("outlives-the-invocation"):
            started.set()
            release.wait(10)

    @trace
    def handler(event: Any, context: Any) -> str:
        with segment("inside"):
            pass
        threading.Thread(target=background, daemon=True, name="late").start()
        started.wait(10)
        return "ok"

    with capture() as cap:
        handler({}, FakeContext())
        release.set()
        for thread in threading.enumerate():
            if thread.name == "late":
                thread.join(10)
    (record,) = cap.invocations
    names = [c["name"] for c in cap.calls]
    assert names == ["inside"]
    # (v2 writes dropped_calls only when some were)
    assert sum(s["n"] for s in record["calls"].values()) == len(names) + record.get(
        "dropped_calls", 0)
