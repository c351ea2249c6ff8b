"""Several functions in one run: one aggregate per function beside the combined one.

A report on ``--function A --function B`` (or on a file holding several log groups) must never
mix functions in a finding: memory sizes, cold starts and denials belong to one function. Each
finished invocation goes to the combined :class:`Aggregator` (the report's overall view) and to
its function's. While only one function has been seen the two are the same object, so a run on
one function costs nothing extra; when a second appears, the combined aggregate (which until
then held only the first function) is copied to become the first function's own.

An invocation's function is the ``function_name`` of its lambda-trace records, else its log
group's (``/aws/lambda/NAME`` -> ``NAME``; CloudWatch names one group per function,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html), else unknown
(``None``: a plain copy of log lines names no function).
"""

from __future__ import annotations

import copy
from typing import Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings import Baseline, Finding, Thresholds, find_all
from lambda_trace.analyzer.join import Invocation
from lambda_trace.analyzer.model import Event

LAMBDA_GROUP_PREFIX = "/aws/lambda/"

#: log streams whose group is remembered (one per execution environment); beyond it, the oldest
#: are forgotten (their invocations count as of an unknown function)
MAX_STREAMS = 50000


def function_of_group(group: Optional[str]) -> Optional[str]:
    """``/aws/lambda/orders`` -> ``orders``; another group is named as it is."""
    if not group:
        return None
    if group.startswith(LAMBDA_GROUP_PREFIX):
        return group[len(LAMBDA_GROUP_PREFIX):] or None
    return group


class Fleet:
    """The combined aggregate and one per function, fed by one join."""

    def __init__(self, *, n_plus_one: int = 5) -> None:
        self.n_plus_one = n_plus_one
        self.combined = Aggregator(n_plus_one_min_calls=n_plus_one)
        #: function -> its aggregate (the combined one itself while only one function is known)
        self.by_function: dict[Optional[str], Aggregator] = {}
        self._stream_function: dict[Optional[str], Optional[str]] = {}

    # -- where an event belongs ---------------------------------------------------------------

    def note_group(self, stream: Optional[str], group: Optional[str]) -> None:
        """Remember which function a log stream belongs to (from the log event's envelope)."""
        if group is None or stream in self._stream_function:
            return
        if len(self._stream_function) >= MAX_STREAMS:
            self._stream_function.pop(next(iter(self._stream_function)))
        self._stream_function[stream] = function_of_group(group)

    def expect(self, function: str) -> None:
        """A function asked for by name: it gets a section even if it logged nothing."""
        self._aggregate(function)

    def function_of(self, inv: Invocation) -> Optional[str]:
        # A killed invocation has no summary record, but its warnings name the function too.
        for record in (inv.record, inv.timeout_warning, inv.memory_warning):
            name = record.get("function_name") if record is not None else None
            if isinstance(name, str) and name:
                self._learn(inv.log_stream, name)
                return name
        return self._stream_function.get(inv.log_stream)

    def _learn(self, stream: Optional[str], function: str) -> None:
        """A log stream is one execution environment, of one function: what one of its
        records names holds for the stream's other invocations (a timeout without a warning)."""
        if stream is None or stream in self._stream_function:
            return
        if len(self._stream_function) >= MAX_STREAMS:
            self._stream_function.pop(next(iter(self._stream_function)))
        self._stream_function[stream] = function

    def _event_function(self, event: Event) -> Optional[str]:
        name = event.get("function_name")
        if isinstance(name, str) and name:
            return name
        return self._stream_function.get(event.get("log_stream"))

    def _aggregate(self, function: Optional[str]) -> Aggregator:
        agg = self.by_function.get(function)
        if agg is not None:
            return agg
        if not self.by_function:
            agg = self.combined
        else:
            if len(self.by_function) == 1:
                # The combined aggregate held only the first function until now: it becomes
                # that function's own, and the combined one goes on alone.
                (first, shared), = self.by_function.items()
                if shared is self.combined:
                    self.by_function[first] = copy.deepcopy(shared)
            agg = Aggregator(n_plus_one_min_calls=self.n_plus_one)
        self.by_function[function] = agg
        return agg

    # -- feeding ------------------------------------------------------------------------------

    def add_invocation(self, inv: Invocation) -> None:
        own = self._aggregate(self.function_of(inv))
        self.combined.add_invocation(inv)
        if own is not self.combined:
            own.add_invocation(inv)

    def add_orphan(self, event: Event) -> None:
        own = self._aggregate(self._event_function(event))
        self.combined.add_orphan(event)
        if own is not self.combined:
            own.add_orphan(event)

    def add_environment_event(self, event: Event) -> None:
        own = self._aggregate(self._event_function(event))
        self.combined.add_environment_event(event)
        if own is not self.combined:
            own.add_environment_event(event)

    def add_call(self, event: Event) -> None:
        own = self._aggregate(self._event_function(event))
        self.combined.add_call(event)
        if own is not self.combined:
            own.add_call(event)

    @property
    def functions(self) -> list[Optional[str]]:
        """The functions seen (or asked for), named ones first, in name order."""
        return sorted(self.by_function, key=lambda f: (f is None, f or ""))

    @property
    def several(self) -> bool:
        return len(self.by_function) > 1


def find_fleet(
    fleet: Fleet, baseline: Optional[Baseline] = None, thresholds: Optional[Thresholds] = None
) -> list[Finding]:
    """Every finding, each about one function.

    With one function (or none named) these are the combined aggregate's findings. With
    several, each function's own; a baseline's p95 comparison is of the whole run, so
    ``latency_regression`` is left out then (the report's baseline table still compares).
    """
    if not fleet.several:
        function = next(iter(fleet.by_function), None)
        found = find_all(fleet.combined, baseline, thresholds)
        for finding in found:
            finding.function = function
        return found
    found = []
    for function in fleet.functions:
        for finding in find_all(fleet.by_function[function], None, thresholds):
            finding.function = function
            found.append(finding)
    return sort_findings(found)


def sort_findings(found: list[Finding]) -> list[Finding]:
    from lambda_trace.analyzer.findings.model import KINDS, SEVERITIES

    found.sort(key=lambda f: (SEVERITIES.index(f.severity), KINDS.index(f.kind),
                              f.function is None, f.function or ""))
    return found
