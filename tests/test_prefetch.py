"""Slices of a window read at once and handed on in order (lambda_trace.analyzer.prefetch)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambda_trace.analyzer.prefetch import PAGES_AHEAD, in_order, time_slices


@given(st.integers(0, 10**13), st.integers(0, 10**7), st.integers(1, 8))
def test_slices_cover_the_window_once_with_both_ends_included(start, length, count):
    end = start + length
    slices = time_slices(start, end, count)
    assert slices[0][0] == start and slices[-1][1] == end
    for (a, b), (c, _) in zip(slices, slices[1:]):
        assert a <= b and c == b + 1  # FilterLogEvents includes both ends: no overlap, no gap
    assert len(slices) in (1, count)


def test_items_come_in_fetcher_order_while_all_fetchers_run_at_once():
    started: list[int] = []

    def fetcher(n: int):
        def fetch() -> Iterator[int]:
            started.append(n)
            if n == 0:  # the first slice waits until every other slice has started
                deadline = time.monotonic() + 5
                while len(started) < 4:
                    assert time.monotonic() < deadline, "the later slices did not start"
                    time.sleep(0.01)
            for i in range(3):
                yield n * 10 + i
        return fetch

    assert list(in_order([fetcher(n) for n in range(4)])) == [
        0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32
    ]


def test_a_later_slices_error_is_raised_after_the_earlier_slices():
    def good() -> Iterator[str]:
        yield "a"

    def bad() -> Iterator[str]:
        raise RuntimeError("denied")
        yield "never"

    seen = []
    with pytest.raises(RuntimeError, match="denied"):
        for item in in_order([good, bad, good]):
            seen.append(item)
    assert seen == ["a"]


def test_closing_early_stops_the_fetchers():
    produced = []

    def endless(n: int):
        def fetch() -> Iterator[int]:
            while True:
                produced.append(n)
                yield n
        return fetch

    items = in_order([endless(0), endless(1)])
    assert [next(items) for _ in range(5)] == [0] * 5
    items.close()  # joins the fetcher threads: they notice at their next page
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count
    assert produced.count(1) <= PAGES_AHEAD + 1  # the later slice ran ahead by a bounded amount
