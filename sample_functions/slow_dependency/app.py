"""PriceQuote: asks an external price service for a quote over HTTP (requests).

The planted problem: the service is sometimes slow, and the client timeout (10 s) is longer than
the function's own timeout (3 s), so Lambda kills the invocation with the HTTP call still in
flight. The fix: a client timeout well under the remaining time
(``context.get_remaining_time_in_millis()``) and a fallback answer.
"""

from __future__ import annotations

import json
import os
from typing import Any

import requests

from lambda_trace import annotate, trace

PRICE_API_URL = os.environ["PRICE_API_URL"]
session = requests.Session()  # keeps the connection open between warm invocations


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    sku = (event.get("pathParameters") or {}).get("sku") or "unknown"
    annotate(sku=sku)
    response = session.get(PRICE_API_URL, params={"sku": sku}, timeout=10)
    response.raise_for_status()
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"sku": sku, "quote": response.json()}),
    }
