"""What one invocation did: its outcome, its payload and the REPORT line's figures."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.logevent import LogEvent

OUTCOMES = ("success", "error", "timeout", "out_of_memory", "crashed", "init_error")


@dataclass
class InvokeResult:
    """What one invocation did, as the caller and the REPORT line see it."""

    request_id: str
    #: one of ``OUTCOMES``; "error" is an exception the handler raised
    outcome: str
    #: the response, or the error document the runtime posted (empty when it never answered)
    payload: bytes
    error_type: Optional[str]
    duration_ms: float
    billed_duration_ms: int
    max_memory_used_mb: int
    init_duration_ms: Optional[float]
    cold_start: bool
    log_stream: str
    #: every log event this invocation wrote (init lines included on a cold start)
    logs: list[LogEvent] = field(default_factory=list)

    def response(self) -> Any:
        """The payload decoded as JSON (None when it is empty or not JSON)."""
        try:
            return json.loads(self.payload) if self.payload else None
        except ValueError:
            return None


def exit_reason(returncode: Optional[int]) -> str:
    """How Lambda words a runtime's exit (Go's ``exec.ExitError`` text, docs/formats.md §1.8)."""
    if returncode is None:
        return "signal: killed"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            return f"signal: {-returncode}"
        words = {
            "SIGKILL": "killed",
            "SIGSEGV": "segmentation fault",
            "SIGABRT": "aborted",
            "SIGTERM": "terminated",
            "SIGBUS": "bus error",
        }
        return f"signal: {words.get(name, name.lower())}"
    return f"exit status {returncode}"
