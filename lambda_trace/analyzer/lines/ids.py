"""Request ids and the number fields every Lambda line builder reads (docs/formats.md §1.1)."""

from __future__ import annotations

import math
import re
from typing import Any, Optional

# --------------------------------------------------------------------------------------------
# Request ids

#: An unlabelled request id at the start of a line: a UUID (the docs redact parts with "xmpl"),
#: or a hex id shortened by whoever copied the log (docs/formats.md §1.1).
REQUEST_ID = (
    r"(?:[0-9a-fA-F]{8}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-zA-Z]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-f]{12,32}|undefined)"
)
_LABELLED_ID = re.compile(r"RequestId:[\t ]*(\S*)")
_BARE_ID = re.compile(REQUEST_ID + r"(?![\w-])")


#: A line break in any of the forms a copy leaves (CRLF, CR, LF).
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def clean_id(token: Optional[str]) -> Optional[str]:
    """The request id in ``token``, or None where a copy deleted it or Node wrote ``undefined``."""
    if not token:
        return None
    token = token.strip(" \t,")
    if not token or token.endswith(":") or token == "undefined":
        return None
    return token


def id_before(text: str, end: int) -> Optional[str]:
    """The request id written before position ``end``: labelled (``RequestId: x``) or bare."""
    head = text[:end]
    match = _LABELLED_ID.search(head)
    if match:
        return clean_id(match.group(1))
    match = _BARE_ID.search(head)
    return clean_id(match.group(0)) if match else None


# --------------------------------------------------------------------------------------------
# Numbers and small shared shapes


def as_number(text: Any) -> Optional[float]:
    if text is None:  # the usual absent field: cheaper than the exception
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def as_whole(text: Any) -> Optional[int]:
    if text is None:
        return None
    try:
        return int(text)
    except (TypeError, ValueError):
        value = as_number(text)
        return int(value) if value is not None else None


def as_status(value: Any) -> Optional[str]:
    """A platform status as success | timeout | error (Telemetry's "failure" is an error)."""
    if not isinstance(value, str) or not value:
        return None
    status: str = value.lower()
    return status if status in ("success", "timeout", "error") else "error"


def name_list(text: Optional[str]) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]
