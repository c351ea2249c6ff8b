"""``metric()`` and ``annotate()``: what the user's code adds to the running invocation."""

from __future__ import annotations

from lambda_trace import _invocation, _safety
from lambda_trace._config import warn_once

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any

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
    try:
        _add_metric(inv, name, value, unit)
    except Exception as exc:  # user API: a strange argument must not break the handler
        _safety.report("metric", exc)


def _add_metric(inv: _invocation.Invocation, name: str, value: float, unit: str) -> None:
    from lambda_trace._emf import valid_metric

    problem = valid_metric(name, value, unit)
    if problem is not None:
        # One warning per kind of problem, not per name: names can vary per invocation.
        kind = next((k for k in _PROBLEM_KINDS if k in problem), problem)
        warn_once(f"{problem}; metric dropped", ("metric", kind))
        return
    if not inv.add_metric(name.strip(), float(value), unit):
        warn_once(
            f"more than {_invocation.MAX_USER_METRICS} metric names or "
            f"{_invocation.MAX_USER_VALUES} values of one metric in an invocation; extra dropped",
            ("metric", "cap"),
        )


_PROBLEM_KINDS = ("metric name", "must be a number", "must be finite", "unknown unit")


def annotate(**values: Any) -> None:
    """Add low-cardinality keys to this invocation's summary record (``annotations``).

    Values should be str, int, float, bool or None; anything else is written as its ``str``.
    Strings are cut to 256 characters; at most 50 keys are kept.
    """
    inv = _invocation.current
    if inv is None:
        return
    try:
        _annotate(inv, values)
    except Exception as exc:  # user API: a strange value must not break the handler
        _safety.report("annotate", exc)


#: Integers JSON readers (and Python's int-to-text limit) handle safely; larger become floats.
_MAX_INT = 2**63


def _annotation_value(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if -_MAX_INT <= value < _MAX_INT:
            return value
        try:
            return float(value)
        except OverflowError:
            return "(integer too large)"
    if not isinstance(value, (str, float, bool)) and value is not None:
        try:
            value = str(value)
        except Exception:  # a broken __str__
            value = f"<{type(value).__name__}>"
    if isinstance(value, str):
        value = value[:MAX_ANNOTATION_CHARS]
    return value


def _annotate(inv: _invocation.Invocation, values: dict[str, Any]) -> None:
    clean = {key[:MAX_ANNOTATION_CHARS]: _annotation_value(value) for key, value in values.items()}
    new_keys = [key for key in clean if key not in inv.annotations]
    room = max(MAX_ANNOTATIONS - len(inv.annotations), 0)
    if len(new_keys) > room:
        for key in new_keys[room:]:
            del clean[key]
        warn_once(f"more than {MAX_ANNOTATIONS} annotations; extra keys dropped", ("annotate", ""))
    inv.annotate(clean)
