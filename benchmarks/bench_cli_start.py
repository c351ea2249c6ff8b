"""How long ``lambda-trace`` takes to start: ``--help``, ``analyze --help``, ``analyze`` of a small
file (issue #15, goal 3: each ≤ 150 ms), this tree against an earlier one in the same run.

Every measurement is a fresh ``python -m lambda_trace ...`` process, wall time from spawn to exit,
output to /dev/null, every module's bytecode compiled beforehand. The earlier tree
(``--before-ref``, default ``main``) is unpacked from git into a temporary directory and put
first on ``PYTHONPATH``; each round runs both trees back to back in a random order (paired), so
the machine's drift hits both alike, and the table gives the medians and the median of the
per-round differences. ``python -c pass`` is the floor (the interpreter alone). Module counts
come from one ``-X importtime`` run per tree and command.

    .venv/bin/python benchmarks/bench_cli_start.py [--rounds 40] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from _harness import REPO_DIR, compile_tree, unpack_tree

START, END = "<!-- bench:cli-start:start -->", "<!-- bench:cli-start:end -->"
HEADING = "## CLI start (issue #15, goal 3)"
GOAL_MS = 150.0

#: command line -> its label in the table ({log} is the small log file)
CASES = {
    "help": ["--help"],
    "analyze-help": ["analyze", "--help"],
    "analyze": ["analyze", "--no-progress", "--format", "json", "{log}"],
    "analyze-terminal": ["analyze", "--no-progress", "{log}"],  # + rich
}


def small_log(path: Path, invocations: int = 20) -> Path:
    """START/END/REPORT of ``invocations`` invocations as Lambda writes them (Text log format).

    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
    """
    lines = []
    for i in range(invocations):
        rid = f"8f5e2c7a-4b1d-4c3e-9a2f-{i:012d}"
        lines += [
            f"START RequestId: {rid} Version: $LATEST",
            f"END RequestId: {rid}",
            f"REPORT RequestId: {rid}\tDuration: {100 + i}.35 ms\tBilled Duration: {101 + i} ms\t"
            "Memory Size: 256 MB\tMax Memory Used: 87 MB\t",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def command(python: str, argv: Sequence[str], log: Path) -> list[str]:
    return [python, "-m", "lambda_trace", *(a.replace("{log}", str(log)) for a in argv)]


def env_for(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "100"}


def wall_ms(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}")
    return elapsed


def modules(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, int]:
    """Modules imported (all, and lambda_trace's own), from one ``-X importtime`` run."""
    done = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], env=env, cwd=cwd,
                          capture_output=True, text=True, check=True)
    names = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2]
    names = [n for n in names if n != "imported package"]
    ours = [n for n in names if n == "lambda_trace" or n.startswith("lambda_trace.")]
    return {"all": len(names), "lambda_trace": len(ours),
            "analyzer": sum(n.startswith("lambda_trace.analyzer") for n in ours),
            "local": sum(n.startswith("lambda_trace.local") for n in ours)}


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
    return {"median": statistics.median(ordered), "p25": q[0], "p75": q[2],
            "min": ordered[0], "max": ordered[-1]}


def measure(python: str, before_ref: str, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        log = small_log(work / "small.log")
        trees = {"before": unpack_tree(before_ref, work), "after": REPO_DIR}
        envs = {name: env_for(tree) for name, tree in trees.items()}
        for tree in trees.values():
            compile_tree(python, tree)
        floor: list[float] = []
        times: dict[str, dict[str, list[float]]] = {
            case: {"before": [], "after": []} for case in CASES}
        for argv in CASES.values():  # warm the file cache and the bytecode of both trees
            for variant in trees:
                wall_ms(command(python, argv, log), envs[variant], work)
        for _ in range(rounds):
            floor.append(wall_ms([python, "-c", "pass"], envs["after"], work))
            for name, argv in CASES.items():
                order = list(trees)
                random.shuffle(order)
                for variant in order:
                    times[name][variant].append(
                        wall_ms(command(python, argv, log), envs[variant], work))
        rows = []
        for name, argv in CASES.items():
            before, after = times[name]["before"], times[name]["after"]
            rows.append({
                "case": name,
                "argv": " ".join(argv).replace("{log}", "small.log"),
                "before_ms": spread(before),
                "after_ms": spread(after),
                "paired_diff_ms": spread([a - b for a, b in zip(after, before)]),
                "modules_before": modules(command(python, argv, log), envs["before"], work),
                "modules_after": modules(command(python, argv, log), envs["after"], work),
            })
    commit = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", before_ref],
                            capture_output=True, text=True, check=True).stdout.strip()
    return {"name": "cli-start", "rounds": rounds, "before_ref": before_ref,
            "before_commit": commit,
            "floor_ms": spread(floor), "rows": rows, "goal_ms": GOAL_MS,
            "loadavg": os.getloadavg()[0],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def render(section: dict[str, Any]) -> str:
    floor = section["floor_ms"]
    lines = [
        f"_Measured {section['date']} (load average {section['loadavg']:.1f} at the end), "
        f"{section['rounds']} paired rounds of fresh processes, before = "
        f"`{section['before_ref']}` ({section['before_commit']}); rerun with "
        "`.venv/bin/python benchmarks/bench_cli_start.py --before-ref REF --write BENCHMARKS.md`._",
        "",
        f"Floor (`python -c pass`): median {floor['median']:.1f} ms "
        f"(p25-p75 {floor['p25']:.1f}-{floor['p75']:.1f}).",
        "",
        "| `lambda-trace …` | before: median (p25-p75) | after: median (p25-p75) "
        "| after - before, paired median | modules before → after (lambda_trace's) "
        f"| ≤ {section['goal_ms']:.0f} ms |",
        "|:---|---:|---:|---:|---:|:---|",
    ]
    for row in section["rows"]:
        b, a, d = row["before_ms"], row["after_ms"], row["paired_diff_ms"]
        mb, ma = row["modules_before"], row["modules_after"]
        met = "met" if a["median"] <= section["goal_ms"] else "not met"
        lines.append(
            f"| `{row['argv']}` | {b['median']:.1f} ({b['p25']:.1f}-{b['p75']:.1f}) "
            f"| **{a['median']:.1f}** ({a['p25']:.1f}-{a['p75']:.1f}) | {d['median']:+.1f} "
            f"| {mb['all']} ({mb['lambda_trace']}) → {ma['all']} ({ma['lambda_trace']}) "
            f"| {met} |")
    return "\n".join(lines)


def write(doc: Path, text: str) -> None:
    """Replace this benchmark's block (under its own heading) and nothing else."""
    content = doc.read_text(encoding="utf-8")
    block = f"{START}\n\n{text}\n\n{END}"
    if START in content and END in content:
        head, rest = content.split(START, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = content.rstrip("\n") + f"\n\n{HEADING}\n\n{block}\n"
    doc.write_text(content, encoding="utf-8")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--before-ref", default="main",
                        help="the git ref to compare with (default: main)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="2 rounds, to check it runs")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    args = parser.parse_args(argv)
    section = measure(args.python, args.before_ref, 2 if args.smoke else args.rounds)
    text = render(section)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(section, indent=2), encoding="utf-8")
    if args.write:
        write(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
