"""One voice with Powertools: service, namespace, X-Ray trace id and correlation id.

docs/examples/powertools_app.py (the README's example) runs in a fresh interpreter with the
environment Lambda and Powertools use; our lines and Powertools' lines must agree on the keys a
Logs Insights query joins them by.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from emf_validation import assert_valid_emf
from runtime_support import python

from lambda_trace import trace
from lambda_trace._powertools import xray_trace_id
from lambda_trace.testing import FakeContext, capture, validate_record

ROOT_ID = "1-5759e988-bd862e3fe1be46a994272793"
TRACE_HEADER = f"Root={ROOT_ID};Parent=53995c3f42cd8ad8;Sampled=1"
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
API_REQUEST_ID = "api-req-7f3a"  # API Gateway's requestContext.requestId: the correlation id


def run_example(handler_name: str) -> list[dict[str, Any]]:
    result = python(
        f"""
        import sys
        sys.path.insert(0, "docs/examples")
        from lambda_trace.testing import FakeContext
        import powertools_app

        event = {{"items": [{{"price": 3}}, {{"price": 4}}],
                  "requestContext": {{"requestId": "{API_REQUEST_ID}"}}}}
        context = FakeContext(function_name="orders-fn", aws_request_id="{REQUEST_ID}",
                              memory_limit_in_mb="256")
        print(powertools_app.{handler_name}(event, context)["statusCode"], file=sys.stderr)
        """,
        env={
            "POWERTOOLS_SERVICE_NAME": "orders",
            "POWERTOOLS_METRICS_NAMESPACE": "Shop",
            "_X_AMZN_TRACE_ID": TRACE_HEADER,
            "AWS_LAMBDA_FUNCTION_NAME": "orders-fn",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("200"), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("handler_name", ["handler", "handler_traced_inside"])
def test_our_lines_and_powertools_lines_share_their_keys(handler_name: str) -> None:
    lines = run_example(handler_name)
    [record] = [line for line in lines if line.get("type") == "invocation"]
    validate_record(record)
    [logged] = [line for line in lines if line.get("message") == "order placed"]
    # The keys a Logs Insights query filters and joins on, the same on both sides.
    assert record["service"] == logged["service"] == "orders"
    assert record["xray_trace_id"] == logged["xray_trace_id"] == ROOT_ID
    assert record["correlation_id"] == logged["correlation_id"] == API_REQUEST_ID
    assert record["request_id"] == logged["function_request_id"] == REQUEST_ID
    assert record["function_name"] == logged["function_name"] == "orders-fn"
    assert record["status_code"] == 200 and record["calls"]["price"]["n"] == 1
    # Both tools' EMF documents: one namespace, one `service` dimension value.
    docs = [line for line in lines if "_aws" in line]
    ours = [d for d in docs if "Duration" in d]
    theirs = [d for d in docs if "OrdersPlaced" in d]
    assert len(ours) == 1 and len(theirs) == 1
    for doc in (*ours, *theirs):
        assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Shop"
        assert doc["service"] == "orders"
    assert_valid_emf(ours[0])


def test_without_powertools_the_service_is_the_function_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)

    @trace
    def handler(event: Any, context: Any) -> Any:
        return "done"

    with capture() as cap:
        handler({}, FakeContext(function_name="billing"))
    [record] = cap.invocations
    assert record["service"] == "billing" and cap.emf[0]["service"] == "billing"
    assert "xray_trace_id" not in record and "correlation_id" not in record


def test_the_service_option_and_our_variable_win_over_powertools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "orders")
    monkeypatch.setenv("LAMBDA_TRACE_SERVICE", "orders-tracing")

    @trace
    def from_env(event: Any, context: Any) -> Any:
        return None

    @trace(service="explicit")
    def from_option(event: Any, context: Any) -> Any:
        return None

    with capture() as cap:
        from_env({}, FakeContext())
        from_option({}, FakeContext())
    assert [r["service"] for r in cap.invocations] == ["orders-tracing", "explicit"]


def test_the_trace_id_is_the_root_of_the_header() -> None:
    assert xray_trace_id(TRACE_HEADER) == ROOT_ID
    assert xray_trace_id("Sampled=0;Root=1-aa-bb") == "1-aa-bb"
    assert xray_trace_id("Parent=53995c3f42cd8ad8") is None
    assert xray_trace_id("") is None
