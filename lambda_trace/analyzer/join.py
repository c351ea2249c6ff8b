"""Join normalised events into invocations by request id, streaming, in bounded memory.

The input may be oldest-first or newest-first (console copies), streams may interleave
(group-wide listings), START or END may be missing, and ``Task timed out`` arrives after REPORT.
So nothing here relies on START coming first:

* An invocation is *complete* once its REPORT is seen and either its START is seen too or its
  stream is known to run oldest-first, or once its log stream has moved on to another request
  (one stream is one execution environment, which runs one request at a time). A complete
  invocation is *finalised* ``grace_events`` events later, so a late ``Task timed out`` line or
  invocation record still joins it. At most ``max_open`` invocations are open; beyond that the
  least recently touched one is finalised early (counted in ``JoinStats.evicted``).
* An event without a request id (raw stdout, ``[ERROR]`` lines, tracebacks) is attributed to the
  open START … END window of the same log stream (docs/formats.md §0.4), looked at in the
  stream's direction; when the window is not known yet the event waits for the stream's next
  event that has a request id. ``Task timed out`` always belongs to the invocation just before it
  in time.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional

from lambda_trace.analyzer.denials import add_denial, denial_of_call
from lambda_trace.analyzer.joined import UNNAMED, Call, CallTally, Invocation, JoinStats
from lambda_trace.analyzer.model import Event
from lambda_trace.analyzer.numbers import float_or_zero

#: Event types that describe an execution environment, not an invocation.
ENVIRONMENT_TYPES = frozenset({"init_start", "init_report"})
#: Event types the join does not keep (they are only counted).
IGNORED_TYPES = frozenset({"emf"}) | ENVIRONMENT_TYPES

# Where an event sits inside its invocation, in time: the opening boundary, the closing one, or
# anywhere in between.
OPENS, CLOSES, INSIDE = "s", "e", "i"
_POSITION = {"start": OPENS, "end": CLOSES, "report": CLOSES, "timeout": CLOSES}
_BOUNDARIES = frozenset({"start", "end", "report"})

FORWARD, BACKWARD, UNKNOWN = 1, -1, 0

_NOTHING: tuple[Invocation, ...] = ()
_NEVER = 1 << 62


class _Stream:
    """What the join remembers about one log stream (one execution environment)."""

    __slots__ = ("boundary_kind", "boundary_rid", "boundary_ts", "direction", "last_kind",
                 "last_rid", "pending")

    def __init__(self) -> None:
        self.last_rid: Optional[str] = None
        self.last_kind = INSIDE
        self.boundary_rid: Optional[str] = None
        self.boundary_kind = INSIDE
        self.boundary_ts: Optional[int] = None
        self.direction = UNKNOWN
        self.pending: Optional[list[Event]] = None


class Joiner:
    """Feed events with :meth:`add`, collect finished invocations from it and from :meth:`flush`.

    Events it cannot place go to ``orphans`` (the caller drains them) so that their failures are
    still counted.
    """

    def __init__(
        self,
        *,
        max_open: int = 2000,
        grace_events: int = 2000,
        max_streams: int = 20000,
        max_pending: int = 1000,
        max_calls_kept: int = 200,
        remember_finalised: int = 50000,
        call_sink: Optional[Callable[[Event], None]] = None,
    ) -> None:
        self.max_open = max_open
        self.grace_events = grace_events
        self.max_streams = max_streams
        self.max_pending = max_pending
        self.max_calls_kept = max_calls_kept
        self.remember_finalised = remember_finalised
        #: receives the call records an invocation does not keep (beyond ``max_calls_kept``)
        self.call_sink = call_sink
        self._stats = JoinStats()
        #: events no invocation could take; the caller drains this list
        self.orphans: list[Event] = []
        self._open: OrderedDict[str, Invocation] = OrderedDict()
        self._streams: OrderedDict[Optional[str], _Stream] = OrderedDict()
        self._grace: deque[tuple[int, Invocation]] = deque()
        self._finalised: OrderedDict[str, None] = OrderedDict()
        self._done: list[Invocation] = []
        self._direction = UNKNOWN
        self._seq = 0
        # The invocation the last call record went to through the stream-checked path. Until
        # any other event that the join looks at arrives, a call record with the same request
        # id needs no stream or window checks: nothing they depend on can have changed.
        self._hot: Optional[Invocation] = None
        #: the event number at which the oldest grace window ends
        self._next_expiry = _NEVER
        #: events seen, by type (the join's input, kept or not)
        self.events_by_type: dict[str, int] = {}

    # -- public ----------------------------------------------------------------------------

    def add(self, event: Event) -> Sequence[Invocation]:
        """Take one event; return the invocations finalised because of it (usually none)."""
        done: list[Invocation] = []
        self.consume((event,), done.append)
        return done

    def consume(
        self,
        events: Iterable[Event],
        finalised: Callable[[Invocation], None],
        *,
        orphaned: Optional[Callable[[Event], None]] = None,
        environment: Optional[Callable[[Event], None]] = None,
    ) -> None:
        """Take every event; ``finalised`` gets each invocation as soon as it is final.

        ``orphaned`` gets the events no invocation could take (without it they stay in
        ``orphans``) and ``environment`` the INIT_START / INIT_REPORT events. One loop here
        instead of one ``add`` call per event: this is the analyzer's hottest code.
        """
        counts = self.events_by_type
        done = self._done
        orphans = self.orphans
        general = self._general
        on_call = self._on_call
        max_kept = self.max_calls_kept
        ignored = IGNORED_TYPES
        seq = self._seq
        for event in events:
            seq += 1
            self._seq = seq
            kind = event["type"]
            try:
                counts[kind] += 1
            except KeyError:  # once per type (zero-cost try: cheaper than dict.get)
                counts[kind] = 1
            if kind == "call":
                hot = self._hot
                get = event.get
                if hot is not None and get("request_id") == hot.request_id:
                    # The next call record of the invocation the previous call record went
                    # to, nothing else in between (see _hot).
                    status = get("status")
                    calls = hot.calls
                    if status == "ok" and len(calls) < max_kept:
                        calls.append(Call(get("name"), get("start_ms"), get("duration_ms"), status,
                                          None, get("retries"), get("kind")))
                    else:
                        on_call(hot, event)
                else:
                    general(event, kind)
            elif kind in ignored:
                if environment is not None and kind in ENVIRONMENT_TYPES:
                    environment(event)
            else:
                general(event, kind)
            if seq >= self._next_expiry:
                self._expire()
            if done:
                for inv in done:
                    finalised(inv)
                done.clear()
            if orphans and orphaned is not None:
                for orphan in orphans:
                    orphaned(orphan)
                orphans.clear()

    def _general(self, event: Event, kind: str) -> None:
        """Any event the join keeps except the next call record of the hot invocation."""
        self._hot = None
        get = event.get
        rid = get("request_id")
        stream_name = get("log_stream")
        stream = self._streams.get(stream_name)
        if stream is None:
            stream = self._new_stream(stream_name)
        if not rid:
            self._place(stream, event, kind)
            return
        if kind == "call" and stream.last_rid == rid and stream.pending is None:
            # A call record inside the window its stream is in.
            stream.last_kind = INSIDE
            inv = self._open.get(rid)
            if inv is not None and inv.report is None:
                self._open.move_to_end(rid)
                inv.complete_seq = None
                self._hot = inv
                self._on_call(inv, event)
            else:
                self._attach(rid, event, kind)
            return
        # Update the stream's window with an event that carries a request id.
        position = _POSITION.get(kind, INSIDE)
        if kind in _BOUNDARIES:
            # Learn the stream's direction: from the order of one request's opening and closing
            # boundaries, else from the timestamps of two boundaries in a row.
            ts = get("timestamp_ms")
            direction = UNKNOWN
            if stream.boundary_rid == rid and stream.boundary_kind != position:
                direction = FORWARD if stream.boundary_kind == OPENS else BACKWARD
            elif ts is not None and stream.boundary_ts is not None and ts != stream.boundary_ts:
                direction = FORWARD if ts > stream.boundary_ts else BACKWARD
            if direction:
                stream.direction = direction
                self._direction = direction
            stream.boundary_rid = rid
            stream.boundary_kind = position
            if ts is not None:
                stream.boundary_ts = ts
        if stream.pending:
            self._resolve(stream, rid, position)
        previous = stream.last_rid
        if previous is not None and previous != rid:
            # One environment runs one request at a time: the previous one is over.
            inv = self._open.get(previous)
            if inv is not None and inv.complete_seq is None:
                self._complete(inv)
        stream.last_rid = rid
        stream.last_kind = position
        self._attach(rid, event, kind)

    def flush(self) -> list[Invocation]:
        """End of input: place waiting events and finalise every open invocation."""
        for stream in self._streams.values():
            if stream.pending:
                self._resolve_at_end(stream)
        for inv in list(self._open.values()):
            self._finalise(inv)
        done = self._done[:]
        self._done.clear()
        return done

    def finalise_completed(self, before_seq: int) -> list[Invocation]:
        """Finalise the complete invocations that completed by event number ``before_seq``.

        A live tail's grace is time, not events: what completed in an earlier poll is final,
        however few events came since (``analyze --follow``).
        """
        for seq, inv in list(self._grace):
            if seq <= before_seq and inv.complete_seq == seq and inv.request_id in self._open:
                self._finalise(inv)
        done = self._done[:]
        self._done.clear()
        return done

    @property
    def stats(self) -> JoinStats:
        self._stats.events = self._seq
        return self._stats

    def take_orphans(self) -> list[Event]:
        """The events no invocation took since the last call, and forget them."""
        orphans = self.orphans[:]
        self.orphans.clear()
        return orphans

    @property
    def open_count(self) -> int:
        return len(self._open)

    # -- streams and direction ----------------------------------------------------------------

    def _new_stream(self, name: Optional[str]) -> _Stream:
        stream = self._streams[name] = _Stream()
        if len(self._streams) > self.max_streams:
            _, old = self._streams.popitem(last=False)
            if old.pending:
                self._orphan_all(old.pending)
        return stream

    def _direction_of(self, stream: _Stream) -> int:
        return stream.direction or self._direction or FORWARD

    # -- events without a request id ----------------------------------------------------------

    def _place(self, stream: _Stream, event: Event, kind: str) -> None:
        if stream.last_rid is not None:
            direction = self._direction_of(stream)
            if kind == "timeout":
                # Written after REPORT: it belongs to the invocation before it in time.
                if direction == FORWARD:
                    self._attach_attributed(stream.last_rid, event, kind)
                    return
            elif stream.last_kind == INSIDE or stream.last_kind == (
                OPENS if direction == FORWARD else CLOSES
            ):
                self._attach_attributed(stream.last_rid, event, kind)
                return
        if stream.pending is None:
            stream.pending = []
        if len(stream.pending) >= self.max_pending:
            self._orphan_all([event])
            return
        stream.pending.append(event)

    def _resolve(self, stream: _Stream, next_rid: str, next_position: str) -> None:
        """Place the stream's waiting events, now that the next event with an id has come."""
        pending = stream.pending or []
        stream.pending = None
        direction = self._direction_of(stream)
        closes = CLOSES if direction == FORWARD else OPENS
        same = stream.last_rid == next_rid
        inside = same or next_position in (INSIDE, closes)
        for event in pending:
            if event["type"] == "timeout" or inside:
                self._attach_attributed(next_rid, event, event["type"])
            else:
                self._orphan_all([event])

    def _resolve_at_end(self, stream: _Stream) -> None:
        pending = stream.pending or []
        stream.pending = None
        direction = self._direction_of(stream)
        opens = OPENS if direction == FORWARD else CLOSES
        rid = stream.last_rid
        for event in pending:
            if rid is not None and (
                stream.last_kind in (INSIDE, opens)
                or (event["type"] == "timeout" and direction == FORWARD)
            ):
                self._attach_attributed(rid, event, event["type"])
            else:
                self._orphan_all([event])

    def _attach_attributed(self, rid: str, event: Event, kind: str) -> None:
        self._stats.attributed += 1
        self._attach(rid, event, kind)

    def _orphan_all(self, events: list[Event]) -> None:
        self._stats.unattributed += len(events)
        self.orphans.extend(events)

    # -- invocations --------------------------------------------------------------------------

    def _attach(self, rid: str, event: Event, kind: str) -> None:
        inv = self._open.get(rid)
        if inv is None:
            if rid in self._finalised:
                self._stats.late += 1
                self.orphans.append(event)
                return
            inv = self._open[rid] = Invocation(rid, event.get("log_stream"))
            open_now = len(self._open)
            if open_now > self._stats.max_open:
                self._stats.max_open = open_now
            if open_now > self.max_open:
                self._evict()
        else:
            self._open.move_to_end(rid)
        if inv.log_stream is None:
            inv.log_stream = event.get("log_stream")
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, inv, event)
        if inv.report is not None and (inv.has_start or self._known_direction(inv) == FORWARD):
            if inv.complete_seq is None or kind == "report" or kind == "start":
                self._complete(inv)  # (re)starts its grace window
        elif inv.complete_seq is not None and inv.report is None:
            # Completed only because its stream moved on (interleaved copies without stream
            # names), yet more of it came: it is still running.
            inv.complete_seq = None

    def _known_direction(self, inv: Invocation) -> int:
        stream = self._streams.get(inv.log_stream)
        return (stream.direction if stream is not None else UNKNOWN) or self._direction

    def _complete(self, inv: Invocation) -> None:
        inv.complete_seq = self._seq
        if not self._grace:
            self._next_expiry = self._seq + self.grace_events
        self._grace.append((self._seq, inv))

    def _expire(self) -> None:
        limit = self._seq - self.grace_events
        grace = self._grace
        while grace and grace[0][0] <= limit:
            seq, inv = grace.popleft()
            if inv.complete_seq == seq and inv.request_id in self._open:
                self._finalise(inv)
        self._next_expiry = grace[0][0] + self.grace_events if grace else _NEVER

    def _evict(self) -> None:
        while len(self._open) > self.max_open:
            _, inv = next(iter(self._open.items()))
            self._stats.evicted += 1
            self._finalise(inv)

    def _finalise(self, inv: Invocation) -> None:
        if inv is self._hot:
            self._hot = None
        del self._open[inv.request_id]
        inv.complete_seq = -1
        self._finalised[inv.request_id] = None
        if len(self._finalised) > self.remember_finalised:
            self._finalised.popitem(last=False)
        self._stats.invocations += 1
        self._done.append(inv)

    # -- per-type handlers --------------------------------------------------------------------

    def _on_start(self, inv: Invocation, event: Event) -> None:
        if inv.has_start:
            self._stats.duplicates += 1
            return
        inv.has_start = True
        inv.start_ts = event.get("timestamp_ms")

    def _on_end(self, inv: Invocation, event: Event) -> None:
        if inv.has_end:
            self._stats.duplicates += 1
            return
        inv.has_end = True
        inv.end_ts = event.get("timestamp_ms")

    def _on_report(self, inv: Invocation, event: Event) -> None:
        if inv.report is not None:
            self._stats.duplicates += 1
            return
        inv.report = event

    def _on_timeout(self, inv: Invocation, event: Event) -> None:
        if inv.timed_out:
            self._stats.duplicates += 1
            return
        inv.timed_out = True
        seconds = event.get("seconds")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
            inv.timeout_seconds = float(seconds)

    def _on_runtime_exit(self, inv: Invocation, event: Event) -> None:
        if inv.runtime_exit is None:
            inv.runtime_exit = event

    def _on_error(self, inv: Invocation, event: Event) -> None:
        for seen in inv.errors:
            if seen.get("error_type") == event.get("error_type") and seen.get(
                "message"
            ) == event.get("message"):
                return  # the same error printed twice (console copies, LAMBDA_WARNING + JSON)
        if len(inv.errors) < Invocation.MAX_DETAILS:
            inv.errors.append(event)

    def _on_access_denied(self, inv: Invocation, event: Event) -> None:
        add_denial(inv.access_denied, event, Invocation.MAX_DETAILS)

    def _on_invocation(self, inv: Invocation, event: Event) -> None:
        if inv.record is None:
            inv.record = event

    def _on_timeout_warning(self, inv: Invocation, event: Event) -> None:
        previous = inv.timeout_warning
        if previous is None or float_or_zero(event.get("elapsed_ms")) >= float_or_zero(
            previous.get("elapsed_ms")
        ):
            inv.timeout_warning = event

    def _on_memory_warning(self, inv: Invocation, event: Event) -> None:
        previous = inv.memory_warning
        if previous is None or float_or_zero(event.get("elapsed_ms")) >= float_or_zero(
            previous.get("elapsed_ms")
        ):
            inv.memory_warning = event

    def _on_call(self, inv: Invocation, event: Event) -> None:
        error_class = event.get("error_class")
        if error_class == "permission_denied":
            add_denial(inv.access_denied, denial_of_call(event), Invocation.MAX_DETAILS)
        if len(inv.calls) < self.max_calls_kept:
            inv.calls.append(Call(
                event.get("name"), event.get("start_ms"), event.get("duration_ms"),
                event.get("status"), error_class, event.get("retries"), event.get("kind"),
            ))
            return
        name = str(event.get("name") or UNNAMED)
        tally = inv.overflow.get(name)
        if tally is None:
            tally = inv.overflow[name] = CallTally(event.get("kind"))
        tally.add(float_or_zero(event.get("duration_ms")), event.get("status"), error_class,
                  event.get("retries"))
        if self.call_sink is not None:
            self.call_sink(event)


_HANDLERS: dict[str, Any] = {
    "start": Joiner._on_start,
    "end": Joiner._on_end,
    "report": Joiner._on_report,
    "timeout": Joiner._on_timeout,
    "runtime_exit": Joiner._on_runtime_exit,
    "error": Joiner._on_error,
    "access_denied": Joiner._on_access_denied,
    "invocation": Joiner._on_invocation,
    "timeout_warning": Joiner._on_timeout_warning,
    "memory_warning": Joiner._on_memory_warning,
    "call": Joiner._on_call,
}
