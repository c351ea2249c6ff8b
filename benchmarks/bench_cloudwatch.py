"""Reading a CloudWatch Logs window: one chain of FilterLogEvents pages against time slices at once.

A moto server (its own process) holds an hour of a function's logs; ``lambda-trace events``
reads it through a loopback proxy that holds every request for a fixed delay before relaying it
(no delay: the loopback itself; a delay: a stand-in for the round trip to AWS, an assumption of
this benchmark, not a measurement of AWS). Each round runs ``--fetchers 1`` and ``--fetchers 4``
back to back and checks that both read every event once; the figure is the paired ratio.
"""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

from _harness import REPO_DIR, Summary, fmt_range, lambda_env, section_main, summarize, table
from bench_calls import moto_server

GROUP = "/aws/lambda/bench-orders"
STREAMS = 8
#: events per stream over the hour (a START/END/REPORT triple per invocation, and a record)
INVOCATIONS_PER_STREAM = 1_250
DELAYS_MS = (0, 150)
FETCHERS = (1, 4)


def seed(python: str, endpoint: str, per_stream: int) -> int:
    """Put ``STREAMS`` streams of invocations over the last hour; returns the events written."""
    code = f"""
import json, sys, time, boto3
logs = boto3.client("logs", endpoint_url={endpoint!r}, region_name="us-east-1",
                    aws_access_key_id="testing", aws_secret_access_key="testing")
logs.create_log_group(logGroupName={GROUP!r})
now = int(time.time() * 1000)
total = 0
for s in range({STREAMS}):
    stream = f"2026/12/03/[$LATEST]{{s:032x}}"
    logs.create_log_stream(logGroupName={GROUP!r}, logStreamName=stream)
    events = []
    for i in range({per_stream}):
        ts = now - 3_540_000 + i * (3_500_000 // {per_stream}) + s
        rid = f"{{s:08x}}-0000-4000-8000-{{i:012x}}"
        for k, text in enumerate([
            f"START RequestId: {{rid}} Version: $LATEST",
            json.dumps({{"lambda_trace": 2, "type": "invocation", "request_id": rid,
                         "duration_ms": 12.5, "calls": {{}}}}),
            f"END RequestId: {{rid}}",
            f"REPORT RequestId: {{rid}}\\tDuration: 12.50 ms\\tBilled Duration: 13 ms\\t"
            "Memory Size: 128 MB\\tMax Memory Used: 60 MB",
        ]):
            events.append({{"timestamp": ts + k, "message": text}})
    for start in range(0, len(events), 5000):  # PutLogEvents takes at most 10,000 per batch
        logs.put_log_events(logGroupName={GROUP!r}, logStreamName=stream,
                            logEvents=events[start:start + 5000])
    total += len(events)
print(total)
"""
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True,
                         env=lambda_env(), timeout=600)
    return int(out.stdout.split()[-1])


@contextlib.contextmanager
def delaying_proxy(target: str, delay_ms: float) -> Iterator[str]:
    """http://127.0.0.1:PORT relaying to ``target``, each request held ``delay_ms`` first."""
    host, port = target.rsplit("//", 1)[1].split(":")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()

    def pipe(source: socket.socket, sink: socket.socket, delay: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if delay and data[:5] in (b"POST ", b"GET /"):  # a new request on the connection
                    time.sleep(delay_ms / 1000)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((host, int(port)))
            threading.Thread(target=pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client, False), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def read_once(python: str, endpoint: str, fetchers: int) -> tuple[float, int, int]:
    """Wall seconds, events read and API requests of one ``lambda-trace events`` run."""
    cmd = [python, "-m", "lambda_trace", "events", "--log-group", GROUP, "--since", "1h",
           "--endpoint-url", endpoint, "--fetchers", str(fetchers), "--no-progress",
           "--type", "report"]
    env = lambda_env({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                      "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(REPO_DIR)})
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"lambda-trace events failed: {done.stderr.strip()[:300]}")
    stats = stats_line(done.stderr)
    return wall, stats["events"], stats["requests"]


def stats_line(stderr: str) -> dict[str, int]:
    """Log events and API requests from the counts line ``events`` writes to stderr."""
    found = {}
    for key, pattern in (("events", r"([\d,]+) log events?\b"),
                         ("requests", r"([\d,]+) API requests?\b")):
        match = re.search(pattern, stderr)
        found[key] = int(match.group(1).replace(",", "")) if match else -1
    return found


def run(python: str, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    rounds = 2 if smoke else 5
    per_stream = 50 if smoke else INVOCATIONS_PER_STREAM
    rows = []
    with moto_server(python, log) as endpoint:
        written = seed(python, endpoint, per_stream)
        log(f"  {written} events in {STREAMS} streams over the last hour")
        for delay in DELAYS_MS:
            with delaying_proxy(endpoint, delay) as proxied:
                walls: dict[int, list[float]] = {n: [] for n in FETCHERS}
                seen: dict[int, tuple[int, int]] = {}
                for _ in range(rounds):
                    for n in FETCHERS:
                        wall, events, requests = read_once(python, proxied, n)
                        walls[n].append(wall)
                        seen[n] = (events, requests)
                ratios = [a / b for a, b in zip(walls[FETCHERS[0]], walls[FETCHERS[-1]])]
                rows.append({
                    "delay_ms": delay,
                    "wall_s": {str(n): summarize(walls[n]).to_dict() for n in FETCHERS},
                    "events": {str(n): seen[n][0] for n in FETCHERS},
                    "requests": {str(n): seen[n][1] for n in FETCHERS},
                    "speedup": summarize(ratios).to_dict(),
                })
                log(f"  delay {delay} ms: speedup {summarize(ratios).median:.2f}x")
    return {"name": "cloudwatch", "rounds": rounds, "written": written, "rows": rows}


def render(result: dict[str, Any]) -> str:
    rows = []
    for row in result["rows"]:
        one, four = (Summary.from_dict(row["wall_s"][str(n)]) for n in FETCHERS)
        complete = all(v == result["written"] for v in row["events"].values())
        rows.append([
            f"{row['delay_ms']} ms",
            f"{fmt_range(one, 2, signed=False)} s ({row['requests']['1']} requests)",
            f"{fmt_range(four, 2, signed=False)} s ({row['requests']['4']} requests)",
            f"{Summary.from_dict(row['speedup']).median:.2f}\u00d7",
            "\u2713" if complete else f"**{row['events']}**",
        ])
    return (
        f"{result['rounds']} paired rounds; {result['written']:,} events of one hour in "
        f"{STREAMS} streams on moto, read by `lambda-trace events --since 1h` (a process "
        "each, start-up included).\n\n"
        + table(["delay per request", "`--fetchers 1`: wall", "`--fetchers 4`: wall",
                 "speedup (paired median)", "every event read once"], rows)
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
