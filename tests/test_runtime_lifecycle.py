"""The end of an invocation: record and EMF lines, joined in one write where the sink allows."""

from __future__ import annotations

import json
import os

from lambda_trace import _invocation, trace
from lambda_trace._contract import MARKER
from lambda_trace.sinks import LINES_ATTR, fd_sink
from lambda_trace.testing import FakeContext


class JoiningSink:
    """A sink that also offers ``write_lines``, remembering how each line arrived."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, line: str) -> None:
        self.calls.append([line])

    def write_lines(self, lines: list[str]) -> None:
        self.calls.append(list(lines))


def _kinds(lines: list[str]) -> list[str]:
    return ["emf" if "_aws" in json.loads(line) else json.loads(line)["type"] for line in lines]


def test_warm_invocation_writes_record_and_emf_in_one_call(monkeypatch):
    """A warm invocation hands its record then its EMF document to ``write_lines`` together."""
    assert LINES_ATTR == "write_lines"
    sink = JoiningSink()
    handler = trace(sink=sink)(lambda event, context: None)
    handler({}, FakeContext())
    sink.calls.clear()
    monkeypatch.setattr(_invocation, "_cold", [])  # warm, whatever ran before in this process
    handler({}, FakeContext())
    assert [_kinds(call) for call in sink.calls] == [["invocation", "emf"]]


def test_cold_invocation_writes_its_record_before_building_metrics(monkeypatch):
    """The first invocation's record goes out alone, before the first flush imports Powertools."""
    sink = JoiningSink()
    monkeypatch.setattr(_invocation, "_cold", [True])
    trace(sink=sink)(lambda event, context: None)({}, FakeContext())
    assert [_kinds(call) for call in sink.calls] == [["invocation"], ["emf"]]


def test_metrics_off_writes_the_record_alone():
    """Without metrics the record is written through the plain sink call."""
    sink = JoiningSink()
    handler = trace(sink=sink, metrics=False)(lambda event, context: None)
    handler({}, FakeContext())
    handler({}, FakeContext())
    assert [_kinds(call) for call in sink.calls][-1] == ["invocation"]


def test_joined_lines_arrive_whole_through_a_pipe():
    """Through an fd sink the warm record and its EMF document are two complete JSON lines."""
    read_fd, write_fd = os.pipe()
    try:
        handler = trace(sink=fd_sink(write_fd))(lambda event, context: None)
        handler({}, FakeContext(function_name="orders"))
        handler({}, FakeContext(function_name="orders"))
        os.close(write_fd)
        lines = os.read(read_fd, 1 << 20).decode().splitlines()
    finally:
        os.close(read_fd)
    records = [json.loads(line) for line in lines]
    assert [r.get("type") for r in records if MARKER in r] == ["invocation", "invocation"]
    docs = [r for r in records if "_aws" in r]
    assert len(docs) == 2 and all(d["service"] == "orders" for d in docs)
