"""A loopback HTTP server standing in for PriceQuote's "external" price service.

Never the internet: it listens on 127.0.0.1 only. Its latency is decided by the SKU, so a demo or
a test chooses which calls are slow: ``slow-*`` SKUs answer after ``slow_s`` seconds (longer than
PriceQuote's 3 s timeout), the others after 40 to 400 ms.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
import urllib.parse
from typing import Optional

from lambda_trace.local.runtime_api import send_json


class PriceService:
    """``GET /?sku=<sku>`` -> ``{"sku", "price", "currency"}`` after a SKU-dependent delay."""

    def __init__(self, slow_s: float = 5.0) -> None:
        self.slow_s = slow_s
        self.requests = 0
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="price-service", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def delay_s(self, sku: str) -> float:
        if sku.startswith("slow-"):
            return self.slow_s
        digest = hashlib.sha256(sku.encode()).digest()
        return 0.04 + (digest[0] / 255) * 0.36

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> PriceService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the caller was killed by its timeout while we slept: expected


def _handler(service: PriceService) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            service.requests += 1
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            sku: Optional[str] = (query.get("sku") or [""])[0]
            if not sku:
                self._send(400, {"message": "sku is required"})
                return
            time.sleep(service.delay_s(sku))
            price = int(hashlib.sha256(sku.encode()).hexdigest()[:4], 16) / 100
            self._send(200, {"sku": sku, "price": price, "currency": "EUR"})

        def _send(self, status: int, body: dict[str, object]) -> None:
            send_json(self, status, body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
