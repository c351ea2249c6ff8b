"""``jsondepth``: a JSON text nested deeper than the limit is malformed, before it is decoded."""

from __future__ import annotations

import json

import pytest

from lambda_trace.analyzer.jsondepth import MAX_JSON_DEPTH, TooDeep, check_depth, too_deep


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_the_limit_itself_passes_and_one_more_level_does_not() -> None:
    assert not too_deep(nested(MAX_JSON_DEPTH))
    assert too_deep(nested(MAX_JSON_DEPTH + 1))
    assert too_deep('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1))


def test_bytes_are_judged_like_text() -> None:
    assert too_deep(nested(MAX_JSON_DEPTH + 1).encode())
    assert too_deep(bytearray(nested(MAX_JSON_DEPTH + 1).encode()))
    assert not too_deep(nested(MAX_JSON_DEPTH).encode())


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"message": "[" * 500 + "{" * 500})
    assert not too_deep(text)
    # An escaped quote does not end the string early and let its brackets count.
    assert not too_deep(json.dumps({"m": '\\"' + "[" * 500}))


def test_many_brackets_side_by_side_are_not_depth() -> None:
    wide = "[" + ",".join(["[]"] * 1000) + "]"
    assert not too_deep(wide)
    assert json.loads(wide)  # the decoder agrees it is fine


def test_unbalanced_closers_do_not_hide_a_deep_value() -> None:
    assert too_deep("]]]]" + nested(MAX_JSON_DEPTH + 1))


def test_a_smaller_limit_is_honoured() -> None:
    assert too_deep(nested(3), limit=2)
    assert not too_deep(nested(2), limit=2)


@pytest.mark.parametrize("value", [None, 12, 3.5, ["[" * 100], {"[": 1}])
def test_what_is_not_text_is_never_too_deep(value: object) -> None:
    assert not too_deep(value)


def test_check_depth_raises_a_value_error_as_decoders_do() -> None:
    check_depth(nested(MAX_JSON_DEPTH))
    with pytest.raises(TooDeep, match=str(MAX_JSON_DEPTH)):
        check_depth(nested(1000))
    with pytest.raises(ValueError):
        check_depth(nested(1000).encode())


def test_a_value_the_limit_lets_through_decodes() -> None:
    """The limit sits well below where the stdlib decoder fails, so what passes decodes."""
    text = '{"a":' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH
    assert not too_deep(text)
    value = json.loads(text)
    for _ in range(MAX_JSON_DEPTH):
        value = value["a"]
    assert value == 1
