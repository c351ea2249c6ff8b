"""Report dicts for the renderer tests, with the keys other parts of the analyzer add.

``contract_report`` is a realistic report plus the agreed additions the renderers must show when
present: a ``function`` on every finding, a ``functions`` section with two functions, an
``in_flight`` call on a timed-out slowest invocation, a ``metrics`` section, and a
permission_denied finding whose principal is a long ARN.
"""

from __future__ import annotations

import copy
from typing import Any, Optional, cast

from join_builders import realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.findings import find_all
from lambda_trace.analyzer.report import Report, ReportDocument, report_from_aggregate
from lambda_trace.analyzer.report_charts import chart_data, document_charts

#: 79 characters: wider than any indent leaves at 80 columns, narrower than the line
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/orders-svc-FunctionRole-1A2B3C/orders-fn"
TIMED_OUT_ID = "ffffffff-0000-4000-8000-00000000dead"


def realistic_report(hostile: bool = False) -> dict[str, Any]:
    """The document of a realistic report (a dict the tests may change)."""
    agg, join_stats = aggregate_events(realistic_events(hostile=hostile))
    report = report_from_aggregate(agg, find_all(agg), join_stats=join_stats,
                                   parse_stats={"unparsed": 17, "malformed": 2})
    return dict(report.document)


def as_report(document: dict[str, Any], hostile: Optional[bool] = None) -> Report:
    """A document (changed by a test) as a Report: with the realistic aggregate's charts when
    ``hostile`` says which one, else with the charts the document alone gives."""
    slowest = document.get("slowest_invocations") or []
    if hostile is None:
        charts = document_charts(slowest)
    else:
        agg, _ = aggregate_events(realistic_events(hostile=hostile))
        charts = chart_data(agg, slowest)
    return Report(cast(ReportDocument, document), charts)


def contract_report(hostile: bool = False) -> dict[str, Any]:
    report = copy.deepcopy(realistic_report(hostile))
    for finding in report["findings"]:
        finding["function"] = "orders-api"
    report["findings"].insert(0, {
        "kind": "permission_denied", "severity": "high", "function": "orders-worker",
        "subject": "orders-service-OrdersFunctionRole-1A2B3C4D5E6F",
        "evidence": {
            "principal": ROLE_ARN, "role": "orders-service-OrdersFunctionRole-1A2B3C4D5E6F",
            "denied": [{"action": "dynamodb:GetItem",
                        "resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-prod",
                        "count": 4, "operation": "GetItem",
                        "example_request_id": "0000000a-0000-4000-8000-00000000000a"}],
            "count": 4,
            "suggested_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:GetItem",
                 "Resource": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-prod"}]},
        },
        "advice": f"Allow dynamodb:GetItem to the execution role of {ROLE_ARN}.",
    })
    summary_keys = ("invocations", "cold_starts", "errors", "timeouts", "out_of_memory",
                    "error_rate", "duration_ms")
    summary = {k: report[k] for k in summary_keys}
    report["functions"] = {
        "orders-api": {"summary": summary, "dependencies": report["dependencies"],
                       "findings": report["findings"][1:]},
        "orders-worker": {
            "summary": {"invocations": 4, "cold_starts": 1, "errors": 4, "timeouts": 0,
                        "out_of_memory": 0, "error_rate": 1.0,
                        "duration_ms": {"p50": 12.0, "p95": 20.0, "p99": 20.0, "max": 20.0}},
            "dependencies": [], "findings": report["findings"][:1]},
    }
    for row in report["slowest_invocations"]:
        row["function"] = "orders-api"
        if row["request_id"] == TIMED_OUT_ID:
            row["calls"] = [
                {"name": "dynamodb.GetItem", "kind": "aws", "start_ms": 5.0, "duration_ms": 12.5,
                 "status": "ok"},
                {"name": "s3.GetObject", "kind": "aws", "start_ms": 20.0, "duration_ms": 80.0,
                 "status": "error"},
            ]
            row["in_flight"] = {"name": "http GET api.example.com", "kind": "http",
                                "running_ms": 2850.0}
    report["metrics"] = {"orders-api": {
        "Invocations": {"sum": 121}, "Errors": {"sum": 3}, "Throttles": {"sum": 0},
        "Duration": {"avg": 201.5, "max": 3000.0}, "series": {}}}
    return report
