"""Line encoding: timestamps, numbers and strings the hot path writes."""

from __future__ import annotations

import json
import time

from lambda_trace import _encode
from lambda_trace.schema import format_timestamp


def test_timestamp_matches_the_schema_format():
    for epoch_ns in (0, 1_795_755_324_373_000_000, time.time_ns()):
        assert _encode.timestamp(epoch_ns) == format_timestamp(epoch_ns // 1_000_000 / 1000)


def test_timestamp_cache_follows_the_second():
    a = _encode.timestamp(1_000_000_000_999_000_000)
    b = _encode.timestamp(1_000_000_001_000_000_000)
    assert a.endswith(":40.999Z") and b.endswith(":41.000Z")


def test_jstr_escapes_to_ascii_json():
    text = 'quote " backslash \\ newline \n unicode é'
    encoded = _encode.jstr(text)
    assert encoded.isascii() and json.loads(encoded) == text


def test_ms_has_microsecond_resolution_and_exact_text():
    """Nanoseconds become milliseconds with three decimals whose JSON text is exact."""
    assert _encode.ms(1_234_567) == 1.234
    assert json.dumps(_encode.ms(38_579_999)) == "38.579"
    assert _encode.ms(0) == 0.0


def test_stdlib_path_drops_non_finite_numbers_and_stringifies_objects():
    """Without orjson (the usual case on Lambda) the output is the same JSON."""
    obj = {"a": float("nan"), "b": [float("-inf"), 1.5], "c": object.__name__}
    assert json.loads(_encode._json_dumps(obj)) == {"a": None, "b": [None, 1.5], "c": "object"}
    assert json.loads(_encode.dumps(obj)) == json.loads(_encode._json_dumps(obj))


def test_fits_counts_bytes_not_characters():
    assert _encode.fits("x" * 1000)
    assert not _encode.fits("é" * (200 * 1024))  # 200 K characters, 400 KB


def test_orjson_is_used_only_when_already_imported():
    """With orjson loaded by the function, the same JSON comes out (non-finite as null)."""
    import pytest

    pytest.importorskip("orjson")
    obj = {"a": float("nan"), "b": [1.5, "é"], "c": object.__name__}
    assert json.loads(_encode.dumps(obj)) == {"a": None, "b": [1.5, "é"], "c": "object"}


def test_ms_text_is_the_json_number_of_milliseconds():
    for ns in (0, 999, 1_000, 5_000_000, 8_472_123, 12_345_678_901):
        text = _encode.ms_text(ns)
        assert json.loads(text) == _encode.ms(ns)
        assert text.count(".") == 1 and len(text.split(".")[1]) == 3
