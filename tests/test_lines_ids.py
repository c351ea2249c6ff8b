"""``lines.ids``: request ids and the number fields every line builder reads (formats.md §1.1)."""

from __future__ import annotations

import math
from typing import Any, Optional

import pytest

from lambda_trace.analyzer.lines.ids import (
    LINE_BREAK,
    as_number,
    as_status,
    as_whole,
    clean_id,
    id_before,
    name_list,
)

RID = "8f5b6c1e-6d4a-4c4e-9d8e-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (RID, RID),
        (f" {RID},", RID),  # the comma and blanks a copy leaves
        ("undefined", None),  # Node's console before the first invocation
        ("RequestId:", None),  # a copy that deleted the id
        ("", None),
        (None, None),
        (" \t, ", None),
    ],
)
def test_clean_id(token: Optional[str], expected: Optional[str]) -> None:
    assert clean_id(token) == expected


def test_a_labelled_id_before_the_position_is_found() -> None:
    text = f"START RequestId: {RID} Version: $LATEST"
    assert id_before(text, len(text)) == RID
    assert id_before("END RequestId:\t" + RID, 100) == RID


def test_a_bare_id_at_the_start_of_a_line_is_found() -> None:
    text = f"2026-11-27T04:43:42.123Z\t{RID}\tERROR\tboom"
    assert id_before(text, text.index("ERROR")) == RID
    # The docs redact parts of their ids with "xmpl"; copies shorten hex ids.
    assert id_before("8f5b6c1e-xmpl-4c4e-9d8e-0a1b2c3d4e5f boom", 40) == (
        "8f5b6c1e-xmpl-4c4e-9d8e-0a1b2c3d4e5f")
    assert id_before("0a1b2c3d4e5f6a7b ERROR", 16) == "0a1b2c3d4e5f6a7b"


def test_only_what_comes_before_the_position_counts() -> None:
    text = f"ERROR boom RequestId: {RID}"
    assert id_before(text, text.index("RequestId")) is None
    assert id_before(text, len(text)) == RID


def test_an_id_inside_a_longer_word_is_not_an_id() -> None:
    assert id_before(f"{RID}-suffix", 60) is None


def test_line_breaks_of_every_kind() -> None:
    assert LINE_BREAK.split("a\r\nb\rc\nd") == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("text", "number"),
    [("12.5", 12.5), ("3", 3.0), (7, 7.0), (" 4 ", 4.0), ("1e3", 1000.0), ("x", None),
     ("", None), (None, None), ([], None), ("nan", None), ("inf", None), (math.inf, None)],
)
def test_as_number_is_finite_or_none(text: Any, number: Optional[float]) -> None:
    assert as_number(text) == number


@pytest.mark.parametrize(
    ("text", "whole"),
    [("128", 128), (128, 128), ("127.9", 127), ("1e2", 100), ("x", None), (None, None),
     ("nan", None)],
)
def test_as_whole(text: Any, whole: Optional[int]) -> None:
    assert as_whole(text) == whole


@pytest.mark.parametrize(
    ("value", "status"),
    [("success", "success"), ("Timeout", "timeout"), ("ERROR", "error"),
     ("failure", "error"),  # Telemetry API's word for an error
     ("anything else", "error"), ("", None), (None, None), (3, None)],
)
def test_as_status(value: Any, status: Optional[str]) -> None:
    assert as_status(value) == status


def test_name_list() -> None:
    assert name_list("a, b,,c ,") == ["a", "b", "c"]
    assert name_list("") == [] and name_list(None) == []
