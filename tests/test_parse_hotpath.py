"""The parse loop's inlined lines (``Parser.iter_events``) against ``Parser.parse`` line by line.

``iter_events`` handles the commonest lines itself and keeps their line counts in locals; the
public ``parse`` handles every line through the one-line API. On the real log text of
``tests/data/corpus`` and ``tests/data/field`` both must give the same events, in the same order,
and the same counts, fed as a plain copy (no envelope: open events wait for their next line) and
as CloudWatch events (a timestamp and a log stream on each).
"""

from __future__ import annotations

import gc
import itertools
import json
from pathlib import Path

import pytest
from testdata import CORPUS, DATA, corpus_files

from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser, iso_to_ms
from lambda_trace.analyzer.redaction import redact_event
from lambda_trace.analyzer.stackdump import merge_stack_dumps

FIELD = DATA / "field"
FILES = [p for p in corpus_files() if p.suffix in (".log", ".jsonl")] + sorted(
    p for p in FIELD.glob("*.log")
)


def _lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _log_events(path: Path, envelope: bool) -> list[LogEvent]:
    if not envelope:
        return [LogEvent(line) for line in _lines(path)]
    stream = "2026/11/27/[$LATEST]0123456789abcdef"
    return [LogEvent(line, 1_795_737_600_000 + i, stream, "/aws/lambda/f")
            for i, line in enumerate(_lines(path))]


def _line_by_line(log_events: list[LogEvent]) -> tuple[list[Event], Parser]:
    parser = Parser()
    events: list[Event] = []
    for log_event in merge_stack_dumps(log_events):
        events.extend(parser.parse(log_event))
    events.extend(parser.finish())
    return [redact_event(e) for e in events], parser


@pytest.mark.parametrize("envelope", [False, True], ids=["copy", "cloudwatch"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_iter_events_agrees_with_parse_line_by_line(path: Path, envelope: bool) -> None:
    fast = Parser()
    fast_events = list(fast.iter_events(_log_events(path, envelope)))
    slow_events, slow = _line_by_line(_log_events(path, envelope))
    assert fast_events == slow_events
    assert fast.stats == slow.stats
    assert fast.stats.lines > 0


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 15 and (CORPUS / "report_text.log") in FILES


def test_counts_are_written_when_the_reader_stops_early() -> None:
    # START/END lines are counted in locals; a consumer that stops still sees them counted.
    lines = [line for line in _lines(CORPUS / "report_text.log") if line.startswith("START ")]
    assert len(lines) >= 2
    parser = Parser()
    events = parser.iter_events(LogEvent(line) for line in lines)
    taken = list(itertools.islice(events, 2))
    del events  # the consumer is gone: the loop's generator is closed
    gc.collect()
    assert [e["type"] for e in taken] == ["start", "start"]
    assert parser.stats.lines == parser.stats.recognised >= 2
    assert parser.stats.events == {"start": parser.stats.lines}


def test_record_timestamps_in_one_second_match_iso_to_ms() -> None:
    # The loop reads iso_to_ms's memo of the last second inline; a record stamped in another
    # spelling of the same second ("," and a space, which the memo also learns) must agree.
    stamps = ["2026-11-27 00:00:01,250Z", "2026-11-27T00:00:01.999Z", "2026-11-27T00:00:01.001Z",
              "2026-11-27T00:00:02.000Z", "2026-11-27T00:00:02.5Z"]
    lines = [json.dumps({"lambda_trace": 1, "type": "call", "request_id": "r", "timestamp": stamp,
                         "name": "n"}) for stamp in stamps]
    events = list(Parser().iter_events(LogEvent(line) for line in lines))
    assert [e["timestamp_ms"] for e in events] == [iso_to_ms(s) for s in stamps]
    assert events[1]["timestamp_ms"] - events[0]["timestamp_ms"] == 749


def test_an_inlined_line_between_an_error_name_and_a_frame_keeps_them_apart() -> None:
    # "<Name>: <message>" then a stack frame on the very next line is a Node.js error (the rule
    # reads the line number); with a START line between them (counted in the loop's locals)
    # the two are not adjacent, exactly as parse() line by line sees it.
    lines = _lines(CORPUS / "access_denied.log")
    name = next(i for i, line in enumerate(lines) if line.startswith("AccessDenied: User: "))
    start = _lines(CORPUS / "report_text.log")[0]
    assert start.startswith("START RequestId:") and lines[name + 1].startswith("    at ")
    adjacent = [LogEvent(lines[name]), LogEvent(lines[name + 1])]
    apart = [LogEvent(lines[name]), LogEvent(start), LogEvent(lines[name + 1])]
    for log_events in (adjacent, apart):
        fast = Parser()
        assert list(fast.iter_events(log_events)) == _line_by_line(log_events)[0]
    assert any(e["type"] == "error" for e in Parser().iter_events(adjacent))
    assert not any(e["type"] == "error" for e in Parser().iter_events(apart))


_COUNTED_KEYS = {"type", "request_id", "timestamp_ms", "log_stream"}


@pytest.mark.parametrize("envelope", [False, True], ids=["copy", "cloudwatch"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_counted_emf_differs_only_in_the_emf_events_detail(path: Path, envelope: bool) -> None:
    """``Parser(emf_detail=False)`` (what ``analyze`` uses): same events, same counts; an EMF
    document keeps only its type, time and stream."""
    full = Parser()
    full_events = list(full.iter_events(_log_events(path, envelope)))
    counted = Parser(emf_detail=False)
    counted_events = list(counted.iter_events(_log_events(path, envelope)))
    assert counted.stats == full.stats
    assert len(counted_events) == len(full_events)
    for short, whole in zip(counted_events, full_events):
        if whole["type"] == "emf" and not whole.get("truncated") and short.keys() == _COUNTED_KEYS:
            assert short == {"type": "emf", "request_id": None,
                             "timestamp_ms": whole["timestamp_ms"],
                             "log_stream": whole["log_stream"]}
        else:
            assert short == whole


def test_counted_emf_on_a_document() -> None:
    line = ('{"_aws":{"Timestamp":1795737600673,"CloudWatchMetrics":[{"Namespace":"N",'
            '"Dimensions":[["service"]],"Metrics":[{"Name":"Duration"}]}]},'
            '"service":"orders","Duration":4.5}')
    [whole] = Parser().iter_events([LogEvent(line)])
    [short] = Parser(emf_detail=False).iter_events([LogEvent(line)])
    assert whole["namespace"] == "N" and whole["values"] == {"Duration": 4.5}
    assert short == {"type": "emf", "request_id": None, "timestamp_ms": 1795737600673,
                     "log_stream": None}
