"""Helpers shared by the runtime's tests: validate everything a capture holds, run scripts."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from emf_validation import assert_valid_emf

from lambda_trace.testing import Capture, FakeContext, capture, validate_record

ROOT = Path(__file__).resolve().parent.parent


def assert_all_valid(cap: Capture) -> None:
    """Every line is a valid record or a valid EMF document, and nothing else."""
    records = cap.records
    for record in records:
        validate_record(record)
    documents = cap.emf
    for doc in documents:
        assert_valid_emf(doc)
    assert len(records) + len(documents) == len(cap.lines)


def run(handler):  # type: ignore[no-untyped-def]
    """Invoke ``handler`` once under ``capture()``; every line it wrote must be valid."""
    with capture() as cap:
        result = handler({}, FakeContext())
    assert_all_valid(cap)
    return cap, result


def spawn(code: str) -> subprocess.Popen[str]:
    """Start ``code`` in a fresh interpreter (the repo importable), its pipes open as text."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=str(ROOT),
    )


def python(code: str, *, timeout: float = 60, env: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def]
    """Run ``code`` in a fresh interpreter (the repo importable); returns CompletedProcess."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(ROOT),
        **kw,
    )
