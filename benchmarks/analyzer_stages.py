"""Where the analyzer's time goes: CPU seconds per stage on one generated log, against the floor.

``python benchmarks/analyzer_stages.py [--size 20M] [--rounds 3]`` generates (or reuses) a log
with ``gen_logs.py`` and runs the analysis up to each stage in turn, in this process: reading
(files -> log events), parsing, redaction, the join, and the full ``analyze`` (aggregation by
function included); beside them the floor (``floor_parse.parse``: read, split, ``json.loads``).
Each run is a fresh process (the redaction cache and the timestamp memo start empty, as in
one ``analyze``) timing its stage alone, imports excluded. Each row is the minimum CPU time over
``--rounds`` runs (the machine is shared: the minimum is the least disturbed run), the cost it
adds to the row before, and that in MB/s of CPU time. Report rendering and interpreter start are
not in it (``bench_analyzer.py`` measures the whole command).
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

import floor_parse
import gen_logs
from _harness import DATA_DIR

from lambda_trace.analyzer.join import Joiner
from lambda_trace.analyzer.parse import Parser
from lambda_trace.analyzer.pipeline import analyze
from lambda_trace.analyzer.sources import open_sources
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.stackdump import merge_stack_dumps


def _events(path: Path) -> Any:
    return open_sources(argparse.Namespace(paths=[str(path)], no_progress=True), SourceStats())


def _drain(items: Any) -> None:
    collections.deque(items, 0)


def stages(path: Path) -> list[tuple[str, Callable[[], Any]]]:
    """(label, run) of each stage; a stage runs everything before it too."""
    def join() -> None:
        joiner = Joiner(call_sink=lambda call: None)
        joiner.consume(Parser().iter_events(_events(path)), lambda inv: None,
                       orphaned=lambda event: None, environment=lambda event: None)

    return [
        ("read (files -> log events)", lambda: _drain(_events(path))),
        ("+ parse", lambda: _drain(Parser()._final_events(merge_stack_dumps(_events(path))))),
        ("+ redaction", lambda: _drain(Parser().iter_events(_events(path)))),
        ("+ join", join),
        ("+ aggregate (= analyze)", lambda: analyze(_events(path))),
        ("floor (read + split + json.loads)", lambda: floor_parse.parse(str(path))),
    ]


def run_once(stage: int, path: Path) -> float:
    """CPU seconds of one stage in a fresh process."""
    out = subprocess.run([sys.executable, __file__, "--run", str(stage), str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=gen_logs.parse_size, default=20 << 20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="where the generated log is kept (default benchmarks/.data)")
    parser.add_argument("--run", nargs=2, metavar=("STAGE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # one stage, in this (fresh) process
        run = stages(Path(args.run[1]))[int(args.run[0])][1]
        start = time.process_time()
        run()
        print(time.process_time() - start)
        return 0
    path = args.data_dir / f"stages-{args.size}.log"
    args.data_dir.mkdir(parents=True, exist_ok=True)
    expected = gen_logs.ensure(path, args.size)
    mb = expected["bytes"] / 1e6
    labels = [label for label, _ in stages(path)]
    best = [float("inf")] * len(labels)
    for _ in range(args.rounds):  # rounds rotate through the stages, floor included
        for i in range(len(labels)):
            best[i] = min(best[i], run_once(i, path))
    floor = best[-1]
    print(f"{mb:.1f} MB, {expected['starts']} invocations; min CPU of {args.rounds} runs\n")
    print("| stage | CPU s | adds s | adds, MB/s of CPU | total ÷ floor |")
    print("|:---|---:|---:|---:|---:|")
    print(f"| floor (read + split + json.loads) | {floor:.3f} | - | {mb / floor:.1f} | 1.00x |")
    previous = 0.0
    for label, cpu in zip(labels[:-1], best[:-1]):
        added = max(cpu - previous, 1e-9)
        print(f"| {label} | {cpu:.3f} | {added:.3f} | {mb / added:.1f} | {cpu / floor:.2f}x |")
        previous = cpu
    return 0


if __name__ == "__main__":
    sys.exit(main())
