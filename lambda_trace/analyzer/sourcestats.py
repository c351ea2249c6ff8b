"""What reading the inputs cost and skipped (re-exported by ``sources``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceStats:
    """Counters for one run over all inputs; ``notes`` hold per-input remarks worth telling a user."""

    inputs: int = 0
    #: bytes of log text read (after gzip decompression); CloudWatch: UTF-8 bytes of the messages
    bytes_read: int = 0
    events: int = 0
    #: lines with invalid UTF-8, decoded with U+FFFD in place of the bad bytes
    undecodable_lines: int = 0
    #: lines longer than the line limit, cut to it
    truncated_lines: int = 0
    #: envelope parts that could not be decoded (bad JSON / base64 / gzip) and were skipped
    malformed: int = 0
    #: console copies show an event twice (collapsed and expanded); the repeat is dropped
    duplicates_dropped: int = 0
    #: events outside --since/--until (files only; CloudWatch is asked for the window)
    outside_window: int = 0
    #: inputs cut short by the decompression limit
    capped_inputs: int = 0
    #: CloudWatch Logs API requests made
    requests: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, origin: str, text: str) -> None:
        self.notes.append(f"{origin}: {text}")

    def summary(self) -> str:
        """One line: inputs, events, bytes, and whatever was skipped."""
        parts = [
            f"{self.inputs} input{'s' if self.inputs != 1 else ''}",
            f"{self.events} log events",
            f"{self.bytes_read / 1e6:.1f} MB",
        ]
        for label, value in (
            ("requests", self.requests),
            ("undecodable lines", self.undecodable_lines),
            ("truncated lines", self.truncated_lines),
            ("malformed envelope parts", self.malformed),
            ("console duplicates dropped", self.duplicates_dropped),
            ("outside the time window", self.outside_window),
            ("inputs cut at the decompression limit", self.capped_inputs),
        ):
            if value:
                parts.append(f"{value} {label}")
        return ", ".join(parts)
