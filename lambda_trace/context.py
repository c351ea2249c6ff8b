"""What we read from the Lambda context object, and how to read it defensively.

In the real runtime (awslambdaric) ``memory_limit_in_mb`` is a *string*; other runtimes and test
doubles may give an int or leave attributes out, so every read tolerates that.
"""

from __future__ import annotations

import math
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Protocol
else:
    Protocol = object


class LambdaContext(Protocol):
    """The parts of Lambda's context object lambda-trace uses."""

    aws_request_id: str
    function_name: str
    memory_limit_in_mb: str

    def get_remaining_time_in_millis(self) -> int: ...


def request_id(context: Any) -> Optional[str]:
    value = getattr(context, "aws_request_id", None)
    return str(value) if value is not None else None


def function_name(context: Any) -> Optional[str]:
    value = getattr(context, "function_name", None)
    if value is None:
        value = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    return str(value) if value is not None else None


_limit_cache: dict[Any, Optional[int]] = {}


def memory_limit_mb(context: Any) -> Optional[int]:
    """The memory limit as an int (coerced once per distinct raw value), or None if unknown."""
    raw = getattr(context, "memory_limit_in_mb", None)
    if raw is None:
        raw = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    try:
        return _limit_cache[raw]
    except (KeyError, TypeError):
        pass
    try:
        value: Optional[int] = int(str(raw).strip()) if raw is not None else None
        if value is not None and value <= 0:
            value = None
    except ValueError:
        value = None
    try:  # noqa: SIM105 - contextlib.suppress would cost an import on the cold path
        _limit_cache[raw] = value
    except TypeError:
        pass
    return value


def remaining_ms(context: Any) -> Optional[float]:
    """``context.get_remaining_time_in_millis()``, or None when absent or failing."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    if getter is None:
        return None
    try:
        value = float(getter())
    except Exception:  # a broken test double must not break the handler
        return None
    # NaN or infinity (a broken double) would poison the deadline arithmetic: unknown instead.
    return value if math.isfinite(value) else None
