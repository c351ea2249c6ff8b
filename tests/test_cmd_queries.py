"""``lambda-trace queries``: Logs Insights queries whose fields are the ones our records carry."""

from __future__ import annotations

import json
import re

import pytest

from lambda_trace import schema
from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.insights_queries import QUERIES

#: Logs Insights QL words and functions used in the queries, and values that are not fields
KEYWORDS = {"filter", "stats", "fields", "sort", "limit", "parse", "by", "as", "and", "or", "not",
            "desc", "asc", "like", "count", "sum", "pct", "max", "min", "avg", "earliest",
            "strcontains", "ispresent", "coalesce", "bin", "h"}
RECORDS = {
    "call": schema.CallRecord,
    "timeout_warning": schema.TimeoutWarningRecord,
    "invocation": schema.InvocationRecord,
}


def record_fields(type_: str) -> set[str]:
    fields = set(RECORDS[type_]().to_dict())
    if type_ == "timeout_warning":  # in_flight.0.<key>: the keys of one in-flight call
        fields |= {f"in_flight.0.{k}" for k in schema.InFlight("x", "http", 1.0).to_dict()}
    return fields


@pytest.mark.parametrize("query", [q for q in QUERIES if "lambda_trace = 1" in q.text],
                         ids=lambda q: q.key)
def test_record_queries_use_only_fields_the_records_have(query) -> None:  # type: ignore[no-untyped-def]
    type_ = re.search(r'type = "(\w+)"', query.text).group(1)  # type: ignore[union-attr]
    text = re.sub(r'"[^"]*"|/[^/]*/', " ", query.text)  # no string or regex literals
    aliases = set(re.findall(r"\bas (\w+)", text))
    words = set(re.findall(r"@?[A-Za-z_][\w.]*", text))
    fields = {w for w in words if not w.startswith("@") and not w.isdigit()}
    unknown = fields - KEYWORDS - aliases - record_fields(type_)
    assert not unknown, unknown


def test_the_text_names_the_log_group_and_every_query(capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders"
    assert main(["queries", "--function", arn]) == 0
    out = capsys.readouterr().out
    assert out.count("# log groups: /aws/lambda/orders") == len(QUERIES)
    for key in ("slowest-dependencies", "timeouts-in-flight", "errors-by-class",
                "memory-by-invocation"):
        assert f"# {key}: " in out
    assert "pct(duration_ms, 95)" in out and "in_flight.0.name" in out
    assert "@maxMemoryUsed / 1000 / 1000" in out


def test_json_and_a_chosen_query(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["queries", "--log-group", "/custom/group", "--query", "memory-by-invocation",
                 "--format", "json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["key"] == "memory-by-invocation" and only["log_groups"] == ["/custom/group"]
    assert only["query"].startswith('filter @type = "REPORT"')


def test_no_log_group_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["queries"]) == 2
    assert capsys.readouterr().err == (
        "lambda-trace: error: queries needs --function NAME or --log-group GROUP\n")
