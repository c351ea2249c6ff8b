"""Settings, resolved once per decorated handler: explicit option > LAMBDA_TRACE_* env > default.

A bad value (explicit or from the environment) falls back to the default with one warning on
stderr; the handler is never broken by configuration.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start (it imports `re`)
    from collections.abc import Mapping
    from typing import Any, Optional

Sink = Callable[[str], None]
"""Receives one complete record line (JSON, no trailing newline); must not raise."""

CALL_LINE_MODES = ("all", "slow", "none")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

_warned: set[tuple[str, str]] = set()
#: distinct warnings kept at most (keys can come from user values, which must not grow forever)
MAX_WARNINGS = 100

#: field -> default, in declaration order (the keyword arguments of ``Settings``)
_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    # per-call lines: "all"; "slow" (over ``slow_ms``, plus errors, plus every call of an
    # invocation that failed, returned a 5xx, ran over ``slow_ms`` or was warned about); "none"
    "call_lines": "slow",
    "slow_ms": 100.0,
    # per-call lines written per invocation at most; the rest are counted in ``dropped_calls``
    "max_call_lines": 1000,
    "metrics": True,
    "namespace": "LambdaTrace",
    # the ``service`` of every record and EMF document; None: the function's name
    "service": None,
    # None: chosen per invocation from the remaining time (see ``_watchdog.default_margin_ms``)
    "timeout_margin_ms": None,
    # share of the memory limit that triggers a memory_warning; 0 turns the warning off
    "memory_warning_ratio": 0.9,
    "memory_poll_ms": 10.0,
    "watchdog": True,
    "aws": True,
    "http": True,
    # database and cache drivers (psycopg2, psycopg, pg8000, PyMySQL, sqlite3, redis-py)
    "db": True,
    # where lines go; None: the current default sink (stdout, or a test's capture)
    "sink": None,
}


class Settings:
    """Everything a decorated handler needs to know, fixed at decoration time (immutable).

    A hand-written frozen class rather than a frozen dataclass: ``dataclasses`` imports
    ``inspect`` and costs ≈20 ms of cold start, more than the rest of the runtime together.
    """

    __slots__ = tuple(_DEFAULTS)

    enabled: bool
    call_lines: str
    slow_ms: float
    max_call_lines: int
    metrics: bool
    namespace: str
    service: Optional[str]
    timeout_margin_ms: Optional[float]
    memory_warning_ratio: float
    memory_poll_ms: float
    watchdog: bool
    aws: bool
    http: bool
    db: bool
    sink: Optional[Sink]

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(_DEFAULTS)
        if unknown:
            raise TypeError(f"Settings() got unexpected field(s): {', '.join(sorted(unknown))}")
        for name, default in _DEFAULTS.items():
            object.__setattr__(self, name, values.get(name, default))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Settings are frozen: cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Settings are frozen: cannot delete field {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _DEFAULTS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _DEFAULTS)
        return f"Settings({fields})"


def _bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected true/false")


def _mode(text: Any) -> str:
    value = str(text).strip().lower()
    if value not in CALL_LINE_MODES:
        raise ValueError("expected one of all, slow, none")
    return value


#: Upper bounds of the numeric settings: beyond them a value means nothing (Lambda's longest
#: timeout is 900 s, https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html) and
#: arithmetic on it overflows (1e308 ms -> ns is infinite).
MAX_MS = 900_000.0
MIN_POLL_MS = 0.1  # a poll interval under 0.1 ms would keep the watchdog thread spinning
MAX_POLL_MS = 60_000.0
MAX_CALL_LINES = 1_000_000


def _non_negative(text: Any) -> float:
    value = float(text)
    if not 0 <= value <= MAX_MS:  # also refuses NaN and infinities
        raise ValueError(f"expected a number from 0 to {MAX_MS:.0f}")
    return value


def _positive(text: Any) -> float:
    value = float(text)
    if not MIN_POLL_MS <= value <= MAX_POLL_MS:
        raise ValueError(f"expected a number from {MIN_POLL_MS} to {MAX_POLL_MS:.0f}")
    return value


def _count(text: Any) -> int:
    if isinstance(text, bool):
        raise ValueError("expected an integer >= 0")
    value = int(str(text).strip()) if not isinstance(text, int) else text
    if not 0 <= value <= MAX_CALL_LINES:
        raise ValueError(f"expected an integer from 0 to {MAX_CALL_LINES}")
    return value


def _ratio(text: Any) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError("expected a number between 0 and 1")
    return value


def _name(text: Any) -> str:
    value = str(text).strip()
    if not value or len(value) > 255:
        raise ValueError("expected 1 to 255 characters")
    return value


#: option -> (environment variable, parser). Parsers raise ValueError on a bad value.
_OPTIONS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "call_lines": ("LAMBDA_TRACE_CALL_LINES", _mode),
    "slow_ms": ("LAMBDA_TRACE_SLOW_MS", _non_negative),
    "max_call_lines": ("LAMBDA_TRACE_MAX_CALL_LINES", _count),
    "metrics": ("LAMBDA_TRACE_METRICS", _bool),
    "namespace": ("LAMBDA_TRACE_NAMESPACE", _name),
    "service": ("LAMBDA_TRACE_SERVICE", _name),
    "timeout_margin_ms": ("LAMBDA_TRACE_TIMEOUT_MARGIN_MS", _non_negative),
    "memory_warning_ratio": ("LAMBDA_TRACE_MEMORY_WARNING", _ratio),
    "memory_poll_ms": ("LAMBDA_TRACE_MEMORY_POLL_MS", _positive),
    "watchdog": ("LAMBDA_TRACE_WATCHDOG", _bool),
    "aws": ("LAMBDA_TRACE_AWS", _bool),
    "http": ("LAMBDA_TRACE_HTTP", _bool),
    "db": ("LAMBDA_TRACE_DB", _bool),
}

OPTION_NAMES = frozenset(_OPTIONS) | {"enabled", "sink"}

#: option -> the Powertools variable read when our own is not set
_POWERTOOLS_VARS = {
    "namespace": "POWERTOOLS_METRICS_NAMESPACE",
    "service": "POWERTOOLS_SERVICE_NAME",
}


def warn_once(message: str, key: Optional[tuple[str, str]] = None) -> None:
    """Write ``lambda-trace: <message>`` to stderr once per key (the message by default)."""
    key = key or ("", message)
    if key in _warned:
        return
    if len(_warned) >= MAX_WARNINGS:
        # Keys derived from user values (bad metric units, env values) must not grow forever.
        if ("", "cap") in _warned:
            return
        key, message = ("", "cap"), "too many distinct warnings; further ones are not reported"
    _warned.add(key)
    try:
        sys.stderr.write(f"lambda-trace: {message}\n")
        sys.stderr.flush()
    except Exception:  # a closed stderr must not break the handler
        pass


def resolve(options: Mapping[str, Any], env: Optional[Mapping[str, str]] = None) -> Settings:
    """Settings from explicit ``options`` (None means "not given"), then ``env``, then defaults."""
    env = os.environ if env is None else env
    unknown = set(options) - OPTION_NAMES
    if unknown:
        raise TypeError(f"trace() got unexpected option(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}

    enabled = options.get("enabled")
    if enabled is None:
        disabled = env.get("LAMBDA_TRACE_DISABLED")
        if disabled is not None:
            values["enabled"] = not _parse(
                "enabled", "LAMBDA_TRACE_DISABLED", disabled, _bool, False
            )
    else:
        values["enabled"] = _parse("enabled", "enabled", enabled, _bool, True)

    for option, (var, parser) in _OPTIONS.items():
        default = _DEFAULTS[option]
        explicit = options.get(option)
        if explicit is not None:
            values[option] = _parse(option, option, explicit, parser, default)
            continue
        raw = env.get(var)
        if raw is None and option in _POWERTOOLS_VARS:
            # Powertools' own variables, so one setting names the namespace (and the service)
            # for both: https://docs.powertools.aws.dev/lambda/python/latest/#environment-variables
            var = _POWERTOOLS_VARS[option]
            raw = env.get(var)
        if raw is not None and raw.strip() != "":
            values[option] = _parse(option, var, raw, parser, default)
    sink = options.get("sink")
    if sink is not None:
        if callable(sink):
            values["sink"] = sink
        else:
            warn_once("option sink is not callable; writing to stdout", ("sink", ""))
    return Settings(**values)


def _parse(option: str, source: str, raw: Any, parser: Callable[[Any], Any], default: Any) -> Any:
    try:
        return parser(raw)
    except (ValueError, TypeError) as exc:
        warn_once(
            f"{source}={raw!r} is invalid ({exc}); using the default {default!r}",
            (source, repr(raw)),
        )
        return default
