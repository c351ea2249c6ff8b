"""What reading the inputs cost and skipped (re-exported by ``sources``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceStats:
    """Counters for one run over all inputs; ``notes`` hold per-input remarks for the user."""

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
    #: CloudWatch log groups that do not exist (read with ``missing_ok``: not an error)
    missing_log_groups: list[str] = field(default_factory=list)
    #: CloudWatch log events read per log group
    events_by_group: dict[str, int] = field(default_factory=dict)
    #: inputs whose first bytes look binary: "<origin>: not a log (...)" (inputs.not_a_log)
    binary_inputs: list[str] = field(default_factory=list)

    def note(self, origin: str, text: str) -> None:
        self.notes.append(f"{origin}: {text}")

    def summary(self) -> str:
        """One line: inputs, events, bytes, and whatever was skipped."""
        parts = [
            _count(self.inputs, "input", "inputs"),
            _count(self.events, "log event", "log events"),
            f"{self.bytes_read / 1e6:.1f} MB",
        ]
        for value, one, many in (
            (self.requests, "API request", "API requests"),
            (self.undecodable_lines, "undecodable line", "undecodable lines"),
            (self.truncated_lines, "truncated line", "truncated lines"),
            (self.malformed, "malformed envelope part", "malformed envelope parts"),
            (self.duplicates_dropped, "console duplicate dropped", "console duplicates dropped"),
            (self.outside_window, "event outside the window", "events outside the window"),
            (self.capped_inputs, "input cut at the size limit", "inputs cut at the size limit"),
        ):
            if value:
                parts.append(_count(value, one, many))
        return ", ".join(parts)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
