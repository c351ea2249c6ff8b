"""Specification of the join: events become invocations by request id, whatever the order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from join_builders import STREAM, T0, call, error, invocation

from lambda_trace.analyzer.join import Joiner
from lambda_trace.analyzer.joined import Invocation
from lambda_trace.analyzer.model import Event, make_event

OTHER = "2026/11/27/[$LATEST]fedcba9876543210fedcba9876543210"


def join(events: Iterable[Event], **kwargs: Any) -> tuple[dict[str, Invocation], Joiner]:
    joiner = Joiner(**kwargs)
    done: list[Invocation] = []
    for event in events:
        done.extend(joiner.add(event))
    done.extend(joiner.flush())
    by_id = {inv.request_id: inv for inv in done}
    assert len(by_id) == len(done), "an invocation was finalised twice"
    return by_id, joiner


def test_forward_events_make_one_invocation_with_every_part() -> None:
    """START, call records, the invocation record, END and REPORT of one id form one invocation."""
    events = invocation("a", calls=[("s3.GetObject", 1.0, 20.0)], record=True, duration=42.5)
    invs, joiner = join(events)
    inv = invs["a"]
    assert inv.has_start and inv.has_end
    assert inv.report is not None and inv.report["duration_ms"] == 42.5
    assert inv.record is not None and inv.record["duration_ms"] == 42.5
    assert inv.calls == [("s3.GetObject", 1.0, 20.0, "ok", None, None, "aws")]
    assert inv.call_totals()["s3.GetObject"].count == 1
    assert joiner.stats.invocations == 1 and joiner.stats.unattributed == 0
    assert joiner.stats.events == len(events)


def test_raw_error_line_is_attributed_to_the_open_window_of_its_stream() -> None:
    """An [ERROR] event without a request id belongs to the START … END window around it."""
    events = invocation("a", extra=[error(None, "KeyError", "'id'")])
    invs, joiner = join(events)
    assert [e["error_type"] for e in invs["a"].errors] == ["KeyError"]
    assert joiner.stats.attributed == 1


def test_interleaved_streams_attribute_raw_lines_by_stream() -> None:
    """Two environments interleaved in a group-wide listing keep their own raw lines and calls."""
    a = invocation("a", stream=STREAM, t0=T0, duration=100,
                   calls=[("dynamodb.GetItem", 5, 10)],
                   extra=[error(None, "KeyError", "in a", stream=STREAM, ts=T0 + 50)])
    b = invocation("b", stream=OTHER, t0=T0 + 10, duration=100,
                   calls=[("s3.GetObject", 5, 10)],
                   extra=[error(None, "ValueError", "in b", stream=OTHER, ts=T0 + 60)])
    merged = sorted(a + b, key=lambda e: e["timestamp_ms"])
    assert [e["request_id"] for e in merged[:4]] != [e["request_id"] for e in a[:4]]
    invs, _ = join(merged)
    assert [e["message"] for e in invs["a"].errors] == ["in a"]
    assert [e["message"] for e in invs["b"].errors] == ["in b"]
    assert set(invs["a"].call_totals()) == {"dynamodb.GetItem"}
    assert set(invs["b"].call_totals()) == {"s3.GetObject"}


def test_interleaved_streams_in_a_newest_first_copy() -> None:
    """Interleaved environments copied newest first still join by stream and request id."""
    a = invocation("a", stream=STREAM, t0=T0, duration=100, record=True,
                   calls=[("dynamodb.GetItem", 5, 10)],
                   extra=[error(None, "KeyError", "in a", stream=STREAM, ts=T0 + 50)])
    b = invocation("b", stream=OTHER, t0=T0 + 10, duration=100, record=True,
                   calls=[("s3.GetObject", 5, 10)],
                   extra=[error(None, "ValueError", "in b", stream=OTHER, ts=T0 + 60)])
    merged = sorted(a + b, key=lambda e: e["timestamp_ms"], reverse=True)
    invs, joiner = join(merged)
    assert [e["message"] for e in invs["a"].errors] == ["in a"]
    assert [e["message"] for e in invs["b"].errors] == ["in b"]
    assert invs["a"].record is not None and invs["b"].report is not None
    assert joiner.stats.unattributed == 0


def test_newest_first_copy_still_joins_and_attributes() -> None:
    """A console copy in reverse order joins the same invocations and raw lines as the original."""
    events = []
    for i, rid in enumerate(("a", "b", "c")):
        events += invocation(rid, t0=T0 + i * 1000, calls=[("sqs.SendMessage", 1, 2)],
                             extra=[error(None, "KeyError", f"in {rid}")], record=True)
    invs, joiner = join(reversed(events))
    assert set(invs) == {"a", "b", "c"}
    for rid in ("a", "b", "c"):
        inv = invs[rid]
        assert inv.has_start and inv.has_end and inv.report is not None and inv.record is not None
        assert [e["message"] for e in inv.errors] == [f"in {rid}"]
    assert joiner.stats.unattributed == 0


def test_newest_first_without_timestamps_still_attributes_raw_lines() -> None:
    """Without envelope timestamps the order of START and END alone tells the direction."""
    events = []
    for rid in ("a", "b"):
        events += invocation(rid, extra=[error(None, "KeyError", f"in {rid}")])
    for e in events:
        e["timestamp_ms"] = None
    invs, joiner = join(reversed(events))
    assert [e["message"] for e in invs["a"].errors] == ["in a"]
    assert [e["message"] for e in invs["b"].errors] == ["in b"]
    assert joiner.stats.unattributed == 0


def test_missing_start_or_end_still_makes_an_invocation() -> None:
    """An invocation cut off at either end is still joined from what is there."""
    no_start = [e for e in invocation("a", t0=T0) if e["type"] != "start"]
    no_end = [e for e in invocation("b", t0=T0 + 1000) if e["type"] != "end"]
    report_only = [e for e in invocation("c", t0=T0 + 2000) if e["type"] == "report"]
    invs, _ = join(no_start + no_end + report_only)
    assert set(invs) == {"a", "b", "c"}
    assert not invs["a"].has_start and invs["a"].report is not None
    assert not invs["b"].has_end and invs["b"].report is not None
    assert invs["c"].report is not None


def test_missing_start_in_newest_first_copy_completes_when_the_stream_moves_on() -> None:
    """Without a START, a reversed invocation ends when its stream shows an earlier request."""
    newer = [e for e in invocation("b", t0=T0 + 1000) if e["type"] != "start"]
    older = invocation("a", t0=T0)
    invs, _joiner = join(list(reversed(older + newer)), grace_events=3)
    assert set(invs) == {"a", "b"}
    assert invs["b"].report is not None and not invs["b"].has_start


def test_task_timed_out_after_report_joins_its_invocation() -> None:
    """``Task timed out`` written after REPORT marks that invocation as timed out."""
    events = invocation("a", duration=3000, timeout_s=3.0) + invocation("b", t0=T0 + 5000)
    invs, _ = join(events)
    assert invs["a"].timed_out and invs["a"].timeout_seconds == 3.0
    assert not invs["b"].timed_out


def test_timeout_line_without_request_id_belongs_to_the_invocation_before_it() -> None:
    """A bare ``Task timed out`` line attaches backwards in time, in both copy orders."""
    bare = make_event("timeout", timestamp_ms=T0 + 3000, log_stream=STREAM, seconds=3.0)
    events = [*invocation("a", duration=3000), bare, *invocation("b", t0=T0 + 5000)]
    for order in (events, list(reversed(events))):
        invs, _ = join(order)
        assert invs["a"].timed_out, order is events
        assert not invs["b"].timed_out


def test_raw_lines_between_invocations_are_not_attributed() -> None:
    """A raw line after REPORT and before the next START belongs to no invocation."""
    stray = error(None, "Warning", "between")
    events = [*invocation("a"), stray, *invocation("b", t0=T0 + 1000)]
    invs, joiner = join(events)
    assert not invs["a"].errors and not invs["b"].errors
    assert joiner.stats.unattributed == 1
    assert joiner.take_orphans() == [stray]


def test_init_phase_lines_before_the_first_start_are_orphans() -> None:
    """Output before the stream's first START (init) is left for the caller, not guessed."""
    init_error = error(None, "Runtime.ImportModuleError", "no module named x")
    invs, joiner = join([init_error, *invocation("a")])
    assert not invs["a"].errors
    assert joiner.take_orphans() == [init_error]


def test_open_invocations_are_capped_by_evicting_the_least_recent() -> None:
    """With more concurrent requests than ``max_open``, the oldest are finalised early."""
    starts = [make_event("start", request_id=f"r{i}", timestamp_ms=T0 + i, log_stream=f"s{i}")
              for i in range(100)]
    joiner = Joiner(max_open=10)
    finished: list[Invocation] = []
    for event in starts:
        finished.extend(joiner.add(event))
        assert joiner.open_count <= 10
    assert joiner.stats.evicted == 90
    assert [inv.request_id for inv in finished[:3]] == ["r0", "r1", "r2"]
    assert len(finished) + len(joiner.flush()) == 100


def test_complete_invocation_waits_a_grace_window_then_is_finalised() -> None:
    """After REPORT an invocation stays open for ``grace_events`` events, then is handed out."""
    joiner = Joiner(grace_events=5)
    done: list[Invocation] = []
    for event in invocation("a"):
        done.extend(joiner.add(event))
    assert done == [] and joiner.open_count == 1
    late = make_event("timeout", request_id="a", timestamp_ms=T0 + 200, log_stream=STREAM,
                      seconds=3.0)
    done.extend(joiner.add(late))  # within the grace window: still joins
    filler = [make_event("emf", timestamp_ms=T0 + 300) for _ in range(5)]
    for event in filler:
        done.extend(joiner.add(event))
    assert [inv.request_id for inv in done] == ["a"] and done[0].timed_out
    assert joiner.open_count == 0
    joiner.add(make_event("timeout", request_id="a", timestamp_ms=T0 + 400, log_stream=STREAM))
    assert joiner.stats.late == 1 and joiner.open_count == 0


def test_repeated_platform_lines_are_counted_once() -> None:
    """Console copies that show REPORT twice do not make two reports or two invocations."""
    events = invocation("a")
    events.append(dict(events[-1]))
    invs, joiner = join(events)
    assert len(invs) == 1 and joiner.stats.duplicates == 1


def test_events_without_stream_names_join_as_one_stream() -> None:
    """A plain copy without stream names still joins and attributes raw lines."""
    events = invocation("a", stream=None, extra=[error(None, "KeyError", "x", stream=None)])
    invs, _ = join(events)
    assert [e["message"] for e in invs["a"].errors] == ["x"]


def test_denied_call_record_counts_as_one_access_denied_with_the_log_line() -> None:
    """A permission_denied call record and the AccessDenied log line of the same call merge."""
    denied_call = call("a", "dynamodb.GetItem", 1, 5, status="error",
                       error_class="permission_denied", error_code="AccessDeniedException",
                       action="dynamodb:GetItem", resource="arn:aws:dynamodb:us-east-1:1:table/t")
    line = make_event("access_denied", request_id="a", log_stream=STREAM,
                      code="AccessDeniedException", principal="arn:aws:sts::1:assumed-role/r/f",
                      action="dynamodb:GetItem", resource="arn:aws:dynamodb:us-east-1:1:table/t")
    invs, _ = join(invocation("a", extra=[denied_call, line]))
    assert [(d["action"], d["principal"]) for d in invs["a"].access_denied] == [
        ("dynamodb:GetItem", "arn:aws:sts::1:assumed-role/r/f")
    ]


def test_bare_s3_access_denied_line_merges_with_the_call_record_naming_the_action() -> None:
    """S3's "Access Denied" line (operation only) and @trace's record (IAM action): one denial."""
    denied_call = call("a", "s3.PutObject", 1, 5, status="error",
                       error_class="permission_denied", error_code="AccessDenied",
                       action="s3:PutObject", service="s3", operation="PutObject",
                       target="receipts-archive")
    line = make_event("access_denied", request_id="a", log_stream=STREAM, code="AccessDenied",
                      action=None, operation="PutObject",
                      message="An error occurred (AccessDenied) when calling the PutObject "
                      "operation: Access Denied")
    invs, _ = join(invocation("a", extra=[line, denied_call]))
    [denied] = invs["a"].access_denied
    assert (denied["action"], denied["operation"], denied["code"]) == (
        "s3:PutObject", "PutObject", "AccessDenied")
    # the bucket from the record scopes the resource; object keys are never recorded
    assert denied["resource"] == "arn:aws:s3:::receipts-archive/*"
    assert denied["message"].startswith("An error occurred (AccessDenied)")


def test_denials_of_different_operations_stay_apart() -> None:
    """A bare GetObject denial is not merged into a recorded s3:PutObject denial."""
    denied_call = call("a", "s3.PutObject", 1, 5, status="error",
                       error_class="permission_denied", action="s3:PutObject")
    line = make_event("access_denied", request_id="a", log_stream=STREAM, code="AccessDenied",
                      action=None, operation="GetObject")
    invs, _ = join(invocation("a", extra=[denied_call, line]))
    assert sorted(str(d["action"]) for d in invs["a"].access_denied) == ["None", "s3:PutObject"]


def test_call_list_is_capped_but_totals_are_not() -> None:
    """Only ``max_calls_kept`` calls are kept; the rest are tallied and passed to the call sink."""
    calls = [("dynamodb.GetItem", float(i), 1.0) for i in range(50)]
    overflow: list[Event] = []
    joiner = Joiner(max_calls_kept=10, call_sink=overflow.append)
    for event in invocation("a", calls=calls):
        joiner.add(event)
    [inv] = joiner.flush()
    assert len(inv.calls) == 10 and inv.calls_dropped == 40
    assert inv.call_totals()["dynamodb.GetItem"].count == 50
    assert [e["start_ms"] for e in overflow] == [float(i) for i in range(10, 50)]


def test_consume_hands_over_invocations_orphans_and_environment_events_as_they_come() -> None:
    """``consume`` gives each invocation to ``finalised`` once, events no window takes to
    ``orphaned``, INIT events to ``environment``, and counts every event by type."""
    init = make_event("init_start", request_id=None, timestamp_ms=T0 - 5, log_stream=STREAM)
    stray = error(None, "KeyError", "before any START", ts=T0 - 1)
    events = [init, stray, *invocation("a", calls=[("s3.GetObject", 1.0, 2.0)] * 3),
              *invocation("b", t0=T0 + 200)]
    joiner = Joiner()
    done: list[Invocation] = []
    orphans: list[Event] = []
    environment: list[Event] = []
    joiner.consume(events, done.append, orphaned=orphans.append, environment=environment.append)
    done.extend(joiner.flush())
    assert sorted(inv.request_id for inv in done) == ["a", "b"]
    assert len(next(inv for inv in done if inv.request_id == "a").calls) == 3
    assert orphans == [stray] and joiner.orphans == []
    assert environment == [init]
    assert joiner.events_by_type == {"init_start": 1, "error": 1, "start": 2, "call": 3,
                                     "end": 2, "report": 2}
    assert joiner.stats.events == len(events)


def test_consume_and_add_join_alike() -> None:
    """Feeding events one by one through ``add`` and all at once through ``consume`` give the
    same invocations in the same order."""
    events = []
    for i in range(30):
        events += invocation(f"r{i}", t0=T0 + 100 * i, calls=[("s3.GetObject", 1.0, 2.0)] * 4,
                             record=True)
    one_by_one, _ = join(events, grace_events=5, max_open=3)
    at_once: list[Invocation] = []
    joiner = Joiner(grace_events=5, max_open=3)
    joiner.consume(events, at_once.append)
    at_once.extend(joiner.flush())
    assert [inv.request_id for inv in at_once] == list(one_by_one)
    assert [inv.calls for inv in at_once] == [inv.calls for inv in one_by_one.values()]
