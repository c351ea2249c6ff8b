"""``metric()`` and ``annotate()``: what the user's code adds to the running invocation."""

from __future__ import annotations

from typing import Any

from lambda_trace import _invocation
from lambda_trace._config import warn_once

#: Annotation keys kept per invocation, and the longest string value.
MAX_ANNOTATIONS = 50
MAX_ANNOTATION_CHARS = 256


def metric(name: str, value: float, unit: str = "Count") -> None:
    """Add a custom EMF metric to this invocation's metrics document.

    Outside a traced invocation (or with metrics off) it does nothing. An invalid name or unit,
    or a non-finite value, is dropped with one warning on stderr.
    """
    inv = _invocation.current
    if inv is None or not inv.settings.metrics:
        return
    from lambda_trace._emf import valid_metric

    problem = valid_metric(name, value, unit)
    if problem is not None:
        warn_once(f"{problem}; metric dropped", ("metric", problem))
        return
    if not inv.add_metric(name.strip(), float(value), unit):
        warn_once(
            f"more than {_invocation.MAX_USER_METRICS} metric names or "
            f"{_invocation.MAX_USER_VALUES} values of one metric in an invocation; extra dropped",
            ("metric", "cap"),
        )


def annotate(**values: Any) -> None:
    """Add low-cardinality keys to this invocation's summary record (``annotations``).

    Values should be str, int, float, bool or None; anything else is written as its ``str``.
    Strings are cut to 256 characters; at most 50 keys are kept.
    """
    inv = _invocation.current
    if inv is None:
        return
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            value = str(value)
        if isinstance(value, str):
            value = value[:MAX_ANNOTATION_CHARS]
        clean[key] = value
    new_keys = [key for key in clean if key not in inv.annotations]
    room = max(MAX_ANNOTATIONS - len(inv.annotations), 0)
    if len(new_keys) > room:
        for key in new_keys[room:]:
            del clean[key]
        warn_once(f"more than {MAX_ANNOTATIONS} annotations; extra keys dropped", ("annotate", ""))
    inv.annotate(clean)
