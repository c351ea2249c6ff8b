"""µs added per downstream call: botocore Stubber in-process, and over loopback HTTP to moto.

Every variant lives in its own worker process; rounds interleave the variants (rotating who goes
first) and each round's figure is paired with the bare worker's figure from the same round.
A "call" is one DynamoDB GetItem made inside an invocation of several such calls (``PLANS``),
so a tool's per-invocation cost is included, spread over those calls.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

from _harness import (
    Summary,
    Variant,
    fmt_range,
    interleaved,
    lambda_env,
    ratio,
    runnable,
    section_main,
    smoke_subset,
    start_workers,
    table,
    variant_rows,
)

OURS_REQ = ("boto3", "lambda_trace:trace")

VARIANTS = [
    Variant("bare boto3", "bare", ("boto3",), group="baseline"),
    Variant("floor: wrapt wrapper + perf_counter pair + 1 JSON line", "floor", ("boto3", "wrapt"),
            group="floor"),
    Variant("lambda-trace (default)", "lambda_trace", OURS_REQ, group="ours"),
    Variant("lambda-trace CALL_LINES=none", "lambda_trace", OURS_REQ,
            {"LAMBDA_TRACE_CALL_LINES": "none"}, group="ours"),
    Variant("lambda-trace CALL_LINES=slow", "lambda_trace", OURS_REQ,
            {"LAMBDA_TRACE_CALL_LINES": "slow"}, group="ours"),
    Variant("X-Ray SDK patch_all()", "xray", ("boto3", "aws_xray_sdk")),
    Variant("Powertools Tracer", "powertools_tracer", ("boto3", "aws_lambda_powertools",
                                                        "aws_xray_sdk")),
    Variant("OpenTelemetry BotocoreInstrumentor (in-memory exporter)", "otel_botocore",
            ("boto3", "opentelemetry.sdk", "opentelemetry.instrumentation.botocore")),
    Variant("Datadog (datadog-lambda wrapper + ddtrace)", "datadog", ("boto3", "datadog_lambda")),
]

# Short batches and many rounds: each round's pair is measured close together in time, which
# is what cancels the drift of a shared machine.
#: transport -> (calls per invocation, invocations per batch, rounds); smoke shrinks them
PLANS = {"stub": (50, 4, 30), "moto": (10, 3, 10)}
SMOKE_PLANS = {"stub": (5, 2, 2), "moto": (2, 2, 2)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server(python: str, log: Callable[[str], None]) -> Iterator[str]:
    """A moto server on 127.0.0.1 in its own process (so it does not share the workers' GIL)."""
    port = free_port()
    proc = subprocess.Popen(
        [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=lambda_env(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        log(f"  moto server on {url} (pid {proc.pid})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure_transport(
    python: str,
    variants: Sequence[Variant],
    transport: str,
    plan: tuple[int, int, int],
    endpoint: str,
    log: Callable[[str], None],
) -> dict[str, Any]:
    calls, invocations, rounds = plan
    args = ["--transport", transport, "--calls", str(calls), "--endpoint", endpoint]
    workers = start_workers(python, variants, args, log)
    variants = [v for v in variants if v.name in workers]
    try:
        for worker in workers.values():  # warm-up: first calls load models, fill caches
            worker.request(cmd="run", invocations=max(1, invocations // 2))

        def per_call_us(name: str) -> dict[str, float]:
            reply = workers[name].request(cmd="run", invocations=invocations)
            ops = invocations * calls * 1000.0
            return {"wall": reply["ns"] / ops, "cpu": reply["cpu_ns"] / ops}

        samples = interleaved([v.name for v in variants], rounds, per_call_us)
    finally:
        for worker in workers.values():
            worker.close()
    return {
        "transport": transport,
        "calls_per_invocation": calls,
        "invocations_per_batch": invocations,
        "rounds": rounds,
        "rows": variant_rows(variants, samples),
    }


def run(python: str, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    variants = runnable(python, smoke_subset(VARIANTS) if smoke else VARIANTS, log)
    plans = SMOKE_PLANS if smoke else PLANS
    results = []
    log("per call, Stubber")
    results.append(measure_transport(python, variants, "stub", plans["stub"], "", log))
    log("per call, moto over loopback HTTP")
    with moto_server(python, log) as url:
        results.append(measure_transport(python, variants, "moto", plans["moto"], url, log))
    return {"name": "calls", "transports": results}


def _ours_default(rows: Sequence[dict[str, Any]]) -> Optional[float]:
    for row in rows:
        if row["variant"] == "lambda-trace (default)":
            return float(row["added_us"]["median"])
    return None


def render(result: dict[str, Any]) -> str:
    parts = []
    titles = {
        "stub": "In-process, botocore `Stubber` (no network)",
        "moto": "Over loopback HTTP to a moto server (127.0.0.1, separate process)",
    }
    for t in result["transports"]:
        ours = _ours_default(t["rows"])
        rows = []
        for row in t["rows"]:
            added = row["added_us"]
            x = ratio(added["median"], ours) if ours is not None else None
            rows.append([
                row["variant"],
                f"{row['absolute_us']['median']:.1f}",
                fmt_range(Summary.from_dict(added)),
                f"{row['added_cpu_us']['median']:+.1f}",
                "\u2013" if row["group"] == "baseline" or x is None else f"{x:.1f}\u00d7",
            ])
        parts.append(
            f"#### {titles[t['transport']]}\n\n"
            f"{t['calls_per_invocation']} GetItem calls per invocation, "
            f"{t['invocations_per_batch']} invocations per batch, {t['rounds']} rounds.\n\n"
            + table(
                ["variant", "µs per call", "µs added (wall): median (min … max)",
                 "µs added (CPU): median", "÷ lambda-trace"],
                rows,
            )
        )
    return "\n\n".join(parts)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
