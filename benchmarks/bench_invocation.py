"""µs added per invocation of a trivial handler, with a realistic fake context and event.

The handler makes no downstream call; each tool does its usual per-invocation work (our
summary record, EMF and watchdog; Powertools' log line / metric / subsegment; OTel's span).
Stdout goes to /dev/null. Rounds interleave the variants, each paired with bare in its round.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from _harness import (
    Summary,
    Variant,
    fmt_range,
    interleaved,
    runnable,
    section_main,
    smoke_subset,
    start_workers,
    table,
    variant_rows,
)

VARIANTS = [
    Variant("bare handler", "bare", group="baseline"),
    Variant("lambda-trace `@trace`", "lambda_trace", ("lambda_trace:trace",), group="ours"),
    # Where our cost goes: the same decorator with one part switched off.
    Variant("lambda-trace, watchdog off", "lambda_trace", ("lambda_trace:trace",),
            {"LAMBDA_TRACE_WATCHDOG": "false"}, group="ours"),
    Variant("lambda-trace, EMF metrics off", "lambda_trace", ("lambda_trace:trace",),
            {"LAMBDA_TRACE_METRICS": "false"}, group="ours"),
    Variant("lambda-trace, watchdog and EMF off", "lambda_trace", ("lambda_trace:trace",),
            {"LAMBDA_TRACE_WATCHDOG": "false", "LAMBDA_TRACE_METRICS": "false"}, group="ours"),
    Variant("Powertools Logger (inject_lambda_context + 1 info line)", "powertools_logger",
            ("aws_lambda_powertools",)),
    Variant("Powertools Metrics (log_metrics + 1 metric)", "powertools_metrics",
            ("aws_lambda_powertools",)),
    Variant("Powertools Tracer (capture_lambda_handler)", "powertools_tracer",
            ("aws_lambda_powertools", "aws_xray_sdk")),
    Variant("Powertools Logger + Metrics + Tracer", "powertools_all",
            ("aws_lambda_powertools", "aws_xray_sdk")),
    Variant("OpenTelemetry AwsLambdaInstrumentor (in-memory exporter)", "otel_lambda",
            ("opentelemetry.sdk", "opentelemetry.instrumentation.aws_lambda")),
    Variant("Datadog (datadog-lambda wrapper)", "datadog", ("datadog_lambda",)),
]

PLAN = (500, 25)  # invocations per batch, rounds
SMOKE_PLAN = (20, 2)


def run(python: str, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    variants = runnable(python, smoke_subset(VARIANTS) if smoke else VARIANTS, log)
    invocations, rounds = SMOKE_PLAN if smoke else PLAN
    log("per invocation")
    workers = start_workers(python, variants, ["--transport", "none"], log)
    variants = [v for v in variants if v.name in workers]
    try:
        for worker in workers.values():
            worker.request(cmd="run", invocations=max(1, invocations // 4))

        def per_invocation_us(name: str) -> dict[str, float]:
            reply = workers[name].request(cmd="run", invocations=invocations)
            return {"wall": reply["ns"] / invocations / 1e3,
                    "cpu": reply["cpu_ns"] / invocations / 1e3}

        samples = interleaved([v.name for v in variants], rounds, per_invocation_us)
    finally:
        for worker in workers.values():
            worker.close()
    return {
        "name": "invocation",
        "invocations_per_batch": invocations,
        "rounds": rounds,
        "rows": variant_rows(variants, samples),
    }


def render(result: dict[str, Any]) -> str:
    ours = next((r for r in result["rows"] if r["group"] == "ours"), None)
    rows = []
    for row in result["rows"]:
        added = Summary.from_dict(row["added_us"])
        x = "\u2013"
        if ours is not None and row["group"] == "peer" and ours["added_us"]["median"] > 0:
            x = f"{added.median / ours['added_us']['median']:.1f}\u00d7"
        rows.append([row["variant"], f"{row['absolute_us']['median']:.2f}", fmt_range(added),
                     f"{row['added_cpu_us']['median']:+.1f}", x])
    return (
        f"{result['invocations_per_batch']} invocations per batch, {result['rounds']} rounds.\n\n"
        + table(["variant", "µs per invocation", "µs added (wall): median (min … max)",
                 "µs added (CPU): median", "÷ lambda-trace"], rows)
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
