"""The lines the Lambda platform writes to a function's log group, in Text and JSON format.

Every shape here follows docs/formats.md (cited by section): text lines end
with ``\\n`` like the real events do; JSON platform events are compact one-line objects.
Pure functions of their inputs: the runner decides when to write them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Optional

from lambda_trace.schema import format_timestamp

TEXT = "Text"
JSON = "JSON"

#: System log level of each JSON platform event type; Lambda drops events below the function's
#: SystemLogLevel (default INFO). https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
_EVENT_LEVEL = {
    "platform.initStart": "INFO",
    "platform.initRuntimeDone": "DEBUG",
    "platform.initReport": "INFO",
    "platform.start": "INFO",
    "platform.runtimeDone": "DEBUG",
    "platform.report": "INFO",
}
_LEVEL_ORDER = {"DEBUG": 0, "INFO": 1, "WARN": 2}


@dataclass(frozen=True)
class XRay:
    """The X-Ray ids Lambda appends to REPORT when active tracing is on."""

    trace_id: str  # ``1-<8 hex>-<24 hex>``
    segment_id: str  # 16 hex
    sampled: bool = True

    def header(self) -> str:
        """The ``Lambda-Runtime-Trace-Id`` / ``_X_AMZN_TRACE_ID`` value."""
        sampled = "1" if self.sampled else "0"
        return f"Root={self.trace_id};Parent={self.segment_id};Sampled={sampled}"


@dataclass(frozen=True)
class Report:
    """The numbers of one REPORT line (docs/formats.md §1.3) / ``platform.report`` event (§4)."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: Optional[float] = None
    #: None (success), "timeout" or "error"
    status: Optional[str] = None
    error_type: Optional[str] = None
    xray: Optional[XRay] = None

    @property
    def billed_duration_ms(self) -> int:
        # NOTE: since 2025-08-01 Lambda bills the INIT phase of on-demand ZIP functions on managed
        # runtimes, so a cold start bills ceil(Duration + Init Duration) (docs/formats.md §1.3).
        # https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/
        total = self.duration_ms + (self.init_duration_ms or 0.0)
        return max(1, math.ceil(round(total, 2)))


class PlatformLog:
    """Renders platform lines for one function's ``LoggingConfig``."""

    def __init__(self, log_format: str = TEXT, system_log_level: str = "INFO") -> None:
        if log_format not in (TEXT, JSON):
            raise ValueError(f"log format must be Text or JSON, not {log_format!r}")
        self.log_format = log_format
        self.system_log_level = system_log_level.upper()

    @property
    def is_json(self) -> bool:
        return self.log_format == JSON

    def init_start(
        self,
        now: float,
        *,
        runtime_version: str,
        runtime_version_arn: str,
        function_name: str,
        function_version: str,
        instance_id: str,
        memory_size_mb: int,
    ) -> list[str]:
        """INIT_START (§1.4) / ``platform.initStart`` (§4), once per execution environment."""
        if not self.is_json:
            return [
                f"INIT_START Runtime Version: {runtime_version}\t"
                f"Runtime Version ARN: {runtime_version_arn}\n"
            ]
        return self._event(
            now,
            "platform.initStart",
            {
                "initializationType": "on-demand",
                "phase": "init",
                "runtimeVersion": runtime_version,
                "runtimeVersionArn": runtime_version_arn,
                "functionName": function_name,
                "functionVersion": function_version,
                "instanceId": instance_id,
                "instanceMaxMemory": memory_size_mb * 1024 * 1024,
            },
        )

    def init_runtime_done(self, now: float, status: str = "success") -> list[str]:
        """``platform.initRuntimeDone`` (JSON, DEBUG level only); Text has no such line."""
        if not self.is_json:
            return []
        record = {"initializationType": "on-demand", "phase": "init", "status": status}
        return self._event(now, "platform.initRuntimeDone", record)

    def init_report(
        self, now: float, *, duration_ms: float, phase: str, status: str, error_type: Optional[str]
    ) -> list[str]:
        """INIT_REPORT (§1.5) / ``platform.initReport``: written when an init fails or times out."""
        if not self.is_json:
            fields = [
                f"Init Duration: {duration_ms:.2f} ms",
                f"Phase: {phase}",
                f"Status: {status}",
            ]
            if error_type:
                fields.append(f"Error Type: {error_type}")
            return ["INIT_REPORT " + "\t".join(fields) + "\n"]
        record: dict[str, Any] = {
            "initializationType": "on-demand",
            "phase": phase,
            "status": status,
        }
        if error_type:
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 3)}
        return self._event(now, "platform.initReport", record)

    def start(
        self,
        now: float,
        *,
        request_id: str,
        function_version: str,
        function_arn: str,
        xray: Optional[XRay] = None,
    ) -> list[str]:
        """START (§1.1) / ``platform.start``."""
        if not self.is_json:
            return [f"START RequestId: {request_id} Version: {function_version}\n"]
        record: dict[str, Any] = {
            "requestId": request_id,
            "functionArn": function_arn,
            "version": function_version,
        }
        if xray is not None:
            record["tracing"] = _tracing(xray)
        return self._event(now, "platform.start", record)

    def runtime_done(
        self,
        now: float,
        *,
        request_id: str,
        status: str,
        error_type: Optional[str],
        duration_ms: float,
        produced_bytes: int,
    ) -> list[str]:
        """``platform.runtimeDone`` (JSON, DEBUG level only; Telemetry API shape, §5)."""
        if not self.is_json:
            return []
        record: dict[str, Any] = {"requestId": request_id, "status": status}
        if error_type:
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 3), "producedBytes": produced_bytes}
        return self._event(now, "platform.runtimeDone", record)

    def end(self, now: float, request_id: str) -> list[str]:
        """END (§1.2); there is no ``platform.end`` in JSON format."""
        return [] if self.is_json else [f"END RequestId: {request_id}\n"]

    def report(self, now: float, report: Report) -> list[str]:
        """REPORT (§1.3) / ``platform.report`` (§4)."""
        if not self.is_json:
            return [_text_report(report)]
        metrics: dict[str, Any] = {
            "durationMs": round(report.duration_ms, 3),
            "billedDurationMs": report.billed_duration_ms,
            "memorySizeMB": report.memory_size_mb,
            "maxMemoryUsedMB": report.max_memory_used_mb,
        }
        if report.init_duration_ms is not None:
            metrics["initDurationMs"] = round(report.init_duration_ms, 3)
        record: dict[str, Any] = {"requestId": report.request_id, "metrics": metrics}
        if report.xray is not None:
            record["tracing"] = _tracing(report.xray)
        record["status"] = report.status or "success"
        if report.error_type:
            record["errorType"] = report.error_type
        return self._event(now, "platform.report", record)

    def timed_out(self, now: float, request_id: str, seconds: float) -> list[str]:
        """``<ts> <id> Task timed out after N.NN seconds`` (§1.8), after the REPORT (Text only)."""
        if self.is_json:
            return []
        return [
            f"{format_timestamp(now)} {request_id} Task timed out after {seconds:.2f} seconds\n"
        ]

    def runtime_exited(self, now: float, request_id: str, reason: str) -> list[str]:
        """``RequestId: <id> Error: Runtime exited with error: <reason>`` + ``Runtime.ExitError``.

        One event of two lines (§1.8), written after the REPORT (Text only).
        """
        if self.is_json:
            return []
        fault = f"RequestId: {request_id} Error: Runtime exited with error: {reason}"
        return [f"{fault}\nRuntime.ExitError\n"]

    def _event(self, now: float, type_: str, record: dict[str, Any]) -> list[str]:
        level = _LEVEL_ORDER.get(_EVENT_LEVEL.get(type_, "INFO"), 1)
        if level < _LEVEL_ORDER.get(self.system_log_level, 1):
            return []
        event = {"time": format_timestamp(now), "type": type_, "record": record}
        return [json.dumps(event, separators=(",", ":"))]


def _text_report(report: Report) -> str:
    fields = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_duration_ms} ms",
        f"Memory Size: {report.memory_size_mb} MB",
        f"Max Memory Used: {report.max_memory_used_mb} MB",
    ]
    if report.init_duration_ms is not None:
        fields.append(f"Init Duration: {report.init_duration_ms:.2f} ms")
    if report.status:
        fields.append(f"Status: {report.status}")
        if report.error_type:
            fields.append(f"Error Type: {report.error_type}")
        # Newer lines end without a tab after Status/Error Type (real: timeouts.log:2,32).
        line = "\t".join(fields)
    else:
        line = "\t".join(fields) + "\t"
    if report.xray is not None:
        sampled = "true" if report.xray.sampled else "false"
        line += (
            f"\nXRAY TraceId: {report.xray.trace_id}\tSegmentId: {report.xray.segment_id}"
            f"\tSampled: {sampled}"
        )
    return line + "\n"


def _tracing(xray: XRay) -> dict[str, str]:
    return {"spanId": xray.segment_id, "type": "X-Amzn-Trace-Id", "value": xray.header()}
