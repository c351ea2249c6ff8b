"""The analysis in one place: log events -> parsed events -> invocations -> aggregates.

``analyze`` is the one-shot path (``analyze`` of files or a CloudWatch window, a ``--baseline``
log); :class:`Pipeline` is the same wiring kept open between feeds (``--follow``). Both own the
parser, the :class:`~lambda_trace.analyzer.join.Joiner` and the
:class:`~lambda_trace.analyzer.fleet.Fleet` (the combined aggregate and one per function), and
connect them through the one sink the joiner needs: finished invocations, calls, orphans and
execution-environment events all go to the fleet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.fleet import Fleet
from lambda_trace.analyzer.join import Joiner
from lambda_trace.analyzer.joined import Invocation, JoinStats
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser, ParseStats


@dataclass
class Analysis:
    """What one analysis found: the aggregates and the counts of each stage."""

    fleet: Fleet
    join_stats: JoinStats
    parse_stats: Optional[ParseStats]

    @property
    def combined(self) -> Aggregator:
        """The aggregate over every function (the report's overall view)."""
        return self.fleet.combined

    @property
    def events_parsed(self) -> int:
        return sum(self.parse_stats.events.values()) if self.parse_stats is not None else 0


class Pipeline:
    """Parse, join and aggregate, fed in as many pieces as the input arrives in."""

    def __init__(
        self,
        *,
        n_plus_one: int = 5,
        expected: Iterable[str] = (),
        parser: Optional[Parser] = None,
        max_open: int = 2000,
        grace_events: int = 2000,
        on_invocation: Optional[Callable[[Invocation], None]] = None,
    ) -> None:
        # The join only counts EMF documents: the parser need not take them apart.
        self.parser = parser if parser is not None else Parser(emf_detail=False)
        self.fleet = Fleet(n_plus_one=n_plus_one)
        for name in expected:
            self.fleet.expect(name)
        self.joiner = Joiner(max_open=max_open, grace_events=grace_events,
                             call_sink=self.fleet.add_call)
        self.joiner.events_by_type = self.fleet.combined.events_by_type
        self._on_invocation = on_invocation
        self._polled_seq = 0

    def _add(self, inv: Invocation) -> None:
        self.fleet.add_invocation(inv)
        if self._on_invocation is not None:
            self._on_invocation(inv)

    def feed(self, log_events: Iterable[LogEvent]) -> None:
        """Parse and join these log events (the invocations still open wait for more)."""
        self.feed_events(self.parser.iter_events(_noting_groups(log_events, self.fleet)))

    def feed_events(self, events: Iterable[Event]) -> None:
        """Join events that are already parsed."""
        self.joiner.consume(events, self._add, orphaned=self.fleet.add_orphan,
                            environment=self.fleet.add_environment_event)

    def finalise_completed(self) -> None:
        """A live tail: what completed before the previous feed is final now."""
        for inv in self.joiner.finalise_completed(self._polled_seq):
            self._add(inv)
        self._polled_seq = self.joiner.stats.events

    def finish(self) -> Analysis:
        """End of input: finalise every open invocation and place the orphans."""
        for inv in self.joiner.flush():
            self._add(inv)
        for orphan in self.joiner.take_orphans():
            self.fleet.add_orphan(orphan)
        for agg in self.fleet.by_function.values():
            if agg is not self.fleet.combined:
                # (a copy of the join's counts taken when it was forked; the counts are combined)
                agg.events_by_type = {}
        return self.analysis()

    def analysis(self) -> Analysis:
        """The analysis so far (a live view between feeds)."""
        return Analysis(self.fleet, self.joiner.stats, self.parser.stats)


def analyze(
    log_events: Iterable[LogEvent],
    *,
    n_plus_one: int = 5,
    expected: Iterable[str] = (),
    parser: Optional[Parser] = None,
    max_open: int = 2000,
    grace_events: int = 2000,
) -> Analysis:
    """Parse, join and aggregate in one pass, per function and combined, in bounded memory."""
    pipeline = Pipeline(n_plus_one=n_plus_one, expected=expected, parser=parser,
                        max_open=max_open, grace_events=grace_events)
    pipeline.feed(log_events)
    return pipeline.finish()


def analyze_events(
    events: Iterable[Event], *, n_plus_one: int = 5, max_open: int = 2000,
    grace_events: int = 2000,
) -> Analysis:
    """The same, from events that are already parsed (no parse counts)."""
    pipeline = Pipeline(n_plus_one=n_plus_one, max_open=max_open, grace_events=grace_events)
    pipeline.feed_events(events)
    analysis = pipeline.finish()
    analysis.parse_stats = None
    return analysis


def _noting_groups(log_events: Iterable[LogEvent], fleet: Fleet) -> Iterator[LogEvent]:
    """Pass the log events on, telling the fleet which function each log stream belongs to."""
    note = fleet.note_group
    last: tuple[Optional[str], Optional[str]] = (None, None)
    for log_event in log_events:
        group = log_event.log_group
        if group is not None:
            key = (log_event.log_stream, group)
            if key != last:
                note(*key)
                last = key
        yield log_event
