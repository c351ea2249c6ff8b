"""Per call and per invocation in one run: µs added at N = 0, 1, 10, 50, 400 calls each.

One worker per variant (botocore Stubber, DynamoDB GetItem); every round measures every N for
every variant back to back (rotating who goes first), and each figure is paired with the bare
worker's figure at the same N in the same round. A least-squares line through the medians,
``added(N) = intercept + slope * N``, separates what a tool costs per call (slope) from what it
costs per invocation that has calls (intercept); N = 0 is also shown as measured, since some
per-invocation work (EMF per dependency, the summary's per-name part) exists only with calls.
That is what reconciles "µs per call at 50 calls" with "µs per call at 4,000 calls": both are
``slope + intercept / N``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Callable, Optional

from _harness import (
    Summary,
    Variant,
    before_variants,
    fmt_range,
    runnable,
    section_main,
    smoke_subset,
    start_workers,
    summarize,
    table,
)

VARIANTS = [
    Variant("bare boto3", "bare", ("boto3",), group="baseline"),
    Variant("floor: wrapt wrapper + perf_counter pair + 1 JSON line", "floor", ("boto3", "wrapt"),
            group="floor"),
    Variant("lambda-trace (default)", "lambda_trace", ("boto3", "lambda_trace:trace"),
            group="ours"),
    Variant("OpenTelemetry BotocoreInstrumentor (in-memory exporter)", "otel_botocore",
            ("boto3", "opentelemetry.sdk", "opentelemetry.instrumentation.botocore")),
]

#: calls per invocation -> invocations per batch (each invocation timed on its own)
PLAN = {0: 100, 1: 50, 10: 20, 50: 6, 400: 2}
ROUNDS = 25
SMOKE_PLAN, SMOKE_ROUNDS = {0: 4, 1: 2, 10: 2}, 1

#: Goal 1 (issue 15): µs added by a 10-call invocation and by one without calls, defaults.
GOAL_10_CALLS_US, GOAL_NO_CALLS_US = 50.0, 10.0


def fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """``(intercept, slope)`` of the least-squares line through ``(x, y)`` points."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return mean_y, 0.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return mean_y - slope * mean_x, slope


def run(python: str, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    variants = runnable(python, smoke_subset(VARIANTS) if smoke else VARIANTS, log)
    variants += before_variants(python, variants)
    plan, rounds = (SMOKE_PLAN, SMOKE_ROUNDS) if smoke else (PLAN, ROUNDS)
    log(f"scaling: {rounds} rounds of N = {', '.join(map(str, plan))} calls per invocation")
    workers = start_workers(python, variants, ["--transport", "stub", "--calls", "1"], log)
    variants = [v for v in variants if v.name in workers]
    names = [v.name for v in variants]
    # wall and CPU µs per invocation: {N: {variant: [one per round]}}
    samples: dict[int, dict[str, list[float]]] = {n: {name: [] for name in names} for n in plan}
    cpu: dict[int, dict[str, list[float]]] = {n: {name: [] for name in names} for n in plan}
    try:
        for worker in workers.values():  # warm-up: caches, the first call's lazy imports
            for calls in plan:
                worker.request(cmd="run", invocations=2, calls=calls)
        for r in range(rounds):
            for calls, invocations in plan.items():
                shift = r % len(names)
                for name in names[shift:] + names[:shift]:
                    reply = workers[name].request(cmd="run", invocations=invocations,
                                                  calls=calls)
                    samples[calls][name].append(reply["ns"] / invocations / 1e3)
                    cpu[calls][name].append(reply["cpu_ns"] / invocations / 1e3)
    finally:
        for worker in workers.values():
            worker.close()
    base = names[0]
    rows = []
    for v in variants:
        added = {
            calls: summarize([a - b for a, b in zip(samples[calls][v.name],
                                                      samples[calls][base])])
            for calls in plan
        }
        added_cpu = {
            calls: summarize([a - b for a, b in zip(cpu[calls][v.name], cpu[calls][base])])
            for calls in plan
        }
        intercept, slope = fit([(float(c), s.median) for c, s in added.items()])
        cpu_intercept, cpu_slope = fit([(float(c), s.median) for c, s in added_cpu.items()])
        rows.append({
            "variant": v.name,
            "group": v.group,
            "absolute_us": {str(c): summarize(samples[c][v.name]).to_dict() for c in plan},
            "added_us": {str(c): s.to_dict() for c, s in added.items()},
            "added_cpu_us": {str(c): s.to_dict() for c, s in added_cpu.items()},
            "slope_us_per_call": slope,
            "intercept_us_per_invocation": intercept,
            "cpu_slope_us_per_call": cpu_slope,
            "cpu_intercept_us_per_invocation": cpu_intercept,
        })
    return {"name": "scaling", "rounds": rounds, "plan": {str(c): i for c, i in plan.items()},
            "rows": rows, "goals": goals(rows)}


def goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ours = next((r for r in rows if r["group"] == "ours"), None)
    out: list[dict[str, Any]] = []
    if ours is None:
        return out
    for calls, target in (("10", GOAL_10_CALLS_US), ("0", GOAL_NO_CALLS_US)):
        if calls in ours["added_us"]:
            figure = ours["added_us"][calls]["median"]
            out.append({"goal": f"µs added by an invocation with {calls} calls",
                        "figure": figure, "target": target, "met": figure <= target,
                        "cpu": ours["added_cpu_us"][calls]["median"]})
    return out


def render(result: dict[str, Any]) -> str:
    plan = list(result["plan"])
    rows = []
    cpu_rows = []
    for row in result["rows"]:
        cells = [fmt_range(Summary.from_dict(row["added_us"][c])) for c in plan]
        rows.append([row["variant"], *cells, f"{row['slope_us_per_call']:+.2f}",
                     f"{row['intercept_us_per_invocation']:+.1f}"])
        cpu_rows.append([row["variant"],
                         *[f"{row['added_cpu_us'][c]['median']:+.1f}" for c in plan],
                         f"{row['cpu_slope_us_per_call']:+.2f}",
                         f"{row['cpu_intercept_us_per_invocation']:+.1f}"])
    bare = result["rows"][0]["absolute_us"]
    text = (
        f"{result['rounds']} rounds; botocore Stubber; invocations per batch by N: "
        + ", ".join(f"N={c}: {i}" for c, i in result["plan"].items())
        + ". Bare handler, µs per invocation (median): "
        + ", ".join(f"N={c}: {bare[c]['median']:.0f}" for c in plan)
        + ".\n\n"
        + table(["variant", *[f"µs added, N={c}" for c in plan], "fit: µs per call",
                 "fit: µs per invocation with calls"], rows)
        + "\n\n**Process CPU time** (all threads; far less disturbed by other jobs on a shared "
        "machine than wall time), paired medians:\n\n"
        + table(["variant", *[f"CPU µs added, N={c}" for c in plan], "fit: CPU µs per call",
                 "fit: CPU µs per invocation with calls"], cpu_rows)
    )
    if result.get("goals"):
        goal_rows = [[g["goal"], f"{g['figure']:+.1f} µs", f"{g.get('cpu', 0.0):+.1f} µs",
                      f"≤ {g['target']:.0f} µs", "**met**" if g["met"] else "**not met**"]
                     for g in result["goals"]]
        text += "\n\n**Goal 1 (per invocation), this run:**\n\n" + table(
            ["goal", "wall (median, paired)", "CPU (median, paired)", "target", "verdict"],
            goal_rows)
    return text


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
