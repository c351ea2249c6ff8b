"""Argument types the commands share: counts, numbers, rates, durations, sizes, name lists.

Each turns one command-line word into a value or raises ``argparse.ArgumentTypeError`` (argparse
prints ``argument --x: <message>`` and exits 2); ``size`` raises ``CliError`` (one line, exit 2).
The messages are the ones these options have always printed.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Collection
from typing import Callable

from lambda_trace.errors import CliError


def positive_int(text: str) -> int:
    """A whole number of at least 1 (``--top``, ``--n-plus-one``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def count(text: str) -> int:
    """A whole number of at least 1, in the local runner's words (``--times``, ``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def non_negative(text: str) -> float:
    """A number of 0 or more (``--max-p95-ms``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def seconds(text: str) -> float:
    """A finite duration in seconds, more than 0 (``--follow-interval``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def rate(text: str) -> float:
    """A fraction: ``0.05`` or ``5%`` (``--max-error-rate``)."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (use 0.05 or 5%)") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1 (or 0% and 100%): {text!r}")
    return value


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", re.IGNORECASE)


def size(text: str) -> int:
    """Bytes in ``500M`` / ``8G`` / ``1.5GiB`` / ``1048576``; ``0`` means no limit."""
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise CliError(f"cannot read size {text!r}: use a number with an optional K, M, G or T")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024**power)


def finding_kinds(known: Collection[str]) -> Callable[[str], tuple[str, ...]]:
    """``KIND[,KIND]`` among ``known`` or ``any`` (``--fail-on``), in the order given."""

    def parse(text: str) -> tuple[str, ...]:
        kinds = tuple(k.strip() for k in text.split(",") if k.strip())
        unknown = [k for k in kinds if k not in known and k != "any"]
        if unknown or not kinds:
            raise argparse.ArgumentTypeError(
                f"unknown finding kind {', '.join(unknown) or text!r}; choose from any, "
                + ", ".join(known)
            )
        return kinds

    return parse


def event_types(known: Collection[str]) -> Callable[[str], frozenset[str]]:
    """``TYPE[,TYPE]`` among ``known`` (``events --type``), as a set."""

    def parse(text: str) -> frozenset[str]:
        names = frozenset(part.strip() for part in text.split(",") if part.strip())
        unknown = sorted(names - set(known))
        if not names or unknown:
            raise argparse.ArgumentTypeError(
                f"unknown event type {', '.join(unknown) or repr(text)} "
                f"(known: {', '.join(sorted(known))})"
            )
        return names

    return parse
