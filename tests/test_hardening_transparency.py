"""@trace is transparent: any JSON-able result and any exception pass exactly as without it.

Property-based: hypothesis draws results, exception types (BaseException subclasses included),
arguments, custom attributes and chains (``__cause__``, ``__context__``, ``__suppress_context__``).
``LAMBDA_TRACE_LONG_FUZZ=1`` runs many more examples (see RELIABILITY.md).
"""

from __future__ import annotations

import asyncio
import os
import traceback
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from runtime_support import assert_all_valid

from lambda_trace import trace
from lambda_trace.testing import FakeContext, capture

LONG = os.environ.get("LAMBDA_TRACE_LONG_FUZZ") == "1"
FUZZ = settings(
    max_examples=3000 if LONG else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class CustomBase(BaseException):
    """Derives from BaseException only, like KeyboardInterrupt."""


class WithAttributes(Exception):
    def __init__(self, *args: Any, code: Any = None) -> None:
        super().__init__(*args)
        self.code = code
        self.response = {"Error": {"Code": code, "Message": args}}


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class Unprintable:
    """An attribute value whose ``str`` raises (its ``repr`` works, so hypothesis can show it)."""

    def __str__(self) -> str:
        raise RuntimeError("unprintable")

    def __repr__(self) -> str:
        return "UNPRINTABLE"


UNPRINTABLE = Unprintable()

EXCEPTION_TYPES: list[type[BaseException]] = [
    ValueError,
    KeyError,
    RuntimeError,
    OSError,
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    CustomBase,
    WithAttributes,
    UnprintableError,
    StopIteration,
    RecursionError,
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)
exception_args = st.lists(
    st.integers() | st.text() | st.none() | st.floats(allow_nan=False), max_size=3
)


@st.composite
def exception_specs(draw: st.DrawFn) -> dict[str, Any]:
    """What to raise: a type with args, optionally chained explicitly or implicitly."""
    return {
        "type": draw(st.sampled_from(EXCEPTION_TYPES)),
        "args": tuple(draw(exception_args)),
        "code": draw(st.none() | st.text(max_size=20) | st.integers() | st.just(UNPRINTABLE)),
        "chain": draw(
            st.sampled_from(["none", "cause", "context", "cause_suppressed", "from_none"])
        ),
        "inner": draw(st.sampled_from([ValueError, KeyError, CustomBase, UnprintableError])),
    }


def _make(exc_type: type[BaseException], args: tuple[Any, ...], code: Any) -> BaseException:
    if exc_type is WithAttributes:
        return WithAttributes(*args, code=code)
    return exc_type(*args)


def raiser(spec: dict[str, Any], raised: list[BaseException]) -> Callable[[Any, Any], Any]:
    """A handler raising what ``spec`` describes; ``raised`` receives the exception object."""

    def handler(event: Any, context: Any) -> Any:
        exc = _make(spec["type"], spec["args"], spec["code"])
        raised.append(exc)
        chain = spec["chain"]
        if chain == "none":
            raise exc
        try:
            raise _make(spec["inner"], ("inner",), None)
        except BaseException as inner:
            if chain == "cause":
                raise exc from inner
            if chain == "from_none":
                raise exc from None
            if chain == "cause_suppressed":
                exc.__cause__ = inner
                exc.__suppress_context__ = True
            raise exc  # noqa: B904 - "context": the implicit chaining under test

    return handler


def _frame(exc: BaseException) -> tuple[str, int, str]:
    innermost = traceback.extract_tb(exc.__traceback__)[-1]
    return innermost.filename, innermost.lineno or 0, innermost.name


def _shape(exc: BaseException | None) -> Any:
    if exc is None:
        return None
    return (type(exc), exc.args)


def outcome(call: Callable[[], Any], raised: list[BaseException]) -> dict[str, Any]:
    """Everything a caller can observe of the exception ``call`` raises."""
    try:
        call()
    except BaseException as caught:
        return {
            "same_object": bool(raised) and caught is raised[0],
            "type": type(caught),
            "args": caught.args,
            "attrs": dict(vars(caught)),
            "frame": _frame(caught),
            "cause": _shape(caught.__cause__),
            "context": _shape(caught.__context__),
            "suppress": caught.__suppress_context__,
        }
    raise AssertionError("the handler did not raise")


@FUZZ
@given(value=json_values)
def test_any_json_result_is_returned_unchanged(value: Any) -> None:
    """The traced handler returns the very object the handler returned."""

    def handler(event: Any, context: Any) -> Any:
        return value

    with capture() as cap:
        assert trace(handler)({}, FakeContext()) is value
    [record] = cap.invocations
    assert record["status"] == "ok"
    assert_all_valid(cap)


@FUZZ
@given(spec=exception_specs())
def test_any_exception_leaves_exactly_as_without_trace(spec: dict[str, Any], capsys: Any) -> None:
    """Type, args, attributes, innermost frame and chain are identical with and without @trace."""
    plain_raised: list[BaseException] = []
    plain = raiser(spec, plain_raised)
    traced_raised: list[BaseException] = []
    traced = trace(raiser(spec, traced_raised))

    expected = outcome(lambda: plain({}, FakeContext()), plain_raised)
    with capture() as cap:
        actual = outcome(lambda: traced({}, FakeContext()), traced_raised)
    assert actual == expected
    assert actual["same_object"]
    [record] = cap.invocations
    assert record["status"] == "error"
    assert record["error_type"] == spec["type"].__name__
    assert_all_valid(cap)
    assert "lambda-trace" not in capsys.readouterr().err


@FUZZ
@given(value=json_values, fail=st.booleans())
def test_asyncio_run_inside_a_sync_handler(value: Any, fail: bool) -> None:
    """A sync handler that runs its own event loop returns or raises as without @trace."""

    async def work() -> Any:
        await asyncio.sleep(0)
        if fail:
            raise WithAttributes("async failure", code=value)
        return value

    def handler(event: Any, context: Any) -> Any:
        return asyncio.run(work())

    with capture() as cap:
        if fail:
            with pytest.raises(WithAttributes) as info:
                trace(handler)({}, FakeContext())
            assert info.value.code is value
            assert _frame(info.value)[2] == "work"
        else:
            assert trace(handler)({}, FakeContext()) is value
    [record] = cap.invocations
    assert record["status"] == ("error" if fail else "ok")
    assert_all_valid(cap)


@FUZZ
@given(value=json_values, spec=exception_specs(), fail=st.booleans())
def test_async_def_handler_awaited_under_trace(
    value: Any, spec: dict[str, Any], fail: bool
) -> None:
    """An ``async def`` handler's result or exception is the same when traced."""
    # asyncio.run itself fails on an exception whose repr raises (CPython 3.11), traced or not.
    assume(UnprintableError not in (spec["type"], spec["inner"]))

    def make(raised: list[BaseException]) -> Callable[[Any, Any], Any]:
        sync = raiser(spec, raised)

        async def handler(event: Any, context: Any) -> Any:
            await asyncio.sleep(0)
            if fail:
                sync(event, context)
            return value

        return handler

    if not fail:
        with capture() as cap:
            assert asyncio.run(trace(make([]))({}, FakeContext())) is value
    else:
        plain_raised: list[BaseException] = []
        plain = make(plain_raised)
        expected = outcome(lambda: asyncio.run(plain({}, FakeContext())), plain_raised)
        traced_raised: list[BaseException] = []
        traced = trace(make(traced_raised))
        with capture() as cap:
            actual = outcome(lambda: asyncio.run(traced({}, FakeContext())), traced_raised)
        if spec["type"] is StopIteration:
            # PEP 479 turns it into a RuntimeError at the first coroutine boundary, which under
            # @trace is the wrapper's await: that new exception's traceback starts one frame
            # deeper. Its type, args and __cause__ (the handler's StopIteration) still match.
            del actual["frame"], expected["frame"]
        assert actual == expected
    [record] = cap.invocations
    assert record["status"] == ("error" if fail else "ok")
    assert_all_valid(cap)
