"""Every internal part of lambda-trace can fail: the handler's outcome never changes.

Each failure is reported on stderr once per kind ("lambda-trace: internal error in <part> ..."),
however many invocations hit it; the invocation record is still written whenever its sink works.
"""

from __future__ import annotations

import math
import os
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runtime_support import assert_all_valid, python

from lambda_trace import (
    _emf,
    _invocation,
    _lifecycle,
    _memory,
    annotate,
    metric,
    segment,
    trace,
)
from lambda_trace._patches import aws_sdk, http_clients
from lambda_trace.testing import FakeContext, capture, validate_record

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")


ROUNDS = 5


def reports(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("lambda-trace:")]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("unprintable")

    __repr__ = __str__


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("unprintable")

    __repr__ = __str__


def big_context(**kw: Any) -> FakeContext:
    """A context whose memory limit no test process reaches (no memory_warning noise)."""
    return FakeContext(memory_limit_in_mb="10240", **kw)


# -- stdout closed or a broken pipe (real processes) ------------------------------------------

CHILD = """
import os, sys
{setup}
from lambda_trace import trace, segment, metric

@trace
def handler(event, context):
    with segment("work"):
        metric("Items", 2)
    if event == "fail":
        raise KeyError("own error")
    return {{"n": event}}

from lambda_trace.testing import FakeContext
for i in range(20):
    try:
        result = handler(i, FakeContext())
        os.write(2, f"RESULT {{result['n']}}\\n".encode())
    except KeyError as exc:
        os.write(2, f"RAISED {{exc.args[0]}}\\n".encode())
try:
    handler("fail", FakeContext())
except KeyError as exc:
    os.write(2, f"RAISED {{exc.args[0]}}\\n".encode())
"""


@pytest.mark.parametrize(
    ("setup", "kind"),
    [
        ("os.close(1)", "fd 1 closed"),
        ("r, w = os.pipe(); os.close(r); os.dup2(w, 1); os.close(w)", "broken pipe (EPIPE)"),
    ],
)
def test_stdout_failure_leaves_the_handler_alone_and_is_reported_once(
    setup: str, kind: str
) -> None:
    """With fd 1 closed or a pipe nobody reads, results and exceptions are unchanged."""
    proc = python(CHILD.format(setup=setup))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert [ln for ln in lines if ln.startswith("RESULT")] == [f"RESULT {i}" for i in range(20)]
    assert [ln for ln in lines if ln.startswith("RAISED")] == ["RAISED own error"]
    found = reports(proc.stderr)
    assert len(found) == 1, (kind, found)
    assert "internal error in sink" in found[0]
    assert "Traceback" not in proc.stderr


def test_a_raising_sink_is_reported_once_over_many_invocations(capsys: Any) -> None:
    """A user's sink that raises on every line costs the lines, never the handler."""

    def sink(line: str) -> None:
        raise OSError(32, "Broken pipe")

    @trace(sink=sink)
    def handler(event: Any, context: Any) -> Any:
        with segment("s"):
            pass
        return event

    for i in range(ROUNDS):
        assert handler(i, big_context()) == i
    [report] = reports(capsys.readouterr().err)
    assert "internal error in sink" in report


# -- strange values ---------------------------------------------------------------------------


def _annotate_unprintable() -> None:
    annotate(user=Unprintable())


def _annotate_huge_int() -> None:
    annotate(n=10**5000, m=-(10**30))


def _annotate_non_finite() -> None:
    annotate(a=math.nan, b=math.inf, c=-math.inf)


def _annotate_surrogates() -> None:
    annotate(**{"k\udc80": "v\ud800\udfff\udc00"})


def _metric_huge_int() -> None:
    metric("Huge", 10**400)


def _metric_non_finite() -> None:
    metric("Nan", math.nan)
    metric("Inf", math.inf)


def _metric_unprintable_unit() -> None:
    metric("U", 1, Unprintable())  # type: ignore[arg-type]


def _metric_unhashable_unit() -> None:
    metric("U", 1, ["Count"])  # type: ignore[arg-type]


def _metric_unprintable_name() -> None:
    metric(Unprintable(), 1)  # type: ignore[arg-type]


def _metric_surrogate_name() -> None:
    metric("name\udc80", 1)


STRANGE_VALUES = [
    _annotate_unprintable,
    _annotate_huge_int,
    _annotate_non_finite,
    _annotate_surrogates,
    _metric_huge_int,
    _metric_non_finite,
    _metric_unprintable_unit,
    _metric_unhashable_unit,
    _metric_unprintable_name,
    _metric_surrogate_name,
]


@pytest.mark.parametrize("strange", STRANGE_VALUES, ids=lambda f: f.__name__.lstrip("_"))
def test_strange_annotation_and_metric_values(strange: Any, capsys: Any) -> None:
    """Unprintable, huge, non-finite or surrogate values never break the handler or its record."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        strange()
        return "done"

    with capture() as cap:
        for _ in range(ROUNDS):
            assert handler({}, big_context()) == "done"
    assert len(cap.invocations) == ROUNDS
    assert_all_valid(cap)
    assert len(reports(capsys.readouterr().err)) <= 1


class OddRepr:
    """Its ``str`` raises; its ``repr`` works, so hypothesis can show a failing example."""

    def __str__(self) -> str:
        raise RuntimeError("unprintable")

    def __repr__(self) -> str:
        return "OddRepr()"


odd_values = st.one_of(
    st.integers(min_value=-(10**5000), max_value=10**5000),
    st.floats(),  # NaN and infinities included
    st.text(),  # lone surrogates included
    st.booleans(),
    st.none(),
    st.just(OddRepr()),
    st.lists(st.integers(), max_size=3),
)


@settings(
    max_examples=2000 if os.environ.get("LAMBDA_TRACE_LONG_FUZZ") == "1" else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    annotations=st.dictionaries(st.text(max_size=300), odd_values, max_size=60),
    name=st.one_of(st.text(max_size=300), st.just(OddRepr())),
    value=odd_values,
    unit=st.one_of(st.sampled_from(sorted(_emf.UNITS)), st.text(max_size=20), odd_values),
)
def test_any_annotation_or_metric_leaves_the_handler_and_its_lines_intact(
    annotations: dict[str, Any], name: Any, value: Any, unit: Any
) -> None:
    """Whatever annotate() and metric() receive, the result stands and every line is valid."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        annotate(**annotations)
        metric(name, value, unit)
        return "done"

    with capture() as cap:
        assert handler({}, big_context()) == "done"
    [record] = cap.invocations
    assert len(record.get("annotations", {})) <= 50
    assert_all_valid(cap)


def _raise_unprintable() -> None:
    raise UnprintableError()


def _raise_surrogates() -> None:
    raise ValueError("bad byte \udc80 and \ud800")


def _raise_huge_int_message() -> None:
    raise OverflowError(10**5000)  # str() of it raises ValueError (int-to-text digit limit)


def _raise_nan_message() -> None:
    raise ArithmeticError(math.nan, math.inf)


def _raise_aws_like_with_strange_response() -> None:
    exc = RuntimeError("weird")
    exc.response = {  # type: ignore[attr-defined]
        "Error": {"Code": Unprintable(), "Message": Unprintable()},
        "ResponseMetadata": {"HTTPStatusCode": math.nan},
    }
    raise exc


class RaisingResponse(Exception):
    @property
    def response(self) -> Any:
        raise RuntimeError("property raises")


def _raise_with_raising_response_property() -> None:
    raise RaisingResponse("x")


@pytest.mark.parametrize(
    "raiser",
    [
        _raise_unprintable,
        _raise_surrogates,
        _raise_huge_int_message,
        _raise_nan_message,
        _raise_aws_like_with_strange_response,
        _raise_with_raising_response_property,
    ],
    ids=lambda f: f.__name__.lstrip("_"),
)
def test_strange_exceptions_pass_unchanged_and_are_recorded(raiser: Any, capsys: Any) -> None:
    """The handler's own odd exception propagates as is, and its invocation record is written."""
    raised: list[BaseException] = []

    @trace
    def handler(event: Any, context: Any) -> Any:
        try:
            raiser()
        except BaseException as exc:
            raised.append(exc)
            raise

    with capture() as cap:
        for i in range(ROUNDS):
            with pytest.raises(BaseException) as info:
                handler({}, big_context())
            assert info.value is raised[i]
    records = cap.invocations
    assert len(records) == ROUNDS
    assert all(r["status"] == "error" for r in records)
    assert records[0]["error_type"] == type(raised[0]).__name__
    assert_all_valid(cap)
    assert len(reports(capsys.readouterr().err)) <= 1


# -- EMF (Powertools) and memory reader failures ----------------------------------------------


def test_powertools_raising_costs_the_metrics_only(monkeypatch: Any, capsys: Any) -> None:
    """A Powertools serialisation error drops the EMF documents; records and result stay."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("powertools is broken")

    monkeypatch.setattr(EphemeralMetrics, "serialize_metric_set", broken)
    monkeypatch.setattr(_emf, "_directives", {})

    @trace
    def handler(event: Any, context: Any) -> Any:
        metric("Mine", 1)
        return event

    with capture() as cap:
        for i in range(ROUNDS):
            assert handler(i, big_context()) == i
    assert len(cap.invocations) == ROUNDS and cap.emf == []
    assert_all_valid(cap)
    [report] = reports(capsys.readouterr().err)
    assert "internal error in metrics" in report and "powertools is broken" in report


def test_a_raising_memory_reader_costs_the_peak_only(monkeypatch: Any, capsys: Any) -> None:
    """/proc reads that raise: the record is written with memory_peak_mb null, reported once."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied: '/proc/self/statm'")

    for name in ("rss_bytes", "reset_peak", "peak_bytes_since_reset"):
        monkeypatch.setattr(_memory.MemoryProbe, name, broken)

    @trace(memory_poll_ms=1)
    def handler(event: Any, context: Any) -> Any:
        time.sleep(0.01)  # the watchdog polls meanwhile
        return event

    with capture() as cap:
        for i in range(ROUNDS):
            assert handler(i, FakeContext(memory_limit_in_mb="128")) == i
    assert [r["memory_peak_mb"] for r in cap.invocations] == [None] * ROUNDS
    assert_all_valid(cap)
    [report] = reports(capsys.readouterr().err)
    assert "internal error in memory" in report


def test_unreadable_proc_falls_back_quietly(monkeypatch: Any, capsys: Any) -> None:
    """When /proc cannot be opened at all, memory is simply unknown: no error, no report."""
    monkeypatch.setattr(_memory, "_open", lambda path, flags: None)
    monkeypatch.setattr(_memory, "_probe", [])

    @trace
    def handler(event: Any, context: Any) -> Any:
        return event

    with capture() as cap:
        assert handler(1, big_context()) == 1
    [record] = cap.invocations
    assert record["memory_peak_mb"] is None
    assert_all_valid(cap)
    assert reports(capsys.readouterr().err) == []


# -- clocks and the context's remaining time --------------------------------------------------


def test_wall_clock_jumping_backwards(monkeypatch: Any) -> None:
    """time.time going back (NTP step) leaves timestamps well-formed and durations non-negative."""
    real = time.time_ns
    jumps = iter(range(0, 10**6))

    def backwards() -> int:
        return real() - next(jumps) * 3_600_000_000_000  # clock-ok: an hour (ns) back per read

    monkeypatch.setattr(time, "time_ns", backwards)

    @trace(metrics=False)
    def handler(event: Any, context: Any) -> Any:
        with segment("s"):
            pass
        return event

    with capture() as cap:
        for i in range(ROUNDS):
            assert handler(i, big_context()) == i
    for record in cap.records:
        validate_record(record)
        assert record.get("duration_ms", 0) >= 0


class OddContext:
    """A context whose remaining time is whatever the test says (or raises)."""

    aws_request_id = "odd-0001"
    function_name = "odd"
    memory_limit_in_mb = "10240"

    def __init__(self, remaining: Any) -> None:
        self.remaining = remaining

    def get_remaining_time_in_millis(self) -> Any:
        if isinstance(self.remaining, BaseException):
            raise self.remaining
        return self.remaining


@pytest.mark.parametrize(
    "remaining",
    [RuntimeError("no deadline"), math.nan, math.inf, -math.inf, "soon", None, 10**400],
    ids=["raising", "nan", "inf", "-inf", "text", "none", "huge"],
)
def test_a_broken_remaining_time_means_unknown(remaining: Any, capsys: Any) -> None:
    """get_remaining_time_in_millis raising or returning nonsense: no deadline, no error."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        return event

    with capture() as cap:
        for i in range(ROUNDS):
            assert handler(i, OddContext(remaining)) == i
    assert [r["remaining_ms"] for r in cap.invocations] == [None] * ROUNDS
    assert cap.of_type("timeout_warning") == []
    assert_all_valid(cap)
    assert reports(capsys.readouterr().err) == []


def test_a_context_without_remaining_time() -> None:
    """A context object lacking get_remaining_time_in_millis is fine (no timeout warning)."""

    class Bare:
        aws_request_id = "bare-1"

    @trace
    def handler(event: Any, context: Any) -> Any:
        return event

    with capture() as cap:
        assert handler(5, Bare()) == 5
    [record] = cap.invocations
    assert record["remaining_ms"] is None and record["request_id"] == "bare-1"
    assert_all_valid(cap)


@pytest.mark.parametrize("remaining", [0, -1500])
def test_a_deadline_already_past_warns_at_once(remaining: int) -> None:
    """Remaining time zero or negative at start: the timeout warning is written right away."""

    @trace
    def handler(event: Any, context: Any) -> Any:
        time.sleep(0.2)
        return event

    with capture() as cap:
        assert handler(3, OddContext(remaining)) == 3
    assert len(cap.of_type("timeout_warning")) == 1
    [record] = cap.invocations
    assert record["timeout_warned"] is True
    assert_all_valid(cap)


# -- the watchdog thread ----------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_watchdog_thread_is_restarted_and_reported_once(
    monkeypatch: Any, capsys: Any
) -> None:
    """If the watchdog thread has died, the next invocation starts a new one (one report)."""
    watchdog = _lifecycle._get_watchdog()
    real = time.perf_counter_ns

    def deadly() -> int:
        if threading.current_thread().name == "lambda-trace-watchdog":
            raise SystemExit  # ends the thread silently, like any uncaught BaseException
        return real()

    @trace(timeout_margin_ms=950)
    def handler(event: Any, context: Any) -> Any:
        time.sleep(0.15)  # the warning is due 50 ms in
        return event

    with monkeypatch.context() as patch, capture():
        patch.setattr(time, "perf_counter_ns", deadly)
        assert handler("kill", big_context(timeout_ms=1000)) == "kill"
        dead = watchdog._thread
        assert dead is not None
        dead.join(5)
        assert not dead.is_alive()

    with capture() as cap:
        for i in range(2):
            assert handler(i, big_context(timeout_ms=1000)) == i
    assert len(cap.of_type("timeout_warning")) == 2
    assert watchdog._thread is not dead and watchdog._thread.is_alive()
    [report] = reports(capsys.readouterr().err)
    assert "internal error in watchdog" in report


# -- patches whose bookkeeping raises ---------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("bookkeeping bug")


@pytest.mark.parametrize("part", ["_target_field", "_metadata_fields", "_error_fields"])
def test_botocore_wrapper_bookkeeping_failure(
    moto: Any, monkeypatch: Any, capsys: Any, part: str
) -> None:
    """A bug in the AWS wrapper's bookkeeping: responses, errors unchanged; calls still counted."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="present")
    monkeypatch.setattr(aws_sdk, part, _boom)
    seen: list[Any] = []

    @trace
    def handler(event: Any, context: Any) -> Any:
        listed = s3.list_buckets()
        try:
            s3.head_bucket(Bucket="missing")
        except Exception as exc:
            seen.append(exc)
        seen.append(_invocation.current)
        return [b["Name"] for b in listed["Buckets"]]

    with capture() as cap:
        for _ in range(3):
            assert handler({}, big_context()) == ["present"]
    assert type(seen[0]).__name__ == "ClientError"
    assert seen[0].response["Error"]["Code"] == "404"
    for record in cap.invocations:
        assert record["calls"]["s3.ListBuckets"]["n"] == 1
        assert record["calls"]["s3.HeadBucket"] == {
            **record["calls"]["s3.HeadBucket"],
            "n": 1,
            "err": 1,
        }
    for inv in seen[1::2]:
        assert inv.in_flight == {}
    assert_all_valid(cap)
    [report] = reports(capsys.readouterr().err)
    assert "internal error in botocore wrapper" in report


def test_a_failing_begin_calls_straight_through(
    moto: Any, http_server: Any, monkeypatch: Any, capsys: Any
) -> None:
    """If registering a call fails, the AWS and HTTP calls still happen, untimed."""
    import urllib.request

    s3 = moto.client("s3")
    monkeypatch.setattr(_invocation.Invocation, "begin", _boom)

    @trace
    def handler(event: Any, context: Any) -> Any:
        with urllib.request.urlopen(f"{http_server.url}/x") as response:
            status = response.status
        return status, len(s3.list_buckets()["Buckets"])

    with capture() as cap:
        for _ in range(3):
            assert handler({}, big_context()) == (200, 0)
    assert len(cap.invocations) == 3
    assert_all_valid(cap)
    found = reports(capsys.readouterr().err)
    assert sorted(r.split(" (")[0] for r in found) == [
        "lambda-trace: internal error in botocore wrapper",
        "lambda-trace: internal error in http.client wrapper",
        "lambda-trace: internal error in urllib3 wrapper",  # botocore's own send, unsuppressed
    ]


@pytest.mark.parametrize("client", ["urllib3", "http.client"])
def test_http_wrapper_bookkeeping_failure(
    http_server: Any, monkeypatch: Any, capsys: Any, client: str
) -> None:
    """A bug while describing an HTTP call: the response is unchanged and the call still counted."""
    import urllib.request

    import urllib3

    monkeypatch.setattr(http_clients, "_fields", _boom)
    pool = urllib3.PoolManager()

    @trace
    def handler(event: Any, context: Any) -> Any:
        if client == "urllib3":
            return pool.request("GET", f"{http_server.url}/status/404").status
        try:
            urllib.request.urlopen(f"{http_server.url}/status/404")
        except urllib.error.HTTPError as exc:
            return exc.code
        return None

    with capture() as cap:
        for _ in range(3):
            assert handler({}, big_context()) == 404
    for record in cap.invocations:
        [stats] = record["calls"].values()
        assert stats["n"] == 1 and stats.get("err", 0) == 1
    assert_all_valid(cap)
    [report] = reports(capsys.readouterr().err)
    assert "internal error in http wrapper" in report
