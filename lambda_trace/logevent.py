"""``LogEvent``: one CloudWatch log event, the shape the local runner writes and the analyzer reads.

Below both halves (stdlib only), so neither imports the other for it.
"""

from __future__ import annotations

from typing import Any, Optional


class LogEvent:
    """One CloudWatch log event (or one line of a plain copy), envelope removed.

    A plain slotted class, not a frozen dataclass: one is built per input line, and the frozen
    dataclass's ``__init__`` cost ~2 µs, most of the reading layer's time (measured on 1.1 M lines).
    """

    __slots__ = ("log_group", "log_stream", "message", "origin", "timestamp_ms")

    def __init__(
        self,
        message: str,
        timestamp_ms: Optional[int] = None,
        log_stream: Optional[str] = None,
        log_group: Optional[str] = None,
        origin: str = "",
    ) -> None:
        self.message = message
        #: epoch milliseconds from the envelope (CloudWatch ``timestamp``), when known
        self.timestamp_ms = timestamp_ms
        self.log_stream = log_stream
        self.log_group = log_group
        #: where it came from, for error messages: an input's name or ``cloudwatch``
        self.origin = origin

    def _key(self) -> tuple[Any, ...]:
        return (self.message, self.timestamp_ms, self.log_stream, self.log_group, self.origin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LogEvent):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"LogEvent(message={self.message!r}, timestamp_ms={self.timestamp_ms!r}, "
            f"log_stream={self.log_stream!r}, log_group={self.log_group!r}, origin={self.origin!r})"
        )
