#!/usr/bin/env python3
"""Render every analyzer report for a fixed set of inputs, or compare two such renderings.

A refactoring of the analyzer must not change a byte of what it prints. This script runs
``python -m lambda_trace analyze`` (a subprocess per run, as a user would) on:

- every log file of the real corpus under ``tests/data/corpus`` and ``tests/data/field``;
- two generated demo-like logs (``benchmarks/gen_logs.py``, fixed seed): ~20 MB and ~2 MB;
- the 20 MB log against a ``--baseline`` (the 2 MB log's saved JSON report, and the 2 MB log
  itself), so that the baseline path is covered too;

in each format: ``json`` (with ``--html`` beside it), ``terminal`` (``COLUMNS`` fixed) and
``markdown``. Each run's report, HTML page, stderr and exit code are written under OUT.

    scripts/check_reports_identical.py render OUT          # make a rendering (e.g. reference)
    scripts/check_reports_identical.py compare REF NEW      # byte-for-byte, first differing line
    scripts/check_reports_identical.py check REF OUT        # render into OUT, then compare

Normalisation: none is applied. The reports carry no generation time and no package version
(``schema_version`` is a constant of the format); rendering the same tree twice gives the same
bytes. ``NORMALISE`` below is where such a field would be masked if one is ever added.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIRS = ("tests/data/corpus", "tests/data/field")
SKIP_SUFFIXES = (".md",)  # PROVENANCE.md and friends are not logs (logs_insights_table.md is)
SEED = 7
GENERATED = (("demo20.log", "20M"), ("demo2.log", "2M"))
WIDTH = "100"
INPUTS = Path(tempfile.gettempdir()) / f"lambda-trace-report-check-seed{SEED}"

#: (pattern, replacement) applied to every output before comparing; empty: nothing is masked
NORMALISE: list[tuple[re.Pattern[bytes], bytes]] = []


def corpus_inputs() -> list[Path]:
    files = []
    for d in CORPUS_DIRS:
        for path in sorted((ROOT / d).rglob("*")):
            if not path.is_file():
                continue
            if path.suffix in SKIP_SUFFIXES and path.name != "logs_insights_table.md":
                continue
            files.append(path)
    return files


def generate() -> dict[str, Path]:
    """The generated logs, made once in one fixed place: reports name their input, so every
    rendering must read the same path (same seed and size give the same bytes)."""
    inputs = INPUTS
    inputs.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, size in GENERATED:
        path = inputs / name
        if not path.exists():
            subprocess.run(
                [sys.executable, str(ROOT / "benchmarks" / "gen_logs.py"), "--size", size,
                 "--seed", str(SEED), "--out", str(path)],
                check=True, stdout=subprocess.DEVNULL,
            )
        made[name] = path
    return made


def run(out: Path, label: str, args: list[str]) -> None:
    """One ``analyze`` run per format; its outputs go to OUT/label.*"""
    env = dict(os.environ, COLUMNS=WIDTH, NO_COLOR="1", TZ="UTC", PYTHONHASHSEED="0")
    env.pop("FORCE_COLOR", None)
    for fmt in ("json", "terminal", "markdown"):
        target = out / f"{label}.{fmt}"
        cmd = [sys.executable, "-m", "lambda_trace", "analyze", *args, "--format", fmt,
               "-o", str(target)]
        if fmt == "json":
            cmd += ["--html", str(out / f"{label}.html")]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True)
        (out / f"{label}.{fmt}.stderr").write_bytes(
            proc.stderr + f"\n[exit {proc.returncode}]\n".encode()
        )


def label_of(path: Path) -> str:
    return str(path.relative_to(ROOT)).replace("/", "__")


def render(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in corpus_inputs():
        run(out, label_of(path), [str(path.relative_to(ROOT))])
    gen = generate()
    for name, path in gen.items():
        run(out, f"generated__{name}", [str(path)])
    # the baseline file is named in the report: copy it to the fixed inputs directory
    small_json = INPUTS / "demo2.report.json"
    small_json.write_bytes((out / "generated__demo2.log.json").read_bytes())
    run(out, "baseline_json__demo20", [str(gen["demo20.log"]), "--baseline", str(small_json)])
    run(out, "baseline_log__demo20",
        [str(gen["demo20.log"]), "--baseline", str(gen["demo2.log"])])


def _normalised(data: bytes) -> bytes:
    for pattern, replacement in NORMALISE:
        data = pattern.sub(replacement, data)
    return data


def compare(ref: Path, new: Path) -> int:
    ref_files = sorted(p.name for p in ref.iterdir() if p.is_file())
    new_files = sorted(p.name for p in new.iterdir() if p.is_file())
    problems = 0
    for name in sorted(set(ref_files) ^ set(new_files)):
        print(f"only in {'reference' if name in ref_files else 'new'}: {name}")
        problems += 1
    total = 0
    for name in sorted(set(ref_files) & set(new_files)):
        a = _normalised((ref / name).read_bytes())
        b = _normalised((new / name).read_bytes())
        total += len(a)
        if a == b:
            continue
        problems += 1
        a_lines, b_lines = a.splitlines(), b.splitlines()
        for i, (x, y) in enumerate(zip(a_lines, b_lines)):
            if x != y:
                print(f"DIFFERS {name} line {i + 1}:\n  ref: {x[:300]!r}\n  new: {y[:300]!r}")
                break
        else:
            print(f"DIFFERS {name}: {len(a_lines)} lines in reference, {len(b_lines)} new")
    print(f"compared {len(ref_files)} files, {total:,} bytes: "
          f"{'IDENTICAL' if not problems else f'{problems} difference(s)'}")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("render").add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("ref", type=Path)
    c.add_argument("new", type=Path)
    k = sub.add_parser("check")
    k.add_argument("ref", type=Path)
    k.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "render":
        render(args.out)
        return 0
    if args.cmd == "compare":
        return compare(args.ref, args.new)
    render(args.out)
    return compare(args.ref, args.out)


if __name__ == "__main__":
    sys.exit(main())
