"""Analyzer throughput and memory on generated logs, against a Python parse-only floor and jq.

Every run is a separate process timed from spawn to exit (wall) and by its rusage (CPU, peak
RSS). Rounds rotate the three readers. Each reader's answer is checked against the totals the
generator wrote beside the log, so a fast wrong reader cannot win.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import gen_logs
from _harness import (
    BENCH_DIR,
    DATA_DIR,
    Summary,
    available_modules,
    before_tree,
    fmt_range,
    lambda_env,
    section_main,
    summarize,
    table,
    tree_pythonpath,
)

JQ = "jq"
#: (label, size, rounds for floor and analyzer, rounds for jq). jq runs at ~10 MB/s here, so
#: it is compared at 100 MB only: at 1 GB it alone would take most of the time budget.
PLAN = [("100 MB", 100 << 20, 3, 2), ("1 GB", 1 << 30, 2, 0)]
SMOKE_PLAN = [("256 kB", 256 << 10, 1, 1)]


def timed_run(argv: Sequence[str], out_path: str, env: dict[str, str]) -> dict[str, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one process writing stdout to a file."""
    with open(out_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, env=env,
                                cwd=str(BENCH_DIR))
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}: {err.decode()[-1500:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024.0}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def check_floor(out: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    problems = []
    if out.get("bad_json"):
        problems.append(f"{out['bad_json']} JSON lines did not decode")
    return problems


def check_jq(out: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    problems = [
        f"{key}: {out.get(key)} != {expected[key]}"
        for key in ("starts", "reports", "timeouts", "invocation_records", "errors")
        if out.get(key) != expected[key]
    ]
    if not _close(float(out.get("report_duration_ms", 0)), expected["report_duration_ms"]):
        problems.append("report_duration_ms differs")
    for name, dep in expected["deps"].items():
        got = out.get("deps", {}).get(name, {})
        if got.get("count") != dep["count"] or not _close(got.get("total_ms", 0), dep["total_ms"]):
            problems.append(f"dependency {name} differs")
    return problems


def check_analyzer(out: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Invocations, timeouts and per-dependency calls (every call line) must match the log."""
    problems = []
    for key, exp_key in (("invocations", "starts"), ("cold_starts", "cold_starts"),
                         ("timeouts", "timeouts"), ("out_of_memory", "oom_kills")):
        if out.get(key) != expected[exp_key]:
            problems.append(f"{key}: {out.get(key)} != {expected[exp_key]}")
    deps = {d.get("name"): d for d in out.get("dependencies", [])}
    for name, dep in expected["call_deps"].items():
        got = deps.get(name)
        if got is None or got.get("calls") != dep["count"]:
            problems.append(f"dependency {name}: {got and got.get('calls')} != {dep['count']}")
        elif abs(float(got.get("total_ms", 0)) - dep["total_ms"]) > 0.01 * dep["count"] + 0.01:
            problems.append(f"dependency {name}: total_ms {got.get('total_ms')} != "
                            f"{dep['total_ms']:.3f}")
    return problems


def readers(python: str, log: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {
        "Python floor (read + split + json.loads)": {
            "argv": [python, str(BENCH_DIR / "floor_parse.py")], "check": check_floor},
        "jq (`jq -nR -f stats.jq`)": {"argv": [JQ, "-nR", "-f", str(BENCH_DIR / "stats.jq")],
                                     "check": check_jq},
    }
    try:
        subprocess.run([JQ, "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        log("  skip jq: not installed")
        del found["jq (`jq -nR -f stats.jq`)"]
    if "lambda_trace.analyzer.cmd_analyze" in available_modules(
        python, ["lambda_trace.analyzer.cmd_analyze"]
    ):
        found["`lambda-trace analyze --format json`"] = {
            "argv": [python, "-m", "lambda_trace.analyzer.cli", "analyze", "--format", "json",
                     "--no-progress"],
            "check": check_analyzer,
        }
        if _has_jobs(python):
            found["`lambda-trace analyze --format json --jobs 2`"] = {
                "argv": [*found["`lambda-trace analyze --format json`"]["argv"], "--jobs", "2"],
                "check": check_analyzer,
            }
    else:
        log("  skip lambda-trace analyze: lambda_trace.analyzer.cmd_analyze not installed")
    before = before_tree(python)
    if before is not None and "`lambda-trace analyze --format json`" in found:
        ref, tree = before
        found[f"`lambda-trace analyze --format json` @ {ref}"] = {
            **found["`lambda-trace analyze --format json`"],
            "env": {"PYTHONPATH": tree_pythonpath(tree)},
        }
    return found


def _has_jobs(python: str) -> bool:
    """Whether the analyzer the runs will import has ``--jobs`` (one from before it: no row)."""
    out = subprocess.run([python, "-m", "lambda_trace.analyzer.cli", "analyze", "--help"],
                         capture_output=True, text=True, env=lambda_env(), cwd=str(BENCH_DIR),
                         check=False)
    return "--jobs" in out.stdout


def measure_size(python: str, label: str, size: int, rounds: int, jq_rounds: int,
                 log: Callable[[str], None], data_dir: Path) -> dict[str, Any]:
    path = data_dir / f"logs-{label.replace(' ', '')}.log"
    log(f"analyzer: generating {label} into {path} (skipped when already there)")
    t0 = time.perf_counter()
    expected = gen_logs.ensure(path, size)
    log(f"  ready in {time.perf_counter() - t0:.1f}s: {expected['bytes']} bytes")
    found = readers(python, log)
    env = lambda_env()
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in found}
    problems: dict[str, list[str]] = {name: [] for name in found}
    names = list(found)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                if name.startswith("jq") and r >= jq_rounds:
                    continue
                out_path = os.path.join(tmp, "out.json")
                log(f"  round {r + 1}: {name}")
                run_env = {**env, **found[name].get("env", {})}
                samples[name].append(timed_run([*found[name]["argv"], str(path)], out_path,
                                               run_env))
                try:
                    with open(out_path) as f:
                        answer = json.load(f)
                except ValueError:
                    problems[name] = ["output is not JSON"]
                    continue
                problems[name] = found[name]["check"](answer, expected)
    mb = expected["bytes"] / 1e6
    rows = []
    for name in names:
        runs = samples[name]
        if not runs:
            continue
        rows.append({
            "reader": name,
            "runs": len(runs),
            "wall_s": summarize([s["wall_s"] for s in runs]).to_dict(),
            "cpu_s": summarize([s["cpu_s"] for s in runs]).to_dict(),
            "mb_per_s": summarize([mb / s["wall_s"] for s in runs]).to_dict(),
            "cpu_mb_per_s": summarize([mb / s["cpu_s"] for s in runs]).to_dict(),
            "rss_mb": summarize([s["rss_mb"] for s in runs]).to_dict(),
            "problems": problems[name][:5],
        })
    return {"label": label, "bytes": expected["bytes"], "path": str(path), "rows": rows}


def run(python: str, smoke: bool, log: Callable[[str], None],
        data_dir: Path = DATA_DIR) -> dict[str, Any]:
    sizes = []
    for label, size, rounds, jq_rounds in SMOKE_PLAN if smoke else PLAN:
        sizes.append(measure_size(python, label, size, rounds, jq_rounds, log, data_dir))
    return {"name": "analyzer", "sizes": sizes}


def render(result: dict[str, Any]) -> str:
    parts = []
    for s in result["sizes"]:
        floor = next((r for r in s["rows"] if r["reader"].startswith("Python floor")), None)
        rows = []
        for r in s["rows"]:
            x = "\u2013"
            if floor is not None and r is not floor:
                x = f"{r['wall_s']['median'] / floor['wall_s']['median']:.2f}\u00d7 / " \
                    f"{r['cpu_s']['median'] / floor['cpu_s']['median']:.2f}\u00d7"
            rows.append([
                r["reader"],
                str(r["runs"]),
                fmt_range(Summary.from_dict(r["mb_per_s"]), 1, signed=False),
                f"{r['cpu_mb_per_s']['median']:.1f}",
                f"{r['rss_mb']['median']:.0f}",
                x,
                "✓" if not r["problems"] else "✗ " + "; ".join(r["problems"]),
            ])
        parts.append(
            f"#### {s['label']} ({s['bytes'] / 1e6:.1f} MB, `{Path(s['path']).name}`)\n\n"
            + table(["reader", "runs", "MB/s wall: median (min … max)", "MB/s of CPU time",
                     "peak RSS MB", "time ÷ floor (wall / CPU)", "answer checked"], rows)
        )
    return "\n\n".join(parts)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return section_main(__doc__, run, render, argv)


if __name__ == "__main__":
    sys.exit(main())
