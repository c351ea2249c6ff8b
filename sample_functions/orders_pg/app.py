"""OrdersPg: API Gateway -> PostgreSQL, listing a customer's orders with the N+1 pattern.

One query finds the customer's orders, then one query per order fetches its items, one after the
other: latency grows with the number of orders. A second, slow query totals the customer's
spending over an unindexed table. The fixes: one query for all the items (``WHERE order_id =
ANY(%s)`` or a JOIN), and an index on ``order_lines(customer_id)``.

The connection is opened at init, once per execution environment (connection settings from
libpq's ``PG*`` environment variables) after ``lambda_trace`` is imported, so its queries are
traced (the import-order rule in docs/runtime.md).
"""

from __future__ import annotations

import json
from typing import Any

import psycopg2

from lambda_trace import annotate, trace

# init, once per environment, after lambda_trace is imported (so it is traced); reused warm
connection = psycopg2.connect(connect_timeout=5)
connection.autocommit = True


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    customer_id = (event.get("pathParameters") or {}).get("customerId")
    if not customer_id:
        return _response(400, {"message": "customerId is required"})
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, status FROM orders WHERE customer_id = %s ORDER BY id", (customer_id,)
        )
        orders = [{"orderId": row[0], "status": row[1]} for row in cur.fetchall()]
        for order in orders:  # N+1: one round trip per order
            cur.execute(
                "SELECT sku, quantity, unit_price FROM order_items WHERE order_id = %s",
                (order["orderId"],),
            )
            order["items"] = [
                {"sku": sku, "quantity": qty, "unitPrice": float(price)}
                for sku, qty, price in cur.fetchall()
            ]
        # the slow query: a sequential scan of order_lines, which has no index on customer_id
        cur.execute(
            "SELECT coalesce(sum(amount), 0) FROM order_lines WHERE customer_id = %s",
            (customer_id,),
        )
        lifetime = float(cur.fetchone()[0])
    annotate(customer=customer_id, orders=len(orders))
    body = {"customerId": customer_id, "orders": orders, "lifetimeSpend": lifetime}
    return _response(200, body)


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }
