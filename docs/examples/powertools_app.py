"""lambda-trace beside Powertools Logger and Metrics: one service, one trace id, one namespace.

Set ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` once: Powertools and
lambda-trace both read them. ``@trace`` may sit outside or inside Powertools' decorators;
both orders write the same keys (``tests/test_runtime_powertools.py`` runs this file).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from lambda_trace import segment, trace

logger = Logger()
metrics = Metrics()


def place_order(event: dict[str, Any]) -> dict[str, Any]:
    with segment("price"):
        total = sum(item["price"] for item in event.get("items", []))
    logger.info("order placed", extra={"total": total})
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return {"statusCode": 200, "body": str(total)}


# @trace outermost: it times Powertools' own work too.
@trace
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return place_order(event)


# @trace innermost: it times only the handler's body.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@trace
def handler_traced_inside(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return place_order(event)
