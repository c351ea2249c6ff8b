"""The watchdog thread and the GIL: what the GIL-keeping system calls (``_libc``) buy.

A woken watchdog queues for the GIL while the handler runs Python; every GIL release by the
handler's thread then wakes it (docs/runtime.md, Watchdog). This measures a realistic warm
invocation — ``N`` stubbed DynamoDB GetItem calls (botocore Stubber), the workload of
``bench_scaling`` — in fresh processes, one per variant and repetition, in rotating order:

* bare boto3; lambda-trace with defaults; lambda-trace with the watchdog off (no waiting thread:
  the reference for what the GIL costs us); and, with ``--before REF``, lambda-trace as it was at
  that git ref (its ``lambda_trace/`` unpacked from git, imported ahead of this tree's).

Each process times ``--rounds`` batches of ``--invocations`` after a warm-up; its figure is the
median batch. Printed per variant: µs per invocation added over bare (wall and process CPU,
paired by repetition, median and range), the voluntary context switches of the process's
threads other than the main one per invocation (the watchdog's wake-ups for the GIL), and with
``--before`` the paired difference between now and then.

    .venv/bin/python benchmarks/bench_watchdog_gil.py [--calls 10] [--reps 8] [--before REF]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from _harness import REPO_DIR, lambda_env, unpack_tree

WORKER = r"""
import gc, json, os, sys, time
before = os.environ.get("BENCH_GIL_TREE")
if before:
    # The repository's .venv installs lambda-trace editable; its import finder would win over
    # sys.path, so it is dropped for the "before" tree to be the one imported.
    sys.meta_path[:] = [f for f in sys.meta_path
                        if "editable" not in str(getattr(f, "__module__", ""))]
    sys.path.insert(0, before)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the records: written, not kept
import workload
calls, invocations, rounds = (int(a) for a in sys.argv[1:4])
workload.CALLS_PER_INVOCATION = calls
handler = workload.setup(sys.argv[4])
if before:
    import lambda_trace
    assert lambda_trace.__file__.startswith(before), lambda_trace.__file__
import boto3
from botocore.stub import Stubber
workload.CLIENT = boto3.client("dynamodb")
stubber = Stubber(workload.CLIENT)
stubber.activate()
contexts, event = workload.contexts(), workload.EVENT
perf, cpu = time.perf_counter_ns, time.process_time_ns
results = []
for batch in range(rounds + 2):  # two warm-up batches
    gc.collect()
    wall = used = 0
    for _ in range(invocations):
        for _ in range(calls):
            stubber.add_response("get_item", workload.GET_ITEM_RESPONSE)
        context = next(contexts)
        c0, t0 = cpu(), perf()
        handler(event, context)
        wall += perf() - t0
        used += cpu() - c0
    workload.release()
    if batch >= 2:
        results.append((wall / invocations / 1000, used / invocations / 1000))
switches = 0
main = str(os.getpid())
for tid in os.listdir("/proc/self/task"):
    if tid == main:
        continue
    try:
        with open(f"/proc/self/task/{tid}/status") as f:
            switches += next(int(line.split()[1]) for line in f
                             if line.startswith("voluntary_ctxt_switches"))
    except (OSError, StopIteration):
        pass  # a thread that ended meanwhile
wall = sorted(r[0] for r in results)[len(results) // 2]
used = sorted(r[1] for r in results)[len(results) // 2]
total = invocations * (rounds + 2)
os.write(2, ("RESULT " + json.dumps([wall, used, switches / total]) + "\n").encode())
"""

def measure(python: str, key: str, env: dict[str, str], args: argparse.Namespace) -> list[float]:
    # the harness's worker environment: the Lambda variables, benchmarks/ on the path, no
    # inherited LAMBDA_TRACE_* setting, bytecode caches on
    done = subprocess.run(
        [python, "-c", WORKER, str(args.calls), str(args.invocations), str(args.rounds), key],
        env=lambda_env(env), cwd=str(REPO_DIR), capture_output=True, text=True, timeout=600)
    found = [line for line in done.stderr.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not found:
        raise SystemExit(f"bench_watchdog_gil: {key} failed: {done.stderr.strip()[-800:]}")
    values: list[float] = json.loads(found[-1][7:])
    return values


def before_tree(ref: str) -> Path:
    return unpack_tree(ref, Path(tempfile.mkdtemp(prefix="lambda-trace-gil-")))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--invocations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--before", metavar="REF", help="also measure lambda-trace at this ref")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    variants: list[tuple[str, str, dict[str, str]]] = [
        ("bare boto3", "bare", {}),
        ("lambda-trace (default)", "lambda_trace", {}),
        ("lambda-trace, watchdog off", "lambda_trace", {"LAMBDA_TRACE_WATCHDOG": "false"}),
    ]
    if args.before:
        variants.append((f"lambda-trace (default) @ {args.before}", "lambda_trace",
                         {"BENCH_GIL_TREE": str(before_tree(args.before))}))
    seen: dict[str, list[list[float]]] = {name: [] for name, _, _ in variants}
    for rep in range(args.reps):
        shift = rep % len(variants)  # who goes first rotates
        for name, key, env in variants[shift:] + variants[:shift]:
            seen[name].append(measure(args.python, key, env, args))
    bare = seen["bare boto3"]
    print(f"{args.calls} calls per invocation, {args.reps} repetitions of {args.rounds} batches "
          f"of {args.invocations}; bare: {statistics.median(r[0] for r in bare):.1f} µs\n")
    print("| variant | µs added (wall): median (min … max) | µs added (CPU) | "
          "other threads' voluntary switches per invocation |")
    print("|:---|---:|---:|---:|")
    for name, _, _ in variants[1:]:
        rows = seen[name]
        wall = [r[0] - b[0] for r, b in zip(rows, bare)]
        used = [r[1] - b[1] for r, b in zip(rows, bare)]
        print(f"| {name} | +{statistics.median(wall):.1f} ({min(wall):+.1f} … {max(wall):+.1f})"
              f" | +{statistics.median(used):.1f} | {statistics.median(r[2] for r in rows):.2f} |")
    if args.before:
        # Paired within each repetition: the machine's drift between repetitions cancels.
        now, then = seen["lambda-trace (default)"], seen[variants[-1][0]]
        wall = [a[0] - b[0] for a, b in zip(now, then)]
        used = [a[1] - b[1] for a, b in zip(now, then)]
        print(f"\nnow minus @ {args.before}, paired by repetition: wall median "
              f"{statistics.median(wall):+.1f} µs (lower in {sum(w < 0 for w in wall)} of "
              f"{len(wall)}), CPU median {statistics.median(used):+.1f} µs (lower in "
              f"{sum(u < 0 for u in used)} of {len(used)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
