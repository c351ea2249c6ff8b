"""The shared argument types: what they accept, and the one message each refusal prints."""

from __future__ import annotations

import argparse

import pytest

from lambda_trace.cli import argtypes
from lambda_trace.errors import CliError


def refusal(parse: object, text: str) -> str:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(text)  # type: ignore[operator]
    return str(info.value)


def test_rates_take_fractions_and_percentages() -> None:
    assert argtypes.rate("0.05") == 0.05
    assert argtypes.rate("5%") == pytest.approx(0.05)
    assert argtypes.rate("100%") == 1.0
    assert refusal(argtypes.rate, "1.5") == "a rate is between 0 and 1 (or 0% and 100%): '1.5'"
    assert refusal(argtypes.rate, "lots") == "not a rate: 'lots' (use 0.05 or 5%)"


def test_counts_and_numbers() -> None:
    assert argtypes.positive_int("3") == 3
    assert refusal(argtypes.positive_int, "0") == "must be 1 or more: '0'"
    assert refusal(argtypes.positive_int, "2.5") == "not a whole number: '2.5'"
    assert argtypes.count("7") == 7
    assert refusal(argtypes.count, "0") == "must be at least 1"
    assert argtypes.non_negative("0") == 0.0
    assert refusal(argtypes.non_negative, "nan") == "must be 0 or more: 'nan'"
    assert argtypes.seconds("0.5") == 0.5
    assert refusal(argtypes.seconds, "inf") == "must be more than 0: 'inf'"
    assert refusal(argtypes.seconds, "0") == "must be more than 0: '0'"


def test_sizes_are_bytes_and_a_bad_one_is_a_cli_error() -> None:
    assert argtypes.size("8G") == 8 * 1024**3
    assert argtypes.size("1.5GiB") == int(1.5 * 1024**3)
    with pytest.raises(CliError, match="cannot read size 'lots'"):
        argtypes.size("lots")


def test_name_lists_keep_order_and_name_the_unknown() -> None:
    kinds = argtypes.finding_kinds(("timeout", "code_error"))
    assert kinds("code_error, timeout") == ("code_error", "timeout")
    assert kinds("any") == ("any",)
    assert refusal(kinds, "timeouts") == (
        "unknown finding kind 'timeouts'; choose from any, timeout, code_error")
    types = argtypes.event_types(frozenset({"start", "report"}))
    assert types("report,start") == {"report", "start"}
    assert refusal(types, "reprot") == "unknown event type reprot (known: report, start)"
