"""The loopback price service answers like an external API, slowly for ``slow-*`` SKUs."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from lambda_trace.local.price_service import PriceService


def get(url: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read()), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), time.monotonic() - started


def test_a_quote_is_json_and_stable_per_sku():
    """The same SKU always gets the same price, on 127.0.0.1 only."""
    with PriceService() as service:
        assert service.url.startswith("http://127.0.0.1:")
        status, body, _ = get(service.url + "?sku=sku-1")
        assert status == 200 and body["sku"] == "sku-1" and body["currency"] == "EUR"
        assert get(service.url + "?sku=sku-1")[1] == body
        assert service.requests == 2


def test_slow_skus_answer_after_the_slow_delay():
    """``slow-*`` SKUs wait ``slow_s``; the others 40 to 400 ms."""
    with PriceService(slow_s=0.6) as service:
        assert 0.04 <= service.delay_s("sku-7") <= 0.4
        assert get(service.url + "?sku=slow-1")[2] >= 0.6


def test_a_request_without_sku_is_refused():
    """No SKU: 400 with a message."""
    with PriceService() as service:
        status, body, _ = get(service.url)
        assert status == 400 and body == {"message": "sku is required"}


@pytest.mark.parametrize("sku", ["a", "sku-1000", "slow-x"])
def test_the_delay_is_deterministic(sku: str):
    """Demos and tests choose slow calls by name, so runs repeat exactly."""
    with PriceService() as one, PriceService() as two:
        assert one.delay_s(sku) == two.delay_s(sku)
