"""Cold start and memory: a tool's import + set-up + first invocation, in-process and whole.

Each sample is a fresh ``python coldstart_app.py VARIANT`` process; rounds run every variant
once, in rotating order, and differences are paired within a round. The verdict figure is the
*in-process* time from after the handler's own imports (boto3 + a client; Powertools Metrics for
the ``+ Powertools imported`` rows) to the end of the first invocation: whole-process timing
(spawn to exit, kept as a sanity column with its spread) cannot resolve a few ms on a 500 ms
process on a shared machine. The machine's speed drifts, so goal 2 is judged as ratios to
Powertools Metrics alone measured in the same rounds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional

from _harness import (
    BENCH_DIR,
    Summary,
    Variant,
    fmt_range,
    interleaved,
    lambda_env,
    paired_added,
    runnable,
    section_main,
    smoke_subset,
    summarize,
    table,
)

OTEL = ("opentelemetry.sdk", "opentelemetry.instrumentation.aws_lambda",
        "opentelemetry.instrumentation.botocore")
PT_METRICS = "Powertools Metrics + boto3"
OURS = "lambda-trace + boto3"
OURS_METRICS_OFF = "lambda-trace + boto3, metrics off"
PT_IMPORTED = "Powertools Metrics + boto3 + Powertools imported"
OURS_ON_PT = "Powertools Metrics, then @trace + boto3 + Powertools imported"
VARIANTS = [
    Variant("bare Python handler", "bare", group="baseline"),
    Variant("handler importing boto3 (+ a client)", "bare+boto3", ("boto3",), group="baseline"),
    Variant("lambda-trace", "lambda_trace", ("lambda_trace:trace",), group="ours"),
    Variant(OURS, "lambda_trace+boto3", ("boto3", "lambda_trace:trace"), group="ours"),
    Variant(OURS_METRICS_OFF, "lambda_trace+boto3", ("boto3", "lambda_trace:trace"),
            env={"LAMBDA_TRACE_METRICS": "off"}, group="ours"),
    Variant(PT_IMPORTED, "powertools_metrics+boto3+pt", ("boto3", "aws_lambda_powertools"),
            group="baseline"),
    Variant(OURS_ON_PT, "powertools_metrics_lambda_trace+boto3+pt",
            ("boto3", "aws_lambda_powertools", "lambda_trace:trace"), group="ours"),
    Variant(PT_METRICS, "powertools_metrics+boto3", ("boto3", "aws_lambda_powertools")),
    Variant("Powertools Logger + boto3", "powertools_logger+boto3",
            ("boto3", "aws_lambda_powertools")),
    Variant("Powertools Tracer + boto3", "powertools_tracer+boto3",
            ("boto3", "aws_lambda_powertools", "aws_xray_sdk")),
    Variant("X-Ray SDK patch_all + boto3", "xray+boto3", ("boto3", "aws_xray_sdk")),
    Variant("OpenTelemetry botocore + lambda + boto3", "otel+boto3", ("boto3", *OTEL)),
    Variant("Datadog (datadog-lambda) + boto3", "datadog+boto3", ("boto3", "datadog_lambda")),
    Variant("Lumigo tracer + boto3", "lumigo+boto3", ("boto3", "lumigo_tracer")),
]

ROUNDS, SMOKE_ROUNDS = 20, 1

#: Goal 2 (issue 15), as ratios to Powertools Metrics alone in the same run, and in ms.
GOAL_ALL_RATIO, GOAL_OURS_RATIO = 1.25, 0.5
GOAL_ON_PT_MS, GOAL_ON_BOTO3_MS = 5.0, 15.0
RATIO = "\u00d7"  # the unit of a ratio


def sample(python: str, variant: Variant) -> dict[str, float]:
    """Wall ms, CPU ms (user + sys), VmHWM and VmRSS (MB) of one cold process, and the in-process
    ms from after the handler's own imports to the end of its first invocation."""
    read_fd, write_fd = os.pipe()
    env = lambda_env({"_HANDLER": "coldstart_app.work", **variant.env})
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [python, str(BENCH_DIR / "coldstart_app.py"), variant.key, str(write_fd)],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=str(BENCH_DIR),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall_ms = (time.perf_counter() - start) * 1000.0
        proc.returncode = os.waitstatus_to_exitcode(status)
        os.close(write_fd)
        with os.fdopen(read_fd) as replies:
            reply = replies.read().split()
        if proc.returncode != 0 or len(reply) != 3:
            err.seek(0)
            raise RuntimeError(f"{variant.name}: {err.read().decode(errors='replace')[-1500:]}")
    return {
        "wall": wall_ms,
        "cpu": (usage.ru_utime + usage.ru_stime) * 1000.0,
        "hwm": int(reply[0]) / 1024.0,
        "rss": int(reply[1]) / 1024.0,
        "inproc": int(reply[2]) / 1e6,
    }


def _imports(python: str, variant: str) -> dict[str, tuple[int, int, int]]:
    """module -> (self µs, cumulative µs, depth) of one ``python -X importtime`` cold start."""
    out = subprocess.run(
        [python, "-X", "importtime", str(BENCH_DIR / "coldstart_app.py"), variant, "1"],
        capture_output=True, text=True, env=lambda_env({"_HANDLER": "coldstart_app.work"}),
        cwd=str(BENCH_DIR), check=True,
    )
    entries = {}
    for m in re.finditer(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", out.stderr):
        entries[m.group(4)] = (int(m.group(1)), int(m.group(2)), len(m.group(3)) // 2)
    return entries


def importtime(python: str, variant: str, top: int = 14) -> list[dict[str, Any]]:
    """The heaviest imports (by cumulative µs) that one cold start adds to a bare one.

    The whole cold start, not just ``import lambda_trace``: imports made lazily by the first
    invocation count too. Modules a bare start imports as well (encodings, site...) are left out.
    """
    bare = set(_imports(python, "bare"))
    runs = [_imports(python, variant) for _ in range(3)]  # the median of three, per module
    names = set(runs[0]).intersection(*runs[1:]) - bare
    rows = []
    for name in names:
        selfs = sorted(r[name][0] for r in runs)
        cums = sorted(r[name][1] for r in runs)
        rows.append({"module": name, "self_us": selfs[1], "cumulative_us": cums[1],
                     "depth": runs[0][name][2]})
    rows.sort(key=lambda r: -r["cumulative_us"])
    return rows[:top]


def run(python: str, smoke: bool, log: Callable[[str], None]) -> dict[str, Any]:
    candidates = runnable(python, smoke_subset(VARIANTS) if smoke else VARIANTS, log)
    log("cold start: warm-up (bytecode caches; a peer that fails here is left out)")
    variants = []
    for v in candidates:
        try:
            sample(python, v)
        except RuntimeError as exc:
            if v.group != "peer":
                raise
            log(f"  skip {v.name}: {str(exc).strip().splitlines()[-1]}")
            continue
        variants.append(v)
    by_name = {v.name: v for v in variants}
    rounds = SMOKE_ROUNDS if smoke else ROUNDS
    log(f"cold start: {rounds} rounds of {len(variants)} processes")
    samples = interleaved([v.name for v in variants], rounds,
                          lambda name: sample(python, by_name[name]))
    bare, boto3 = VARIANTS[0].name, VARIANTS[1].name
    has_boto3 = boto3 in by_name

    def added(metric: str, base: str, v: Variant) -> Optional[dict[str, float]]:
        if base == boto3 and ("boto3" not in v.key or not has_boto3):
            return None
        return paired_added(samples[metric], base)[v.name].to_dict()

    rows = []
    for v in variants:
        rows.append({
            "variant": v.name,
            "group": v.group,
            "key": v.key,
            "wall_ms": summarize(samples["wall"][v.name]).to_dict(),
            "cpu_ms": summarize(samples["cpu"][v.name]).to_dict(),
            "added_ms_vs_bare": added("wall", bare, v),
            "added_ms_vs_boto3": added("wall", boto3, v),
            "added_cpu_ms_vs_bare": added("cpu", bare, v),
            "added_cpu_ms_vs_boto3": added("cpu", boto3, v),
            "hwm_mb": summarize(samples["hwm"][v.name]).to_dict(),
            "rss_mb": summarize(samples["rss"][v.name]).to_dict(),
            "hwm_added_mb_vs_bare": added("hwm", bare, v),
            "hwm_added_mb_vs_boto3": added("hwm", boto3, v),
            "in_process_ms": summarize(samples["inproc"][v.name]).to_dict(),
        })
    result: dict[str, Any] = {"name": "coldstart", "rounds": rounds, "rows": rows,
                              "goals": goals(samples["inproc"])}
    if "lambda-trace" in by_name:
        log("cold start: -X importtime of lambda-trace")
        result["importtime"] = importtime(python, "lambda_trace")
    return result


def goals(inproc: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Goal 2's figures from the in-process samples: medians of paired per-round values."""
    out: list[dict[str, Any]] = []
    if PT_METRICS not in inproc:
        return out
    pt = summarize(inproc[PT_METRICS]).median

    def row(what: str, figure: float, goal: float, unit: str, detail: str) -> None:
        out.append({"goal": what, "figure": figure, "target": goal, "unit": unit,
                    "met": figure <= goal, "detail": detail})

    if OURS in inproc:
        ours = summarize(inproc[OURS]).median
        row("all of lambda-trace / Powertools Metrics alone (boto3 handler)", ours / pt,
            GOAL_ALL_RATIO, RATIO, f"{ours:.1f} ms / {pt:.1f} ms")
        row("lambda-trace over a boto3-only handler", ours, GOAL_ON_BOTO3_MS, "ms",
            "in-process, median")
    if OURS_METRICS_OFF in inproc:
        off = summarize(inproc[OURS_METRICS_OFF]).median
        row("ours without Powertools (metrics off) / Powertools Metrics alone", off / pt,
            GOAL_OURS_RATIO, RATIO, f"{off:.1f} ms / {pt:.1f} ms")
    if OURS_ON_PT in inproc and PT_IMPORTED in inproc:
        marginal = paired_added(inproc, PT_IMPORTED)[OURS_ON_PT].median
        row("ours on a handler already importing boto3 + Powertools", marginal, GOAL_ON_PT_MS,
            "ms", "paired with Powertools Metrics alone on the same imports")
    return out


def _cell(d: Optional[dict[str, Any]], digits: int = 1) -> str:
    return fmt_range(Summary.from_dict(d), digits) if d else "\u2013"


def render(result: dict[str, Any]) -> str:
    rows = []
    mem_rows = []
    for row in result["rows"]:
        over_boto3 = row["added_ms_vs_boto3"] is not None
        rows.append([
            row["variant"],
            f"{row['wall_ms']['median']:.1f}",
            _cell(row["added_ms_vs_bare"]),
            _cell(row["added_ms_vs_boto3"]),
            f"{row['added_cpu_ms_vs_bare']['median']:+.1f}" + (
                f" / {row['added_cpu_ms_vs_boto3']['median']:+.1f}" if over_boto3 else ""),
        ])
        mem_rows.append([
            row["variant"],
            f"{row['hwm_mb']['median']:.1f}",
            f"{row['rss_mb']['median']:.1f}",
            _cell(row["hwm_added_mb_vs_boto3"] if over_boto3 else row["hwm_added_mb_vs_bare"]),
        ])
    inproc_rows = [
        [row["variant"], fmt_range(Summary.from_dict(row["in_process_ms"]), 1, signed=False)]
        for row in result["rows"] if "in_process_ms" in row
    ]
    text = ""
    if inproc_rows:
        text += (
            "**In-process** (the verdict method): ms from after the handler's own imports "
            "(boto3 + a client; Powertools Metrics where the row says so) to the end of its "
            "first invocation, after a `gc.collect()` (see `coldstart_app.py` why), "
            f"{result['rounds']} fresh processes per row: median (min … max).\n\n"
            + table(["variant", "in-process ms"], inproc_rows) + "\n\n"
        )
    if result.get("goals"):
        goal_rows = [
            [g["goal"],
             f"{g['figure']:.2f}{g['unit']}" if g["unit"] == RATIO else f"{g['figure']:.1f} ms",
             f"≤ {g['target']}{g['unit']}" if g["unit"] == RATIO else f"≤ {g['target']:.0f} ms",
             "**met**" if g["met"] else "**not met**", g["detail"]]
            for g in result["goals"]
        ]
        text += "**Goal 2 (cold start), this run:**\n\n" + table(
            ["goal", "figure", "target", "verdict", "how"], goal_rows) + "\n\n"
    text += (
        "Whole process (sanity column; spread shows what it cannot resolve): "
        f"{result['rounds']} rounds; every sample is a new process "
        "(interpreter start + imports + set-up + one invocation + exit).\n\n"
        + table(["variant", "process ms (wall)", "ms added over bare Python: median (min … max)",
                 "ms added over the boto3 handler", "CPU ms added (over bare / boto3)"], rows)
        + "\n\n**Memory** (VmHWM = peak RSS, read in the process after its first invocation; "
        "'added' is over bare Python for the first rows and over the boto3 handler for the "
        "`+ boto3` rows):\n\n"
        + table(["variant", "VmHWM MB", "VmRSS MB", "peak MB added: median (min … max)"],
                mem_rows)
    )
    if result.get("importtime"):
        imp_rows = [
            [f"`{r['module']}`", str(r["depth"]), f"{r['self_us'] / 1000:.1f}",
             f"{r['cumulative_us'] / 1000:.1f}"]
            for r in result["importtime"]
        ]
        text += (
            "\n\n**`python -X importtime coldstart_app.py lambda_trace`** (import, decorate, "
            "first invocation): the heaviest imports a bare start does not make, by cumulative "
            "time, median of 3 (depth 0 = imported by the app itself):\n\n"
            + table(["module", "depth", "self ms", "cumulative ms"], imp_rows)
        )
    return text


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
