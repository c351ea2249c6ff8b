"""The calls of an invocation folded into per-dependency statistics and N+1 patterns.

An invocation brings its kept call records, the calls that overflowed the kept list (counted by
the join), and its invocation record's per-name summary (which counts every call, even those
whose records were dropped; schema v2 adds a latency histogram per name). :class:`CallStats` is
the :class:`~lambda_trace.analyzer.aggregate.Aggregator`'s half that reads them.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any, Optional

from lambda_trace.analyzer.join import UNNAMED, Call, CallTally, Invocation
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import as_float
from lambda_trace.analyzer.records import SummaryExtra, is_v2, summary_v1
from lambda_trace.analyzer.sketches import QuantileSketch
from lambda_trace.schema import HISTOGRAM_ACCURACY

#: Name-keyed tables (dependencies, memory sizes) keep this many names; the rest go to OTHER.
MAX_NAMES = 500
OTHER = "(other)"

_EMPTY: dict[str, Any] = {}

#: Error classes of our call records that mean the dependency throttled us.
THROTTLE_CLASS = "throttled"


@dataclass
class DependencyStats:
    """Everything known about one call name (``kind`` is aws, http, db or segment)."""

    name: str
    kind: str = ""
    calls: int = 0
    total_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    throttled: int = 0
    retries: int = 0
    calls_retried: int = 0
    invocations: int = 0
    #: calls whose duration we saw one by one (records); totals may also come from summaries
    sketch: QuantileSketch = field(default_factory=QuantileSketch)
    error_classes: dict[str, int] = field(default_factory=dict)



@dataclass
class NPlusOne:
    """Invocations that made many sequential calls to one operation."""

    name: str
    invocations: int = 0
    max_sequential: int = 0
    max_calls: int = 0
    total_ms: float = 0.0
    example_request_id: Optional[str] = None
    #: True when at least one case was seen in call records (start/duration), not only counts
    from_records: bool = False


class CallStats:
    """Dependencies and N+1 patterns, folded from calls (the aggregator's call half)."""

    n_plus_one_min_calls: int
    dependencies: dict[str, DependencyStats]
    n_plus_one: dict[str, NPlusOne]

    def add_call(self, event: Event) -> None:
        """One call record outside a kept call list: its duration feeds the distribution."""
        duration = as_float(event.get("duration_ms"))
        if duration is None:
            return
        self._dependency(event.get("name"), event.get("kind")).sketch.add(duration)

    def _add_calls(self, inv: Invocation, duration: Optional[float]) -> None:
        record = inv.record
        summary = record.get("calls") if record is not None else None
        if not isinstance(summary, dict):
            summary = _EMPTY
        calls = inv.calls
        overflow = inv.overflow
        if not calls and not summary and not overflow:
            return
        if summary and is_v2(record):
            # Schema v2: most calls have no line; the summary's histogram gives their latencies.
            summary, extras = summary_v1(summary)
            self._add_v2_calls(inv, duration, summary, extras)
            return
        # The kept calls by name. Their durations go to the dependency's sketch unchecked (it
        # checks them when it folds its buffer in); the calls beyond them went to add_call on
        # arrival. Calls with an error or retries are rare: they are looked at once more.
        groups: dict[Any, list[Call]] = {}
        odd: list[Call] = []
        for call in calls:
            group = groups.get(call.name)
            if group is None:
                groups[call.name] = [call]
            else:
                group.append(call)
            if call.status != "ok" or call.retries:
                odd.append(call)
        simple = not overflow
        if simple:
            for raw_name in groups:
                if type(raw_name) is not str or not raw_name or raw_name == UNNAMED:
                    simple = False  # two raw names may give one name (None and "")
                    break
        if not simple:
            self._add_named_calls(inv, duration, summary, groups, odd)
            return
        # The common case, in one pass: every raw name is its own name, nothing overflowed.
        # The invocation record's summary counts every call, even those whose records were
        # dropped, so it wins; call records fill in names the summary lacks.
        dependencies = self.dependencies
        threshold = self.n_plus_one_min_calls
        in_summary = 0
        for name, group in groups.items():
            dep = dependencies.get(name)
            if dep is None or not dep.kind:
                dep = self._dependency(name, group[0].kind)
            dep.sketch.extend([c.duration_ms for c in group])
            stats = summary.get(name) if summary else None
            if stats is not None:
                in_summary += 1
            if type(stats) is dict:
                # (_summary_counts, inlined: this runs for every name of every invocation)
                count, total, mx, errs = (stats.get("count"), stats.get("total_ms"),
                                          stats.get("max_ms"), stats.get("errors"))
                if type(count) is not int:
                    count = int(as_float(count) or 0)
                if type(total) is not float or total - total != 0.0:
                    total = as_float(total) or 0.0
                if type(mx) is not float or mx - mx != 0.0:
                    mx = as_float(mx) or 0.0
                if type(errs) is not int:
                    errs = int(as_float(errs) or 0)
            elif isinstance(stats, dict):
                count, total, mx, errs = summary_counts(stats)
            else:
                count, total, mx, errs = record_counts(group, None)
            dep.calls += count
            dep.total_ms += total
            if mx > dep.max_ms:
                dep.max_ms = mx
            dep.errors += errs
            dep.invocations += 1
            if count >= threshold:
                self._check_n_plus_one(inv, name, count, total, duration, group)
        if odd:
            self._add_call_problems(odd, {name: self._dependency(name, None) for name in groups})
        if len(summary) > in_summary:
            self._add_summary_only(inv, duration, summary, groups)

    def _add_named_calls(
        self, inv: Invocation, duration: Optional[float], summary: dict[str, Any],
        groups: dict[Any, list[Call]], odd: list[Call],
    ) -> None:
        """``_add_calls`` when raw names need turning into names, or calls overflowed."""
        named: dict[str, tuple[DependencyStats, list[Call]]] = {}
        for raw_name, group in groups.items():
            name = raw_name if type(raw_name) is str and raw_name else str(raw_name or UNNAMED)
            seen = named.get(name)
            if seen is None:
                dep = self._dependency(name, group[0].kind)
                named[name] = (dep, group)
            else:  # raw names that differ but not as text (None and "")
                dep = seen[0]
                named[name] = (dep, seen[1] + group)
            dep.sketch.extend([c.duration_ms for c in group])
        overflow = inv.overflow
        for name, extra in overflow.items():
            dep = self._dependency(name, extra.kind)
            if name not in named:
                named[name] = (dep, [])
            add_tally_problems(dep, extra)
        if odd:
            self._add_call_problems(odd, {name: dep for name, (dep, _) in named.items()})
        for name, (dep, group) in named.items():
            stats = summary.get(name) if summary else None
            if isinstance(stats, dict):
                count, total, mx, errs = summary_counts(stats)
            else:
                count, total, mx, errs = record_counts(
                    group, overflow.get(name) if overflow else None)
            self._fold_counts(inv, duration, name, dep, group, count, total, mx, errs)
        self._add_summary_only(inv, duration, summary, named)

    def _add_v2_calls(
        self, inv: Invocation, duration: Optional[float], summary: dict[str, Any],
        extras: dict[str, SummaryExtra],
    ) -> None:
        """``_add_calls`` for a v2 record: its summary counts every call and its histogram
        holds every call's latency, so the sketch takes the histogram rather than the call
        lines (which exist for slow and failed calls, or for all calls of a remarkable
        invocation) unless calls overflowed the kept list (they reached the sketch already)."""
        groups: dict[str, list[Call]] = {}
        odd: list[Call] = []
        for call in inv.calls:
            raw = call.name
            name = raw if type(raw) is str and raw else str(raw or UNNAMED)
            groups.setdefault(name, []).append(call)
            if call.status != "ok" or call.retries:
                odd.append(call)
        overflow = inv.overflow
        deps: dict[str, DependencyStats] = {}
        for name in {**summary, **groups}:
            group = groups.get(name, [])
            extra = extras.get(name)
            dep = self._dependency(name, extra[1] if extra else (group[0].kind if group else None))
            deps[name] = dep
            stats = summary.get(name)
            spilled = overflow.get(name) if overflow else None
            if isinstance(stats, dict):
                count, total, mx, errs = summary_counts(stats)
                if extra and extra[0] and spilled is None:
                    dep.sketch.add_buckets(extra[0], HISTOGRAM_ACCURACY, total, mx)
                else:
                    dep.sketch.extend([c.duration_ms for c in group])
            else:  # a call line whose name the summary lacks (a hand-made record)
                dep.sketch.extend([c.duration_ms for c in group])
                count, total, mx, errs = record_counts(group, spilled)
            if spilled is not None:
                add_tally_problems(dep, spilled)
            self._fold_counts(inv, duration, name, dep, group, count, total, mx, errs,
                              extra[2] if extra else None)
        if odd:
            self._add_call_problems(odd, deps)

    @staticmethod
    def _add_call_problems(odd: list[Call], deps: dict[str, DependencyStats]) -> None:
        """Error classes (throttling) and retries of the calls that had them."""
        for raw_name, _, _, status, error_class, retries, _ in odd:
            dep = deps[raw_name if type(raw_name) is str and raw_name
                       else str(raw_name or UNNAMED)]
            if status == "error" and error_class:
                key = str(error_class)
                dep.error_classes[key] = dep.error_classes.get(key, 0) + 1
                if key == THROTTLE_CLASS:
                    dep.throttled += 1
            if retries and type(retries) is int and retries > 0:
                dep.retries += retries
                dep.calls_retried += 1

    def _add_summary_only(self, inv: Invocation, duration: Optional[float],
                          summary: dict[str, Any], seen: Container[Any]) -> None:
        """The names of the record's summary that no kept call record had."""
        for name, stats in summary.items():
            if name in seen or not isinstance(stats, dict):
                continue
            dep = self._dependency(name, None)
            self._fold_counts(inv, duration, name, dep, [], *summary_counts(stats))

    def _fold_counts(
        self, inv: Invocation, duration: Optional[float], name: str, dep: DependencyStats,
        calls: list[Call], count: int, total: float, mx: float, errors: int,
        seq: Optional[int] = None,
    ) -> None:
        """One invocation's calls of one name into its dependency (``_add_calls``' common case
        does the same inline)."""
        dep.calls += count
        dep.total_ms += total
        if mx > dep.max_ms:
            dep.max_ms = mx
        dep.errors += errors
        dep.invocations += 1
        if count >= self.n_plus_one_min_calls:
            self._check_n_plus_one(inv, name, count, total, duration, calls, seq)

    def _fold_call_summary(self, event: Event) -> None:
        dep = self._dependency(event.get("name"), event.get("kind"))
        duration = as_float(event.get("duration_ms")) or 0.0
        dep.calls += 1
        dep.total_ms += duration
        dep.max_ms = max(dep.max_ms, duration)
        if event.get("status") == "error":
            dep.errors += 1

    def _check_n_plus_one(
        self, inv: Invocation, name: str, count: int, total: float, duration: Optional[float],
        calls: list[Call], seq: Optional[int] = None,
    ) -> None:
        threshold = self.n_plus_one_min_calls
        spans = [(c.start_ms, c.duration_ms) for c in calls
                 if type(c.start_ms) is float and type(c.duration_ms) is float]
        if len(spans) != len(calls):  # ints or junk from a hand-made record
            spans = []
            for c in calls:
                start, dur = as_float(c.start_ms), as_float(c.duration_ms)
                if start is not None and dur is not None:
                    spans.append((start, dur))
        if len(spans) >= threshold and (seq is None or len(spans) >= count):
            sequential = longest_sequential_run(spans)
            from_records = True
        elif seq is not None:
            # v2 summary: the runtime measured the longest sequential run of every call.
            sequential = seq
            from_records = True
        elif duration is not None and total <= duration:
            # Counts only: calls that add up to no more than the wall time may be sequential.
            sequential = count
            from_records = False
        else:
            return
        if sequential < threshold:
            return
        entry = self.n_plus_one.get(name)
        if entry is None:
            if len(self.n_plus_one) >= MAX_NAMES:
                return
            entry = self.n_plus_one[name] = NPlusOne(name)
        entry.invocations += 1
        entry.total_ms += total
        entry.from_records = entry.from_records or from_records
        if sequential > entry.max_sequential:
            entry.max_sequential = sequential
            entry.example_request_id = inv.request_id
        entry.max_calls = max(entry.max_calls, count)

    def _dependency(self, name: Any, kind: Any) -> DependencyStats:
        key = str(name) if name else UNNAMED
        dep = self.dependencies.get(key)
        if dep is None:
            if len(self.dependencies) >= MAX_NAMES:
                key = OTHER
                dep = self.dependencies.get(key)
            if dep is None:
                dep = self.dependencies[key] = DependencyStats(key)
        if kind and not dep.kind:
            dep.kind = str(kind)
        return dep


def longest_sequential_run(spans: list[tuple[float, float]], tolerance_ms: float = 0.5) -> int:
    """The most calls in a row (by start) where each starts after every earlier one has ended."""
    if not spans:
        return 0
    spans = sorted(spans)
    best = run = 1
    prev_end = spans[0][0] + spans[0][1]
    for start, duration in spans[1:]:
        run = run + 1 if start + tolerance_ms >= prev_end else 1
        prev_end = max(prev_end, start + duration)
        best = max(best, run)
    return best


def record_counts(calls: list[Call], spilled: Optional[CallTally]) -> tuple[int, float, float, int]:
    """``(count, total_ms, max_ms, errors)`` of call records of one name (no summary counted
    them), with the calls of that name that overflowed the kept list."""
    values, total = finite_values([c.duration_ms for c in calls])
    count, mx = len(values), max(values, default=0.0)
    errors = sum(1 for c in calls if c.status == "error")
    if spilled is not None:
        count += spilled.count
        total += spilled.total_ms
        mx = max(mx, spilled.max_ms)
        errors += spilled.errors
    return count, total, mx, errors


def add_tally_problems(dep: DependencyStats, tally: CallTally) -> None:
    """Throttles, retries and error classes of the calls that overflowed the kept list."""
    dep.throttled += tally.throttled
    dep.retries += tally.retries
    dep.calls_retried += tally.calls_retried
    for cls, n in tally.error_classes.items():
        dep.error_classes[cls] = dep.error_classes.get(cls, 0) + n


def finite_values(values: list[Any]) -> tuple[list[Any], float]:
    """The values that are finite numbers, and their sum."""
    try:
        total = sum(values)
        if total - total == 0.0:
            return values, total
    except TypeError:
        pass
    values = [v for v in map(as_float, values) if v is not None]
    return values, sum(values)


def summary_counts(stats: dict[str, Any]) -> tuple[int, float, float, int]:
    """``(count, total_ms, max_ms, errors)`` of one name in an invocation record's summary."""
    count, total, mx, errors = (stats.get("count"), stats.get("total_ms"), stats.get("max_ms"),
                                stats.get("errors"))
    # Fast path for what our records hold: ints and finite floats.
    if type(count) is not int:
        count = int(as_float(count) or 0)
    if type(total) is not float or total - total != 0.0:
        total = as_float(total) or 0.0
    if type(mx) is not float or mx - mx != 0.0:
        mx = as_float(mx) or 0.0
    if type(errors) is not int:
        errors = int(as_float(errors) or 0)
    return count, total, mx, errors
