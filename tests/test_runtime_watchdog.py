"""The watchdog, for real: warnings reach stdout before a SIGKILL like Lambda's timeout kill."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest
from emf_validation import assert_valid_emf
from runtime_support import spawn

from lambda_trace._watchdog import Watchdog, _crosses_before_next_poll, default_margin_ms
from lambda_trace.testing import validate_record


def kill_at_deadline(proc: subprocess.Popen, timeout_s: float) -> list[dict]:
    """Wait for the child's 'invoking' marker, SIGKILL it when its timeout is up, read stdout."""
    marker = proc.stderr.readline()
    assert marker.strip() == "invoking", marker + proc.stderr.read()
    time.sleep(timeout_s)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return [json.loads(line) for line in out.splitlines() if line.strip()]


HANDLER_PRELUDE = """
    import sys
    from lambda_trace import trace, segment
    from lambda_trace.testing import FakeContext
"""


def test_timeout_warning_names_the_blocked_http_call():
    """The handler blocks in a socket read; the warning naming that call is out before the kill."""
    # A listening socket that never accepts: the kernel completes the connection, the request
    # is sent, and the client blocks in recv for the response.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/report?id=7"
    proc = spawn(
        HANDLER_PRELUDE
        + f"""
    import urllib.request

    @trace(timeout_margin_ms=400)
    def handler(event, context):
        with segment("fetch-report"):
            urllib.request.urlopen("{url}").read()

    context = FakeContext(timeout_ms=1200)
    print("invoking", file=sys.stderr, flush=True)
    handler({{}}, context)
    """
    )
    try:
        lines = kill_at_deadline(proc, 1.2)
    finally:
        silent.close()
    warnings = [r for r in lines if r.get("type") == "timeout_warning"]
    assert len(warnings) == 1, lines
    warning = validate_record(warnings[0])
    names = [f["name"] for f in warning["in_flight"]]
    assert names == ["fetch-report", "http GET 127.0.0.1/report"]
    assert warning["calls"] == {}  # nothing had finished yet
    assert warning["remaining_ms"] > 0 and warning["timeout_ms"] > warning["elapsed_ms"]
    # Pending metrics were flushed with it: a Timeouts count, schema-valid.
    docs = [r for r in lines if "_aws" in r]
    assert [d.get("Timeouts") for d in docs] == [1]
    assert_valid_emf(docs[0])
    assert not any(r.get("type") == "invocation" for r in lines)


def test_timeout_warning_names_a_sleeping_segment_and_the_calls_so_far():
    proc = spawn(
        HANDLER_PRELUDE
        + """
    import time
    from lambda_trace import metric

    @trace(timeout_margin_ms=400)
    def handler(event, context):
        with segment("warm-up"):
            pass
        metric("Started", 1)
        with segment("crunch"):
            time.sleep(30)

    context = FakeContext(timeout_ms=1200)
    print("invoking", file=sys.stderr, flush=True)
    handler({}, context)
    """
    )
    lines = kill_at_deadline(proc, 1.2)
    [warning] = [r for r in lines if r.get("type") == "timeout_warning"]
    assert [(f["name"], f["kind"]) for f in warning["in_flight"]] == [("crunch", "segment")]
    assert warning["calls"]["warm-up"]["n"] == 1
    [doc] = [r for r in lines if "_aws" in r]
    assert doc["Timeouts"] == 1 and doc["Started"] == 1.0


def test_a_handler_that_finishes_in_time_gets_no_warning():
    proc = spawn(
        HANDLER_PRELUDE
        + """
    import time

    @trace(metrics=False)
    def handler(event, context):
        time.sleep(0.05)

    print("invoking", file=sys.stderr, flush=True)
    for _ in range(3):
        handler({}, FakeContext(timeout_ms=400))
    time.sleep(0.6)  # past every deadline: a disarmed watchdog stays quiet
    """
    )
    out, err = proc.communicate(timeout=30)
    types = [json.loads(line)["type"] for line in out.splitlines()]
    assert types == ["invocation"] * 3, err


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS polling reads /proc")
def test_memory_warning_when_rss_crosses_the_share_of_the_limit():
    """A hog allocating past 90% of a limit set just above the baseline triggers one warning."""
    proc = spawn(
        HANDLER_PRELUDE
        + """
    import os, time

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    @trace(metrics=False)
    def handler(event, context):
        blocks = []
        with segment("hog"):
            for _ in range(20):
                block = bytearray(8 * 2**20)
                block[::4096] = b"x" * len(block[::4096])
                blocks.append(block)
                time.sleep(0.01)
        return len(blocks)

    limit = int(rss_mb() + 120)
    print("invoking", file=sys.stderr, flush=True)
    handler({}, FakeContext(memory_limit_in_mb=str(limit)))
    """
    )
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    [warning] = [r for r in records if r["type"] == "memory_warning"]
    validate_record(warning)
    # at the 90% share, or up to one poll interval's growth (≤ 2 blocks of 8 MB) before the limit
    assert warning["rss_mb"] >= min(0.9 * warning["limit_mb"], warning["limit_mb"] - 16)
    assert [f["name"] for f in warning["in_flight"]] == ["hog"]
    [invocation] = [r for r in records if r["type"] == "invocation"]
    assert invocation["memory_peak_mb"] >= warning["rss_mb"]


@pytest.mark.parametrize(
    ("remaining_ms", "margin_ms"),
    [(1000, 100), (3000, 300), (10_000, 1000), (900_000, 1000), (300, 50), (60, 30)],
)
def test_default_margin(remaining_ms, margin_ms):
    """10% of the time left, between 50 ms and 1 s, never more than half the time left."""
    assert default_margin_ms(remaining_ms) == pytest.approx(margin_ms)


def test_a_watchdog_whose_thread_died_is_restarted_at_the_next_arming():
    """When the watchdog's loop has died, the next arming starts a new thread that fires."""
    fired = threading.Event()
    watchdog = Watchdog(lambda inv, now: fired.set(), lambda inv, now, rss: None)

    # The loop returns at once: the thread ends, as when a bug escapes the loop.
    watchdog._run = lambda: None  # type: ignore[method-assign]
    inv = SimpleNamespace(finished=False)
    watchdog.arm(inv, time.perf_counter_ns(), None, 10)  # type: ignore[arg-type]
    first = watchdog._thread
    assert first is not None
    first.join(5)
    del watchdog._run  # the real loop again
    watchdog.arm(inv, time.perf_counter_ns(), None, 10)  # type: ignore[arg-type]
    assert watchdog._thread is not first
    assert fired.wait(5)


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("rss_mb", "growth_mb", "limit_mb", "warn"),
    [
        (160, 100, 256, True),  # a fast hog: the next poll would come after the kill
        (230, 30, 256, True),
        (200, 20, 256, False),  # slow enough: the 90% share will be seen first
        (100, 200, 256, False),  # under half the limit: a one-off load, not judged
        (200, 0, 256, False),  # flat
        (200, -50, 256, False),  # shrinking
        (200, 100, None, False),  # no limit known
    ],
)
def test_a_fast_grower_is_warned_before_it_jumps_over_the_share(rss_mb, growth_mb, limit_mb, warn):
    assert _crosses_before_next_poll(rss_mb * MB, growth_mb * MB, limit_mb) is warn
