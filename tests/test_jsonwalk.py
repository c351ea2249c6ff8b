"""A JSON value over many lines is read element by element, and given back if it is not JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_trace.analyzer.envelopes import is_event_like
from lambda_trace.analyzer.jsonwalk import Document, Element, JsonWalker, NotJson


class Lines:
    """Hands out lines one by one and counts how many were taken."""

    def __init__(self, lines: list[str]) -> None:
        self._it: Iterator[str] = iter(lines)
        self.pulled = 0

    def __call__(self) -> Any:
        line = next(self._it, None)
        if line is not None:
            self.pulled += 1
        return line


def walk(text: str) -> tuple[list[Any], JsonWalker, Lines]:
    lines = text.split("\n")
    source = Lines(lines[1:])
    walker = JsonWalker(lines[0], source, is_event_like)
    return list(walker.walk()), walker, source


def test_events_of_a_pretty_document_come_one_by_one_then_the_rest_of_it() -> None:
    """Each event element is handed on; the document keeps only its other keys."""
    doc = {
        "events": [{"timestamp": i, "message": f"m{i}\n", "ingestionTime": 9} for i in range(3)],
        "nextForwardToken": "f/1",
    }
    items, _, _ = walk(json.dumps(doc, indent=4))
    assert [(type(i).__name__, i.value if isinstance(i, Element) else None) for i in items[:3]] == [
        ("Element", doc["events"][i])
        for i in range(3)  # type: ignore[index]
    ]
    assert items[-1] == Document({"events": [], "nextForwardToken": "f/1"}, 3)


def test_a_large_document_is_streamed_not_read_whole() -> None:
    """The first event arrives after reading a small part of a 20,000-event document."""
    doc = {"events": [{"timestamp": i, "message": f"message number {i}\n"} for i in range(20_000)]}
    lines = json.dumps(doc, indent=4).split("\n")
    source = Lines(lines[1:])
    walker = JsonWalker(lines[0], source, is_event_like)
    first = next(iter(walker.walk()))
    assert isinstance(first, Element) and first.value["timestamp"] == 0
    assert source.pulled < len(lines) // 20


def test_scalars_before_an_array_are_passed_with_each_element() -> None:
    """A subscription payload's logGroup/logStream come before logEvents and go with them."""
    doc = {
        "messageType": "DATA_MESSAGE",
        "logGroup": "/g",
        "logStream": "s",
        "logEvents": [{"id": "1", "timestamp": 1, "message": "x"}],
    }
    items, _, _ = walk(json.dumps(doc, indent=2))
    assert items[0].scalars == {"messageType": "DATA_MESSAGE", "logGroup": "/g", "logStream": "s"}


def test_text_after_the_value_is_returned() -> None:
    """Whatever follows the closing bracket (another document, plain lines) is kept in `rest`."""
    items, walker, _ = walk('{\n  "a": 1\n} {"b": 2}\nSTART RequestId: x\n')
    assert items == [Document({"a": 1}, 0)]
    assert walker.rest.startswith(' {"b": 2}\n')


def test_a_top_level_array_streams_its_events_and_keeps_the_rest() -> None:
    """An Insights JSON export is an array of rows; a non-event array comes back whole."""
    rows = [{"@timestamp": "2023-10-20 16:27:46.827", "@message": "START\n"}]
    items, _, _ = walk(json.dumps(rows, indent=4))
    assert isinstance(items[0], Element) and items[-1] == Document([], 1)
    items, _, _ = walk(json.dumps([{"time": "t", "type": "platform.start"}], indent=4))
    assert items == [Document([{"time": "t", "type": "platform.start"}], 0)]


def test_text_that_only_starts_like_json_is_given_back_whole() -> None:
    """A `{` line followed by log text is not JSON: every line read comes back, the first first."""
    with pytest.raises(NotJson) as info:
        walk("{\nSTART RequestId: a Version: $LATEST\nEND RequestId: a")
    assert not info.value.committed
    assert info.value.lines[:3] == ["{", "START RequestId: a Version: $LATEST", "END RequestId: a"]


def test_a_cut_json_line_fails_without_reading_further() -> None:
    """A string cut at the line end cannot continue on the next line: nothing more is pulled."""
    with pytest.raises(NotJson) as info:
        walk('{"_aws": {"Timestamp": 1, "Metrics": [{"Name": "Bil\nSTART RequestId: a')
    assert info.value.lines[0].startswith('{"_aws"')


def test_a_document_broken_after_events_gives_back_only_from_the_break() -> None:
    """Events already handed on are not repeated; reading resumes at the line that broke."""
    text = (
        '{\n"events": [\n{"timestamp": 1, "message": "a"},\n'
        '{"timestamp": 2, "mess\nplain line after\n'
    )
    lines = text.split("\n")
    walker = JsonWalker(lines[0], Lines(lines[1:]), is_event_like)
    got = []
    with pytest.raises(NotJson) as info:
        for item in walker.walk():
            got.append(item)
    assert [i.value["message"] for i in got] == ["a"]
    assert info.value.committed
    assert info.value.lines[0] == '{"timestamp": 2, "mess'
    assert "plain line after" in info.value.lines


def test_the_input_ending_inside_a_value_is_not_json() -> None:
    """A document cut by the end of the input is reported, not waited for."""
    with pytest.raises(NotJson):
        walk('{\n  "events": [\n    {"timestamp": 1,')
