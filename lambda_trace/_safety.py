"""Failures inside lambda-trace are swallowed and reported once on stderr, never raised."""

from __future__ import annotations

from lambda_trace._config import warn_once


def report(where: str, exc: BaseException) -> None:
    """Note an internal failure at ``where`` (once per place), so the handler carries on."""
    warn_once(
        f"internal error in {where} ({type(exc).__name__}: {str(exc)[:200]}); "
        "tracing carries on, further errors here are not reported",
        ("internal", where),
    )
