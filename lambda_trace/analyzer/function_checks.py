"""``analyze --function``: metrics and configuration around the logs, in the same window.

Before the logs are read: each function's configuration (its ``LoggingConfig`` group is the
one read) and one batched ``GetMetricData`` for all of them. A long window (over a day) is then
read from the logs only around the periods in which the metrics counted errors, unless
``--full-logs``. After the logs: the configuration findings, the report's ``metrics`` and
``function_config`` sections, and one line per skipped check.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from lambda_trace.analyzer.aws_access import AwsAccess
from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.findings import Finding
from lambda_trace.analyzer.findings_config import Observed, find_config, ordered
from lambda_trace.analyzer.function_config import FunctionView, read_function, read_role
from lambda_trace.analyzer.lambda_metrics import (
    DEFAULT_EMF_NAMESPACE,
    MetricsResult,
    read_metrics,
)
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.timestamps import ms_to_iso
from lambda_trace.analyzer.timewindow import resolve_window

#: windows longer than this read logs only around the failures the metrics show
LONG_WINDOW_MS = 86_400_000
#: failure periods whose logs are read in a long window
MAX_FAILURE_WINDOWS = 5
#: in a long window without failures, the latest stretch of logs that is read
QUIET_SAMPLE_MS = 3_600_000
DEFAULT_SINCE = "1h"
#: skip lines already shown on stderr in this process
_TOLD: set[str] = set()


@dataclass
class FunctionChecks:
    """The metrics and configuration view of ``analyze --function`` runs."""

    functions: list[str]
    access: AwsAccess
    metrics_on: bool
    config_on: bool
    buckets: tuple[str, ...]
    full_logs: bool
    start_ms: int = 0
    end_ms: int = 0
    views: dict[str, FunctionView] = field(default_factory=dict)
    metrics: Optional[MetricsResult] = None
    log_plan: Optional[dict[str, Any]] = None
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Optional[FunctionChecks]:
        """None unless CloudWatch is read with ``--function`` and some check is on."""
        functions = list(dict.fromkeys(getattr(args, "function", None) or ()))
        metrics_on = not getattr(args, "no_metrics", False)
        config_on = not getattr(args, "no_config", False)
        if not functions or not (metrics_on or config_on):
            return None
        region = getattr(args, "region", None)
        for fn in functions:
            region = region or function_log_group(fn)[1]
        access = AwsAccess(region=region, profile=getattr(args, "profile", None),
                           endpoint_url=getattr(args, "endpoint_url", None))
        window = resolve_window(getattr(args, "since", None), getattr(args, "until", None),
                                default_since=DEFAULT_SINCE, default_until_now=True)
        assert window.start_ms is not None and window.end_ms is not None
        return cls([_name(fn) for fn in functions], access, metrics_on, config_on,
                   tuple(getattr(args, "bucket", None) or ()),
                   bool(getattr(args, "full_logs", False)), window.start_ms, window.end_ms)

    # -- before the logs ----------------------------------------------------------------------

    def read_before_logs(self) -> None:
        if self.config_on:
            for fn in self.functions:
                view = read_function(self.access, fn, buckets=self.buckets)
                self.views[fn] = view
        if self.metrics_on:
            namespace = next((v.emf_namespace for v in self.views.values() if v.emf_namespace),
                             DEFAULT_EMF_NAMESPACE)
            self.metrics = read_metrics(self.access, self.functions, self.start_ms, self.end_ms,
                                        emf_namespace=namespace)
            if self.metrics is not None:
                self.skipped.extend(self.metrics.skipped)

    def open_sources(
        self, args: argparse.Namespace, stats: SourceStats,
        opener: Callable[[argparse.Namespace, SourceStats], Iterator[LogEvent]],
    ) -> Iterator[LogEvent]:
        """The log events: the LoggingConfig groups, and only the failure windows when the
        window is long. A missing log group is noted, not fatal."""
        base = _copy(args, missing_log_groups_ok=True)
        custom = {fn: v.log_group for fn, v in self.views.items()
                  if v.log_group and v.log_group != f"/aws/lambda/{fn}"}
        if custom:
            original = list(getattr(args, "function", None) or ())
            base.function = [f for f in original if _name(f) not in custom] or None
            base.log_group = list(getattr(args, "log_group", None) or ()) + list(custom.values())
        windows = self._log_windows()
        if windows is None:
            return opener(base, stats)
        return itertools.chain.from_iterable(
            opener(_copy(base, since=str(start), until=str(end)), stats)
            for start, end in windows
        )

    def _log_windows(self) -> Optional[list[tuple[int, int]]]:
        if self.full_logs or self.end_ms - self.start_ms <= LONG_WINDOW_MS:
            return None
        if self.metrics is None or not self.metrics.metrics:
            return None
        period_ms = self.metrics.period_s * 1000
        scored: dict[int, float] = {}
        for summary in self.metrics.metrics.values():
            series = summary.get("series") or {}
            stamps = series.get("timestamps") or []
            for i, errors in enumerate(series.get("Errors.sum") or []):
                if errors:
                    start = _iso_ms(stamps[i])
                    scored[start] = scored.get(start, 0) + errors
        chosen = sorted(sorted(scored, key=lambda s: -scored[s])[:MAX_FAILURE_WINDOWS])
        if chosen:
            windows = [(s, s + period_ms) for s in chosen]
            reason = (f"the {len(windows)} period(s) of {self.metrics.period_s // 60} min with "
                      "the most errors in the metrics")
        else:
            windows = [(self.end_ms - QUIET_SAMPLE_MS, self.end_ms)]
            reason = "the last hour (the metrics show no errors in the window)"
        self.log_plan = {
            "mode": "around_failures",
            "reason": reason,
            "windows": [{"start": ms_to_iso(a), "end": ms_to_iso(b)} for a, b in windows],
        }
        return windows

    # -- after the logs -----------------------------------------------------------------------

    def findings(
        self, log_findings: list[Finding], stats: SourceStats, memory_used_max_mb: Optional[float]
    ) -> list[Finding]:
        """The log findings with the configuration findings added; the generic
        ``no_invocations`` goes where a concrete cause was found."""
        added: list[Finding] = []
        for fn in self.functions:
            view = self.views.get(fn)
            metrics = (self.metrics.metrics.get(fn) if self.metrics else None)
            seen = Observed.from_metrics(metrics)
            group = view.log_group if view and view.log_group else f"/aws/lambda/{fn}"
            missing = getattr(stats, "missing_log_groups", [])
            seen.log_group_exists = group not in missing
            seen.log_events = int((getattr(stats, "events_by_group", {}) or {}).get(group, 0))
            if len(self.functions) == 1:
                seen.memory_used_max_mb = memory_used_max_mb
            if view is None:  # --no-config: only what the metrics and logs can tell
                view = FunctionView(name=fn)
            elif seen.invocations_metric and not seen.log_events:
                read_role(self.access, view)
            added.extend(find_config(view, seen))
            self.skipped.extend(view.skipped)
        explained = {getattr(f, "function", None) for f in added
                     if f.kind in ("not_invoked", "logs_not_written")}
        invoked = {fn for fn in self.functions
                   if self.metrics and (self.metrics.metrics.get(fn, {}).get("Invocations") or {})
                   .get("sum")}
        drop = explained | invoked
        kept = [f for f in log_findings if not (
            f.kind == "no_invocations"
            and (getattr(f, "function", None) in drop
                 or (getattr(f, "function", None) is None and drop))
        )]
        return ordered(kept + added)

    def report_sections(self, stats: SourceStats) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        if self.metrics is not None:
            sections["metrics"] = self.metrics.metrics
            sections["metrics_period_s"] = self.metrics.period_s
        if self.views:
            sections["function_config"] = {fn: v.to_dict() for fn, v in self.views.items()}
        sections["aws_checks"] = {
            "requests": self.access.requests,
            "skipped": list(dict.fromkeys(self.skipped)),
            "log_plan": self._log_plan_with_cost(stats),
        }
        return sections

    def _log_plan_with_cost(self, stats: SourceStats) -> Optional[dict[str, Any]]:
        if self.log_plan is None:
            return None
        return {**self.log_plan, "log_requests": stats.requests, "log_bytes": stats.bytes_read}

    def remarks(self, stats: SourceStats) -> list[str]:
        """Lines for stderr: what was skipped and why, and what a long window read.

        A skip already told in this process (the demo runs analyze nine times) is not
        repeated; every report still lists it in ``aws_checks.skipped``.
        """
        missing = [f"log group {group} does not exist: the report uses the metrics and "
                   "configuration only" for group in getattr(stats, "missing_log_groups", [])]
        lines = [line for line in dict.fromkeys([*self.skipped, *missing]) if line not in _TOLD]
        _TOLD.update(lines)
        plan = self._log_plan_with_cost(stats)
        if plan:
            starts = ", ".join(w["start"] for w in plan["windows"])
            lines.append(
                f"long window: read logs only around {plan['reason']}, starting {starts} "
                f"({stats.requests:,} CloudWatch Logs requests, {_size(stats.bytes_read)}; "
                f"{self.access.requests:,} metrics/configuration requests); --full-logs reads "
                "all of it"
            )
        return lines


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _name(function: str) -> str:
    """The function name of a name, NAME:ALIAS or ARN (what FunctionName dimensions use)."""
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6] if len(parts) > 6 else function
    return function.split(":", 1)[0]


def _iso_ms(text: str) -> int:
    from lambda_trace.analyzer.timestamps import iso_to_ms

    value = iso_to_ms(text)
    return int(value) if value is not None else 0


def _copy(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    copy = argparse.Namespace(**vars(args))
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy
