"""metric() and annotate(): user additions to the invocation's EMF document and summary."""

from __future__ import annotations

import pytest
from runtime_support import assert_all_valid

from lambda_trace import annotate, metric, trace
from lambda_trace.testing import FakeContext, capture


def test_metric_lands_in_the_invocation_document():
    @trace
    def handler(event, context):
        metric("Orders", 2)
        metric("Orders", 3)
        metric("PayloadSize", 512, unit="Bytes")

    with capture() as cap:
        handler({}, FakeContext())
    [doc] = cap.emf
    definitions = {m["Name"]: m.get("Unit") for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert definitions["Orders"] == "Count" and definitions["PayloadSize"] == "Bytes"
    assert doc["Orders"] == [2.0, 3.0] and doc["PayloadSize"] == 512.0
    assert_all_valid(cap)


@pytest.mark.parametrize(
    ("name", "value", "unit", "why"),
    [
        ("Bad", float("nan"), "Count", "finite"),
        ("Bad", float("inf"), "Count", "finite"),
        ("Bad", "3", "Count", "number"),
        ("Bad", 1, "Furlongs", "unit"),
        ("", 1, "Count", "name"),
    ],
)
def test_invalid_metrics_are_dropped_with_one_warning(capsys, name, value, unit, why):
    @trace
    def handler(event, context):
        metric(name, value, unit)
        metric(name, value, unit)

    with capture() as cap:
        handler({}, FakeContext())
    assert "Bad" not in cap.emf[0]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and why in err[0]
    assert_all_valid(cap)


def test_metric_with_the_name_of_ours_goes_to_its_own_document():
    @trace
    def handler(event, context):
        metric("Duration", 7, unit="Seconds")

    with capture() as cap:
        handler({}, FakeContext())
    docs = cap.emf
    assert len(docs) == 2
    assert docs[1]["Duration"] == 7.0
    assert_all_valid(cap)


def test_more_than_100_values_split_across_documents():
    """EMF allows 100 values per metric: the 101st goes into a further document."""

    @trace
    def handler(event, context):
        for i in range(150):
            metric("Items", i)

    with capture() as cap:
        handler({}, FakeContext())
    values = [doc["Items"] for doc in cap.emf if "Items" in doc]
    assert [len(v) for v in values] == [100, 50]
    assert_all_valid(cap)


def test_more_than_100_metrics_split_across_directives():
    @trace
    def handler(event, context):
        for i in range(130):
            metric(f"M{i}", i)

    with capture() as cap:
        handler({}, FakeContext())
    names = [
        m["Name"] for doc in cap.emf for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]
    ]
    assert {f"M{i}" for i in range(130)} <= set(names)
    assert_all_valid(cap)


def test_metrics_off_writes_no_documents():
    @trace(metrics=False)
    def handler(event, context):
        metric("Orders", 1)

    with capture() as cap:
        handler({}, FakeContext())
    assert cap.emf == [] and len(cap.invocations) == 1


def test_annotate_adds_keys_to_the_summary():
    @trace
    def handler(event, context):
        annotate(tenant="acme", retried=True)
        annotate(batch=3, note=object.__name__, ratio=0.5, missing=None)

    with capture() as cap:
        handler({}, FakeContext())
    assert cap.invocations[0]["annotations"] == {
        "tenant": "acme",
        "retried": True,
        "batch": 3,
        "note": "object",
        "ratio": 0.5,
        "missing": None,
    }


def test_annotate_bounds_keys_and_values(capsys):
    @trace
    def handler(event, context):
        annotate(long="x" * 1000, obj={"nested": [1, 2]})
        annotate(**{f"k{i}": i for i in range(100)})

    with capture() as cap:
        handler({}, FakeContext())
    annotations = cap.invocations[0]["annotations"]
    assert len(annotations) == 50
    assert len(annotations["long"]) == 256 and annotations["obj"] == "{'nested': [1, 2]}"
    assert "annotations" in capsys.readouterr().err


def test_outside_an_invocation_metric_and_annotate_do_nothing():
    with capture() as cap:
        metric("Orders", 1)
        annotate(x=1)
    assert cap.lines == []


def test_metric_values_per_invocation_are_bounded(capsys):
    """A runaway loop of metric() calls keeps at most MAX_USER_VALUES values and warns once."""
    from lambda_trace import _invocation

    @trace
    def handler(event, context):
        for i in range(_invocation.MAX_USER_VALUES + 500):
            metric("Loop", i)

    with capture() as cap:
        handler({}, FakeContext())
    kept = sum(len(d["Loop"]) if isinstance(d["Loop"], list) else 1 for d in cap.emf if "Loop" in d)
    assert kept == _invocation.MAX_USER_VALUES
    assert capsys.readouterr().err.count("extra dropped") == 1
