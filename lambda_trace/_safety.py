"""Failures inside lambda-trace are swallowed and reported once on stderr, never raised."""

from __future__ import annotations

from lambda_trace._config import warn_once


def report(where: str, exc: BaseException) -> None:
    """Note an internal failure at ``where`` (once per place), so the handler carries on.

    Never raises, whatever ``exc`` is: it is called from ``except`` blocks around the handler.
    """
    try:
        from lambda_trace._errors import redact

        detail = f"{type(exc).__name__}: {redact(str(exc)[:200])}"
    except Exception:  # an exception whose __str__ raises
        detail = type(exc).__name__
    warn_once(
        f"internal error in {where} ({detail}); tracing carries on, further errors here are not "
        "reported",
        ("internal", where),
    )
