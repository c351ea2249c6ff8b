"""Specification of the human evidence: units, percentages, lists and tables, no literals."""

from __future__ import annotations

from report_fixtures import as_report, contract_report

from lambda_trace.analyzer.render.evidence import describe, fmt_value, label
from lambda_trace.analyzer.render.markdown import render_markdown


def test_values_take_the_unit_of_their_key() -> None:
    assert fmt_value("p95_ms", 144.0) == "144 ms"
    assert fmt_value("p95_ms", 14000.0) == "14.0 s"
    assert fmt_value("peak_max_mb", 168.0) == "168 MB"
    assert fmt_value("memory_size_mb", [512, 1024]) == "512 MB, 1024 MB"
    assert fmt_value("timeout_seconds", 3) == "3 s"
    assert fmt_value("rate", 0.0083) == "0.8%"
    assert fmt_value("share_of_invocations", 0.0004) == "0.04%"
    assert fmt_value("change_pct", 20.0) == "+20.0%"
    assert fmt_value("usd_per_million", 1.75) == "$1.75"
    assert fmt_value("always_same_dependency", True) == "yes"
    assert fmt_value("error_classes", {"ThrottlingException": 3}) == "ThrottlingException: 3"
    assert label("max_memory_used_p99_mb") == "max memory used p99"


def test_a_timeout_reads_as_a_sentence_and_its_calls_as_a_table() -> None:
    finding = {"kind": "timeout", "subject": "http GET api.example.com", "evidence": {
        "timeouts": 4, "invocations": 200, "rate": 0.02, "timeout_seconds": 3,
        "timeout_limits_seen": [3], "with_in_flight_calls": 4, "always_same_dependency": True,
        "in_flight": [{"calls": "http GET api.example.com", "timeouts": 4,
                       "example_request_id": "00000007-0000-4000-8000-000000000007"}]}}
    view = describe(finding)
    assert view.sentence == (
        "4 of 200 invocations (2.0%) timed out at the 3 s limit; 4 wrote a timeout warning "
        "naming the calls in flight, always inside the same call.")
    assert view.facts == []
    (table,) = view.tables
    assert table.title == "Calls in flight at the timeout"
    assert table.headers == ["calls", "timeouts", "example request id"]
    assert table.rows == [["http GET api.example.com", "4",
                           "00000007-0000-4000-8000-000000000007"]]
    assert table.numeric == [False, True, False]


def test_timeouts_under_several_limits_name_each_limit_not_one() -> None:
    # tests/data/field/timeouts.log: invocations of 30 s and 300 s functions in one input
    finding = {"kind": "timeout", "subject": "function", "evidence": {
        "timeouts": 3, "invocations": 3, "rate": 1.0, "timeout_seconds": 300,
        "timeout_limits_seen": [300, 30], "with_in_flight_calls": 0}}
    view = describe(finding)
    assert view.sentence == (
        "3 of 3 invocations (100.0%) timed out at their limits (30 s, 300 s); 0 wrote a "
        "timeout warning naming the calls in flight.")
    assert view.facts == []  # the limits are in the sentence, not repeated below it


def test_one_invocation_near_the_limit_is_singular() -> None:
    view = describe({"kind": "memory_pressure", "subject": "192 MB", "evidence": {
        "failures_near_limit": 1, "peak_max_mb": 192, "memory_size_mb": 192}})
    assert view.sentence == (
        "1 failed or timed-out invocation ran near the limit, peaking at 192 MB of 192 MB.")


def test_an_unknown_kind_still_gets_facts_and_tables() -> None:
    """A kind added later (another engineer's) is shown by the generic rules."""
    view = describe({"kind": "brand_new", "subject": "x", "evidence": {
        "share": 0.5, "rows": [{"a_ms": 1.0}], "nothing": None, "empty": []}})
    assert view.sentence is None
    assert view.facts == [("share", "50.0%")]
    assert [t.rows for t in view.tables] == [[["1.0 ms"]]]


def test_markdown_shows_the_contract_keys_and_human_evidence() -> None:
    text = render_markdown(as_report(contract_report()))
    assert "Function: `orders-api`" in text and "Function: `orders-worker`" in text
    assert "## By function" in text and "| orders\\-worker |" not in text
    assert "| orders-worker | 4 | 1 (25.0%) | 4 (100.0%) |" in text
    assert "## Lambda metrics (CloudWatch)" in text
    assert "http GET api.example.com (in flight, 2850 ms so far)" in text
    assert "By memory size:" in text and "| 512 MB | 60 |" in text
    for literal in ("True", "None", "[{", "{'"):
        assert literal not in text.split("```json")[0], literal
