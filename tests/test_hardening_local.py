"""Under the local runner, a traced function warns before Lambda's kill: timeouts and memory.

Real ``awslambdaric`` processes run a ``@trace``d handler that blocks in a downstream call until
the runner SIGKILLs it at the deadline, or allocates until the runner kills it at the memory
size. CI runs a bounded number of cases; ``LAMBDA_TRACE_LONG_FUZZ=1`` runs the full 100
timeouts and 30 memory hogs (figures in RELIABILITY.md).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import pytest

from lambda_trace.local import memory
from lambda_trace.local.runner import InvokeResult, Runner
from lambda_trace.local.template import FunctionSpec

LONG = os.environ.get("LAMBDA_TRACE_LONG_FUZZ") == "1"
#: timeouts per blocking kind: 5 kinds x 20 = 100 in the long mode, 5 x 10 = 50 in CI
TIMEOUTS_PER_KIND = 20 if LONG else 10
#: memory hogs per allocation pattern
HOGS_PER_PATTERN = 10 if LONG else 4
#: execution environments run at once (each its own Runner, as Lambda runs one per instance)
WORKERS = 4
#: memory hogs run two at a time: four CPU-bound hogs on two cores starve the pollers (the
#: watchdog and the runner alike) for tens of ms, which a Lambda instance alone in its microVM
#: does not see
HOG_WORKERS = 2

HANDLER = """
import mmap, os, time, urllib.request
import boto3
from botocore.config import Config
from lambda_trace import segment, trace

SLOW = os.environ["SLOW_PROXY_URL"]  # a proxy that holds every request before moto sees it
# No retries and a long read timeout: the call is still in flight when the deadline comes.
CONFIG = Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5)
dynamodb = boto3.client("dynamodb", endpoint_url=SLOW, config=CONFIG)
s3 = boto3.client("s3", endpoint_url=SLOW, config=CONFIG)
HOARD = []


def fill(block, step, value):
    # One write per 4 KiB page at full speed (~6 MB of page faults per ms).
    for index in range(0, len(block), 4096 // step):
        block[index] = value


@trace
def handler(event, context):
    kind = event["kind"]
    if kind == "socket_read":
        urllib.request.urlopen(os.environ["SILENT_URL"], timeout=60).read()
    elif kind == "dynamodb":
        dynamodb.get_item(TableName="t", Key={"pk": {"S": "1"}})
    elif kind == "s3":
        s3.get_object(Bucket="b", Key="k")
    elif kind == "sleep":
        with segment("nap"):
            time.sleep(60)
    elif kind == "cpu":
        with segment("crunch"):
            n = 0
            while True:
                n += 1
    elif kind == "one_block":
        # An anonymous mapping is zero pages, resident only once touched. (bytearray(n) would
        # memset the whole GiB in one C call: no poller can see that coming, nor can on Lambda.)
        block = mmap.mmap(-1, 1024 * 1024 * 1024)
        HOARD.append(block)
        fill(block, 1, 1)
    elif kind == "many_small":
        while True:
            HOARD.append(bytes(64 * 1024) + b"x")  # 64 KiB objects, each written at once
    elif kind == "array":
        values = memoryview(mmap.mmap(-1, 1024 * 1024 * 1024)).cast("d")  # 1 GiB of doubles
        HOARD.append(values)
        fill(values, 8, 1.0)
    elif kind == "numpy":
        import numpy
        grid = numpy.zeros(128 * 1024 * 1024)  # 1 GiB, lazily zeroed like calloc
        HOARD.append(grid)
        fill(grid, 8, 1.0)
    return {"done": kind}
"""

TIMEOUT_KINDS = {
    # kind: the in-flight call the warning must name first (longest running)
    "socket_read": "http GET 127.0.0.1/quote",
    "dynamodb": "dynamodb.GetItem",
    "s3": "s3.GetObject",
    "sleep": "nap",
    "cpu": "crunch",
}


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a read blocks until killed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class SlowProxy(SilentServer):
    """Relays each connection to moto, but only after holding it for ``delay_s`` seconds."""

    def __init__(self, target_port: int, delay_s: float) -> None:
        self.target_port = target_port
        self.delay_s = delay_s
        self.stop = threading.Event()
        super().__init__()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        if self.stop.wait(self.delay_s):
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            return
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)

    def close(self) -> None:
        self.stop.set()
        super().close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                return
            target.sendall(data)
    except OSError:
        return


@pytest.fixture
def servers(moto: Any) -> Iterator[dict[str, str]]:
    silent = SilentServer()
    proxy = SlowProxy(moto.port, delay_s=30.0)
    yield {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SILENT_URL": f"http://127.0.0.1:{silent.port}/quote",
        "SLOW_PROXY_URL": f"http://127.0.0.1:{proxy.port}",
    }
    proxy.close()
    silent.close()


def build_spec(tmp_path: Path, *, timeout_s: float, memory_mb: int) -> FunctionSpec:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / "app.py").write_text(HANDLER)
    return FunctionSpec(
        logical_id="Fn",
        name="fn",
        handler="app.handler",
        code_dir=code,
        runtime="python3.12",
        memory_mb=memory_mb,
        timeout_s=timeout_s,
        log_group="/aws/lambda/fn",
    )


def run_all(
    spec: FunctionSpec, kinds: list[str], env: dict[str, str], workers: int = WORKERS
) -> list[tuple[str, InvokeResult]]:
    """Invoke each kind once, spread over ``workers`` runners (each a chain of environments)."""
    chunks = [kinds[i::workers] for i in range(workers)]

    def run_chunk(chunk: list[str]) -> list[tuple[str, InvokeResult]]:
        with Runner(spec, extra_env=env, freeze=False) as runner:
            return [(kind, runner.invoke({"kind": kind})) for kind in chunk]

    with ThreadPoolExecutor(workers) as pool:
        return [result for chunk in pool.map(run_chunk, chunks) for result in chunk]


def records(result: InvokeResult, record_type: str) -> list[tuple[int, dict[str, Any]]]:
    found = []
    for position, event in enumerate(result.logs):
        if event.message.startswith('{"lambda_trace"'):
            record = json.loads(event.message)
            if record.get("type") == record_type:
                found.append((position, record))
    return found


def position(result: InvokeResult, prefix: str) -> int:
    hits = [i for i, event in enumerate(result.logs) if prefix in event.message]
    assert len(hits) == 1, (prefix, [e.message for e in result.logs])
    return hits[0]


def test_every_timeout_is_warned_before_the_kill_naming_the_blocked_call(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    """Blocked in a socket read, DynamoDB, S3, a sleep or a CPU loop: the warning names it first."""
    spec = build_spec(tmp_path, timeout_s=1.0, memory_mb=512)
    kinds = [kind for kind in TIMEOUT_KINDS for _ in range(TIMEOUTS_PER_KIND)]
    env = dict(servers)
    if not LONG:
        # In the suite, four CPU-bound runners share two cores with the other pytest worker;
        # the default 100 ms margin of a 1 s timeout then loses the race now and then (a
        # scheduling wait, not a lost warning). The long mode keeps the default margin.
        env["LAMBDA_TRACE_TIMEOUT_MARGIN_MS"] = "300"
    results = run_all(spec, kinds, env)
    failures = []
    for kind, result in results:
        problem = timeout_problem(kind, result)
        if problem:
            failures.append(f"{kind}: {problem}")
    assert len(results) == len(kinds)
    assert failures == [], failures


def timeout_problem(kind: str, result: InvokeResult) -> Optional[str]:
    if result.outcome != "timeout":
        return f"outcome {result.outcome}: {[e.message for e in result.logs]}"
    warnings = records(result, "timeout_warning")
    if len(warnings) != 1:
        return f"{len(warnings)} timeout warnings"
    at, warning = warnings[0]
    in_flight = [call["name"] for call in warning["in_flight"]]
    if not in_flight or in_flight[0] != TIMEOUT_KINDS[kind]:
        return f"in flight {in_flight}"
    if warning["request_id"] != result.request_id:
        return "warning of another request"
    if not at < position(result, "REPORT RequestId: ") < position(result, "Task timed out after"):
        return "warning after the kill"
    return None


#: allocation patterns; numpy only when it is already installed (it is not a dependency)
HOG_PATTERNS = ["one_block", "many_small", "array"]
try:
    import numpy  # noqa: F401

    HOG_PATTERNS.append("numpy")
except ImportError:
    pass


@pytest.mark.skipif(not memory.available(), reason="memory is enforced on Linux only")
def test_memory_hogs_are_warned_before_the_kill_in_nine_runs_of_ten(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    """One big block, many small objects, an array touched page by page: memory_warning first."""
    spec = build_spec(tmp_path, timeout_s=20.0, memory_mb=256)
    kinds = [kind for kind in HOG_PATTERNS for _ in range(HOGS_PER_PATTERN)]
    results = run_all(spec, kinds, servers, HOG_WORKERS)
    warned = 0
    misses = []
    for kind, result in results:
        assert result.outcome == "out_of_memory", (kind, result.outcome)
        warnings = records(result, "memory_warning")
        report = position(result, "REPORT RequestId: ")
        if len(warnings) == 1 and warnings[0][0] < report:
            assert warnings[0][1]["limit_mb"] == 256
            # the 90% share, or earlier once half is resident and the growth of the last poll
            # interval would cross the limit before the next poll (a fast hog)
            assert warnings[0][1]["rss_mb"] >= 0.5 * 256
            warned += 1
        else:
            misses.append(kind)
    assert warned >= 0.9 * len(kinds), misses
