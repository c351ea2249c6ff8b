"""The one reading of numbers in log records (lambda_trace.analyzer.numbers)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambda_trace.analyzer.numbers import as_float, json_number


@pytest.mark.parametrize(
    ("value", "tolerant", "strict"),
    [
        (12, 12.0, 12.0),
        (12.5, 12.5, 12.5),
        ("12.5", 12.5, None),  # numeric text: a number to the tolerant reading only
        (" 7 ", 7.0, None),
        ("fast", None, None),
        (True, None, None),  # a bool is an int in Python, never a duration
        (None, None, None),
        (float("nan"), None, None),  # json.loads reads NaN and Infinity
        (float("inf"), None, None),
        ("Infinity", None, None),
        ([1], None, None),
        ({"ms": 1}, None, None),
        (10**400, None, None),  # json.loads reads a 400-digit integer as an int
    ],
)
def test_what_counts_as_a_number(value, tolerant, strict):
    assert as_float(value) == tolerant
    assert json_number(value) == strict


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)))
def test_any_decoded_json_value_gives_a_finite_float_or_none(value):
    for reading in (as_float, json_number):
        out = reading(value)
        assert out is None or (type(out) is float and math.isfinite(out))


def test_nan_written_by_a_producer_is_not_a_number():
    record = json.loads('{"duration_ms": NaN, "max_ms": Infinity, "n": 3}')
    assert [as_float(record[k]) for k in ("duration_ms", "max_ms", "n")] == [None, None, 3.0]
