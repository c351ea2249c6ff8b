"""Make the benchmark venv (benchmarks/.peers/venv): the peers, the tools, and lambda-trace.

The peers are benchmark-only dependencies and must never reach the project's .venv, where the
test suite would see them. lambda-trace is installed *non-editable* on every run: an editable
install adds an import finder that costs ~25 ms at startup and would distort cold starts.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import venv
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Optional

from _harness import BENCH_DIR, PEERS_DIR, REPO_DIR, logger

VENV_DIR = PEERS_DIR / "venv"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
STAMP = VENV_DIR / ".requirements.sha256"


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    return venv_dir / "bin" / "python"


def exists() -> bool:
    return venv_python().exists()


def _pip(args: Sequence[str]) -> None:
    subprocess.run(
        [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True
    )


def ensure(log: Callable[[str], None], reinstall_ours: bool = True) -> Path:
    """Create or update the venv; return its python. Requirements are reinstalled on change."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not exists():
        log(f"creating {VENV_DIR} (a few minutes, once)")
        # The base interpreter, not our venv's: the peers venv must not inherit .venv's packages.
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV_DIR)
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        log(f"installing {REQUIREMENTS.name} into {VENV_DIR}")
        _pip(["install", "-r", str(REQUIREMENTS)])
        STAMP.write_text(digest + "\n")
    if reinstall_ours:
        log(f"installing lambda-trace from {REPO_DIR} (non-editable)")
        # --no-deps --force-reinstall picks up source changes without a version bump; the
        # second install brings in any dependency the runtime added since.
        _pip(["install", "--no-deps", "--force-reinstall", str(REPO_DIR)])
        _pip(["install", f"{REPO_DIR}[analyzer]"])
    return venv_python()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-reinstall", action="store_true", help="keep the installed ours")
    args = parser.parse_args(argv)
    print(ensure(logger(), reinstall_ours=not args.no_reinstall))
    return 0


if __name__ == "__main__":
    sys.exit(main())
