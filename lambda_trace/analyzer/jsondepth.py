"""A nesting limit for every JSON value the analyzer decodes.

A log line is text anyone can write: ``{"a":{"a":…`` a thousand times is 6 KB and exhausts the
stdlib decoder's recursion (``RecursionError``), and values nested a few hundred deep pass the
decoder but break whatever walks or encodes them later (orjson refuses to encode beyond 255
levels). Nothing Lambda, CloudWatch or lambda-trace writes nests more than a handful of levels,
so a value deeper than ``MAX_JSON_DEPTH`` is treated as malformed, before it is decoded.
"""

from __future__ import annotations

import re
from typing import Any

#: Deepest nesting of objects and arrays decoded; deeper lines are malformed.
MAX_JSON_DEPTH = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_BRACKET = re.compile(r"[\[\]{}]")


class TooDeep(ValueError):
    """A JSON text nests deeper than ``MAX_JSON_DEPTH``."""


def too_deep(text: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` (str or bytes) opens more than ``limit`` nested objects/arrays.

    Two C-speed counts decide for nearly every line (fewer brackets than the limit); only a line
    with more is scanned, its strings (which may hold brackets) taken out first.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        if bytes(text).count(b"{") + bytes(text).count(b"[") <= limit:
            return False
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str) or text.count("{") + text.count("[") <= limit:
        return False
    bare = _STRING.sub("", text) if '"' in text else text
    if bare.count("{") + bare.count("[") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(bare):
        if match.group() in "{[":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def check_depth(text: Any) -> None:
    """Raise ``TooDeep`` (a ``ValueError``, as decoders raise) for a text nested too deeply."""
    if too_deep(text):
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
