"""What the faulthandler stack dump (``lambda_trace._lastword``) adds to each invocation.

Each round runs, in fresh interpreters, a trivial ``@trace``d handler N times with
``LAMBDA_TRACE_STACK_DUMP`` on (the default: a POSIX timer that signals the watchdog thread;
``=thread``: ``faulthandler.dump_traceback_later``; ``=signal``: SIGALRM) and off (stdout to
/dev/null, a 3 s fake deadline so the dump is armed), plus ``faulthandler.dump_traceback_later``
+ ``cancel`` alone. Rounds alternate the variants; the
table gives the median and range of µs per invocation over the rounds.

    .venv/bin/python benchmarks/bench_last_word.py [--invocations 2000] [--rounds 9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TRACED = """
import os, sys, time
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
from lambda_trace import trace
from lambda_trace.testing import FakeContext

@trace(metrics=False)
def handler(event, context):
    return event

ctx = FakeContext(timeout_ms=3000)
n = int(sys.argv[1])
for _ in range(200):
    handler(1, ctx)
t0 = time.perf_counter_ns()
for _ in range(n):
    handler(1, ctx)
os.write(2, str((time.perf_counter_ns() - t0) / n / 1e3).encode())
"""

ALONE = """
import faulthandler, os, sys, time
fd = os.dup(2)
n = int(sys.argv[1])
t0 = time.perf_counter_ns()
for _ in range(n):
    faulthandler.dump_traceback_later(3.0, file=fd)
    faulthandler.cancel_dump_traceback_later()
os.write(2, str((time.perf_counter_ns() - t0) / n / 1e3).encode())
"""

VARIANTS = {
    "@trace, stack dump by a timer signalling the watchdog thread (default)": (
        TRACED, {"LAMBDA_TRACE_STACK_DUMP": "1"}),
    "@trace, stack dump by a thread (dump_traceback_later, =thread)": (
        TRACED, {"LAMBDA_TRACE_STACK_DUMP": "thread"}),
    "@trace, stack dump by SIGALRM (opt-in)": (TRACED, {"LAMBDA_TRACE_STACK_DUMP": "signal"}),
    "@trace, stack dump off": (TRACED, {"LAMBDA_TRACE_STACK_DUMP": "0"}),
    "dump_traceback_later + cancel alone": (ALONE, {}),
}


def once(code: str, env: dict[str, str], invocations: int) -> float:
    done = subprocess.run(
        [sys.executable, "-c", code, str(invocations)], capture_output=True, text=True,
        check=True, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, cwd=str(ROOT),
    )
    return float(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="print the samples as JSON")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, (code, env) in VARIANTS.items():
            samples[name].append(once(code, env, args.invocations))
    if args.json:
        print(json.dumps(samples))
        return
    print(f"{args.invocations} invocations x {args.rounds} rounds, µs per invocation")
    print("| variant | median | min … max |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        print(f"| {name} | {statistics.median(values):.1f} | "
              f"{min(values):.1f} … {max(values):.1f} |")
    off = statistics.median(samples["@trace, stack dump off"])
    for name in list(VARIANTS)[:3]:
        added = statistics.median(samples[name]) - off
        print(f"{name}: +{added:.1f} µs per invocation (median - median with the dump off)")


if __name__ == "__main__":
    main()
