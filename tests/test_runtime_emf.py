"""EMF documents: built with Powertools, valid against AWS's schema, within CloudWatch's limits."""

from __future__ import annotations

import json

import pytest
from clocks import now_ms
from emf_validation import assert_valid_emf, emf_document_problems

from lambda_trace import _emf, segment, trace
from lambda_trace.testing import FakeContext, capture


def test_the_validator_catches_what_the_schema_catches():
    """A document without a Namespace fails the JSON schema (the helper is not a no-op)."""
    doc = json.loads(_emf.documents("N", "f", now_ms(), [("Duration", "Milliseconds", 1.0)], [])[0])
    del doc["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert any(p.startswith("schema:") for p in emf_document_problems(doc))


def test_invocation_document_has_our_metrics_by_function():
    @trace(namespace="Shop")
    def handler(event, context):
        return None

    with capture() as cap:
        handler({}, FakeContext(function_name="orders", memory_limit_in_mb="256"))
    [doc] = cap.emf
    assert_valid_emf(doc)
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Shop" and directive["Dimensions"] == [["service"]]
    units = {m["Name"]: m["Unit"] for m in directive["Metrics"]}
    assert units == {
        "Duration": "Milliseconds",
        "ColdStart": "Count",
        "Errors": "Count",
        "MemoryUsedMB": "Megabytes",
    }
    assert doc["service"] == "orders" and doc["Errors"] == 0 and doc["MemoryUsedMB"] > 0


def test_a_failed_invocation_counts_errors_by_class():
    @trace
    def handler(event, context):
        raise ConnectionResetError("peer went away")

    with capture() as cap, pytest.raises(ConnectionResetError):
        handler({}, FakeContext())
    [doc] = cap.emf
    assert_valid_emf(doc)
    directives = doc["_aws"]["CloudWatchMetrics"]
    assert [d["Dimensions"] for d in directives] == [[["service"]], [["service", "ErrorClass"]]]
    assert doc["Errors"] == 1 and doc["ErrorClass"] == "network"


def test_user_code_errors_are_class_handler():
    @trace
    def handler(event, context):
        raise ValueError("x")

    with capture() as cap, pytest.raises(ValueError):
        handler({}, FakeContext())
    assert cap.emf[0]["ErrorClass"] == "handler"


def test_http_calls_are_downstream_metrics_segments_are_not(http_server):
    import urllib.error
    import urllib.request

    @trace
    def handler(event, context):
        with segment("render"):
            urllib.request.urlopen(f"{http_server.url}/status/500").close()

    with capture() as cap, pytest.raises(urllib.error.HTTPError):
        handler({}, FakeContext())
    downstream = [d for d in cap.emf if "Service" in d]
    pairs = [(d["Service"], d["Operation"]) for d in downstream]
    assert pairs == [("http", "GET 127.0.0.1/status/{id}")]
    assert isinstance(downstream[0]["DownstreamLatency"], float)  # one call, one value
    # Failed calls are counted by error class, not per operation (fewer metric series).
    [errors] = [d for d in cap.emf if "DownstreamErrors" in d]
    assert errors["ErrorClass"] == "server" and errors["DownstreamErrors"] == 1
    assert errors["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "ErrorClass"]]
    for doc in cap.emf:
        assert_valid_emf(doc)


def test_latency_values_are_capped_at_100_per_document():
    """The batch hands documents runs of 100 (see test_runtime_batch); more are cut."""
    ts = now_ms()
    downstream = [("s3", "GetObject", ts - 5, [1.0] * 250)]
    lines = _emf.documents("N", "f", ts, [], [], None, downstream)
    [doc] = [json.loads(line) for line in lines]
    assert len(doc["DownstreamLatency"]) == 100 and doc["_aws"]["Timestamp"] == ts - 5
    assert_valid_emf(doc)


def test_downstream_documents_are_bounded():
    downstream = [("svc", f"Op{i}", now_ms(), [1.0]) for i in range(80)]
    lines = _emf.documents("N", "f", now_ms(), [], [], None, downstream)
    assert len(lines) == _emf.MAX_DOWNSTREAM_DOCS


def test_an_oversized_document_is_split():
    """Long metric names pushing a document past 256 KB are spread over several documents."""
    values = [-(j + 1) / 7e6 for j in range(100)]  # ~23 characters each
    user = [(("M" * 250) + str(i), "Count", values) for i in range(100)]
    lines = _emf.documents("N", "f", now_ms(), [], user)
    assert len(lines) > 1
    for line in lines:
        assert_valid_emf(line)
    names = {
        m["Name"]
        for line in lines
        for m in json.loads(line)["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    }
    assert len(names) == 100


def test_directives_are_cached_per_shape():
    shape = (("CacheProbe", "Count"),)
    first = _emf._directive("N", (("service",),), shape)
    assert _emf._directives[("N", (("service",),), shape)] is first


@pytest.mark.parametrize(
    ("name", "value", "unit", "ok"),
    [
        ("Orders", 1, "Count", True),
        ("Orders", 1.5, "Milliseconds", True),
        ("Orders", True, "Count", False),
        ("Orders", float("nan"), "Count", False),
        ("Orders", 1, "count", False),
        ("x" * 256, 1, "Count", False),
    ],
)
def test_valid_metric(name, value, unit, ok):
    assert (_emf.valid_metric(name, value, unit) is None) is ok


def test_own_document_matches_the_general_document():
    """The hot-path document is byte-equal to the general one for the same metrics."""
    metrics = [("Duration", "Milliseconds", 8.472), ("ColdStart", "Count", 0)]
    metrics.append(("Errors", "Count", 1))
    shape = tuple((name, unit) for name, unit, _ in metrics)
    ts = now_ms()
    fast = _emf.own_document("Shop", "orders", ts, shape, [m[2] for m in metrics])
    by_service = (("service",),)
    general = _emf.document("Shop", ts, [(by_service, metrics)], {"service": "orders"})
    assert fast == general
    assert_valid_emf(json.loads(fast))


def test_own_document_declines_what_the_general_path_must_handle():
    """A non-finite value, a repeated name or a name equal to the dimension gives None."""
    shape = (("Duration", "Milliseconds"),)
    assert _emf.own_document("N", "f", 1, shape, [float("nan")]) is None
    assert _emf.own_document("N", "f", 1, shape * 2, [1.0, 2.0]) is None
    assert _emf.own_document("N", "f", 1, (("service", "Count"),), [1]) is None


# -- directives without Powertools loaded (cold start: its package import costs ≈12-25 ms) ------

_SHAPES = [
    (("service",),),
    (("service",), ("service", "Operation")),
]
_CHUNKS = [
    (("Duration", "Milliseconds"), ("ColdStart", "Count"), ("Errors", "Count")),
    (("Orders", "Count"), (" Orders ", "Milliseconds"), ("Bytes", "Bytes/Second")),
    tuple((f"M{i}", sorted(_emf.UNITS)[i % len(_emf.UNITS)]) for i in range(50)),
    (("x" * 255, "None"),),
]


@pytest.mark.parametrize("sets", _SHAPES)
@pytest.mark.parametrize("chunk", _CHUNKS)
def test_own_definitions_equal_powertools(sets, chunk):
    """Built without Powertools, the directive's metric list is the one Powertools makes."""
    assert _emf.own_definitions("N", sets, chunk) == _emf._powertools_definitions("N", sets, chunk)


@pytest.mark.parametrize(
    ("namespace", "chunk"),
    [("N", (("", "Count"),)), ("N", (("  ", "Count"),)), ("N", (("x" * 256, "Count"),)),
     ("N", (("Orders", "count"),)), ("N", ())],
)
def test_own_definitions_refuse_what_powertools_refuses(namespace, chunk):
    sets = (("service",),)
    from aws_lambda_powertools.metrics.exceptions import SchemaValidationError
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import (
        MetricNameError,
        MetricUnitError,
    )

    with pytest.raises((MetricNameError, MetricUnitError, SchemaValidationError)):
        _emf._powertools_definitions(namespace, sets, chunk)
    with pytest.raises(ValueError):
        _emf.own_definitions(namespace, sets, chunk)


def test_a_cold_flush_without_powertools_loaded_gives_its_document():
    """In a fresh process that never loads Powertools, the EMF lines are those Powertools
    would have built (same directive text), and Powertools stays unloaded."""
    code = """
import json, sys
from lambda_trace import trace, metric
from lambda_trace.testing import FakeContext, capture

@trace
def handler(event, context):
    metric("Orders", 2, "Count")
    return 1

with capture() as cap:
    handler({}, FakeContext())
print(json.dumps({"emf": cap.emf, "loaded": "aws_lambda_powertools" in sys.modules}))
"""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] is False
    docs = result["emf"]
    assert docs and any(m["Name"] == "Orders" for d in docs
                        for m in d["_aws"]["CloudWatchMetrics"][0]["Metrics"])
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            sets = tuple(tuple(dims) for dims in directive["Dimensions"])
            chunk = tuple((m["Name"], m["Unit"]) for m in directive["Metrics"])
            assert directive["Metrics"] == _emf._powertools_definitions(
                directive["Namespace"], sets, chunk)


@pytest.mark.parametrize(
    "definitions",
    [[{"Name": "Duration", "Unit": "Milliseconds"}],
     [{"Name": "Bestellungen \u00fc\u20ac \"q\"\\", "Unit": "Count", "StorageResolution": 1}],
     [{"Name": f"M{i}", "Unit": "Bytes/Second"} for i in range(60)]],
)
def test_directive_text_is_json_dumps(definitions):
    sets = (("service",), ("service", "Operation \u00e9"))
    expected = json.dumps(
        {"Namespace": "Sh\u00f6p", "Dimensions": [list(d) for d in sets], "Metrics": definitions},
        separators=(",", ":"))
    assert _emf.directive_text("Sh\u00f6p", sets, definitions) == expected
