"""Shared fixtures: a real moto server on 127.0.0.1 and a loopback HTTP server.

AWS calls in tests go over HTTP to moto, the way a user's code talks to AWS; nothing here ever
reaches a real AWS endpoint (the credentials are fake and every endpoint is loopback).
"""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Session-wide PostgreSQL, MariaDB and Redis servers (started only by tests that use them).
from db_servers import mariadb_server, postgres_server, redis_server  # noqa: F401

# Fake credentials for every test process and its children: a stray call can never sign for a
# real account, and botocore never looks for a profile or instance metadata.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)
os.environ.pop("AWS_PROFILE", None)


@dataclass
class MotoServer:
    endpoint: str
    port: int

    def reset(self) -> None:
        """Forget every resource, so each test starts from an empty account."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def client(self, service: str):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One ThreadedMotoServer on 127.0.0.1 and a free port for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoServer(endpoint=f"http://{host}:{port}", port=port)
    server.stop()


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """The session's moto server, emptied, with AWS_ENDPOINT_URL pointing at it."""
    moto_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)
    yield moto_server


@dataclass
class LoopbackHTTP:
    """A tiny HTTP server on 127.0.0.1: ``/status/<code>``, ``/sleep/<ms>``, anything else 200."""

    url: str
    host: str
    port: int
    requests: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[LoopbackHTTP]:
    seen: list[dict[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            seen.append({"method": self.command, "path": self.path, **dict(self.headers)})
            parts = self.path.split("?")[0].strip("/").split("/")
            status = 200
            if parts[0] == "status" and len(parts) > 1:
                status = int(parts[1])
            elif parts[0] == "sleep" and len(parts) > 1:
                time.sleep(int(parts[1]) / 1000)
            body = json.dumps({"path": self.path}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        # socketserver's default backlog is 5: 60 concurrent connects overflow it and the
        # kernel drops SYNs, which clients resend after 1, 3, 7 s (a test took 190 s)
        request_queue_size = 128

        def handle_error(self, request: object, client_address: object) -> None:
            # A client killed mid-request (the timeout tests do that on purpose) is not news.
            pass

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    yield LoopbackHTTP(url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port, requests=seen)
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    """Each test sees the configuration warnings afresh (the runtime says each one once per
    process), and leaves none behind."""
    from lambda_trace import _config

    _config._warned.clear()
    yield
    _config._warned.clear()


@pytest.fixture(scope="module")
def sam_template() -> dict[str, Any]:
    """The repository's template.yaml, read once per module (tests deep-copy it to change it)."""
    from lambda_trace.local.template import read_yaml

    return read_yaml(Path(__file__).resolve().parent.parent / "template.yaml")


@pytest.fixture
def every_call_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every call gets its line (``LAMBDA_TRACE_CALL_LINES=all``), for tests that read them:
    the default mode writes them only for invocations that matter (tail-based)."""
    monkeypatch.setenv("LAMBDA_TRACE_CALL_LINES", "all")
