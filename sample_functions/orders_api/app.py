"""OrdersApi: API Gateway -> DynamoDB, listing a customer's orders with the N+1 pattern.

One Query finds the customer's order ids, then one GetItem per order fetches its details, one
after the other: latency grows with the number of orders. The fix is one BatchGetItem (up to
100 keys per call) instead of the loop.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import boto3

from lambda_trace import annotate, trace

dynamodb = boto3.client("dynamodb")
TABLE = os.environ["ORDERS_TABLE"]
logger = logging.getLogger()
logger.setLevel(logging.INFO)


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    customer_id = (event.get("pathParameters") or {}).get("customerId")
    if not customer_id:
        return _response(400, {"message": "customerId is required"})
    listing = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :order)",
        ExpressionAttributeValues={
            ":pk": {"S": f"CUSTOMER#{customer_id}"},
            ":order": {"S": "ORDER#"},
        },
    )
    orders = []
    for item in listing["Items"]:  # N+1: one round trip per order
        order_id = item["sk"]["S"].split("#", 1)[1]
        detail = dynamodb.get_item(
            TableName=TABLE, Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "DETAIL"}}
        ).get("Item", {})
        orders.append(
            {
                "orderId": order_id,
                "status": detail.get("status", {}).get("S"),
                "total": float(detail.get("total", {}).get("N", "0")),
            }
        )
    annotate(customer=customer_id, orders=len(orders))
    logger.info("listed orders", extra={"customer": customer_id, "orders": len(orders)})
    return _response(200, {"customerId": customer_id, "orders": orders})


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
