"""The Lambda Runtime API, served on 127.0.0.1 for one execution environment.

The runtime interface client long-polls ``/next`` for an invocation and answers on
``/response`` or ``/error``; a failed init is reported on ``/init/error``. Every request the
runtime makes becomes a ``RuntimeMessage`` that the runner reads without blocking: a self-pipe
(``wakeup_fd``) lets it wait on the runtime and on the runtime's stdout/stderr in one ``select``.

Spec: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import queue
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

API_PREFIX = "/2018-06-01/runtime"
_INVOCATION_PATH = re.compile(r"^/2018-06-01/runtime/invocation/([^/]+)/(response|error)$")


@dataclass(frozen=True)
class Invocation:
    """What ``/next`` hands to the runtime: the event and its context headers."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: Optional[str] = None
    client_context: Optional[str] = None
    cognito_identity: Optional[str] = None

    def headers(self) -> dict[str, str]:
        out = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
        }
        if self.trace_id:
            out["Lambda-Runtime-Trace-Id"] = self.trace_id
        if self.client_context:
            out["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity:
            out["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return out


@dataclass(frozen=True)
class RuntimeMessage:
    """One request from the runtime: ``next``, ``response``, ``error`` or ``init_error``."""

    kind: str
    #: ``time.monotonic()`` when the request arrived
    at: float
    request_id: Optional[str] = None
    body: bytes = b""
    error_type: Optional[str] = None


class RuntimeAPIServer:
    """A Runtime API endpoint on a free loopback port (``address`` is AWS_LAMBDA_RUNTIME_API)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._messages: deque[RuntimeMessage] = deque()
        self._pending: queue.Queue[Optional[Invocation]] = queue.Queue()
        self._lock = threading.Lock()
        self._current: Optional[str] = None
        self._answered: set[str] = set()
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._httpd = _Server((host, 0), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="runtime-api", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def wakeup_fd(self) -> int:
        """Readable whenever a message is waiting; ``messages()`` clears it."""
        return self._wake_r

    def offer(self, invocation: Invocation) -> None:
        """Queue an invocation for the runtime's (current or next) ``/next`` call."""
        with self._lock:
            self._current = invocation.request_id
        self._pending.put(invocation)

    def messages(self) -> list[RuntimeMessage]:
        """Take every message received so far, oldest first, without blocking."""
        try:
            while os.read(self._wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        with self._lock:
            while self._messages:
                out.append(self._messages.popleft())
        return out

    def close(self) -> None:
        """Stop serving and release any ``/next`` call still waiting."""
        if self._closed:
            return
        self._closed = True
        self._pending.put(None)
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    # -- called from the server's request threads -------------------------------------------

    def _post(self, message: RuntimeMessage) -> None:
        with self._lock:
            self._messages.append(message)
        # A full pipe means a wake-up is pending anyway; a closed one, that nobody listens.
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def _next_invocation(self) -> Optional[Invocation]:
        self._post(RuntimeMessage("next", time.monotonic()))
        invocation = self._pending.get()
        if invocation is None:
            self._pending.put(None)  # wake any other waiter too
        return invocation

    def _accept_answer(self, request_id: str) -> bool:
        with self._lock:
            if request_id != self._current or request_id in self._answered:
                return False
            self._answered.add(request_id)
            return True


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # NOTE: the runtime may reconnect quickly after a restart; a lingering socket must not block.
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a runtime killed mid-request (timeout, OOM) is normal here, not worth a traceback


def _make_handler(api: RuntimeAPIServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle on, the second waits for the
        # client's delayed ACK (~40 ms) on every /next.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path != f"{API_PREFIX}/invocation/next":
                self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                return
            invocation = api._next_invocation()
            if invocation is None:
                self._reply(500, {"errorType": "Shutdown", "errorMessage": "environment closed"})
                self.close_connection = True
                return
            self.send_response(200)
            for name, value in invocation.headers().items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(invocation.payload)))
            self.end_headers()
            self.wfile.write(invocation.payload)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            now = time.monotonic()
            if self.path == f"{API_PREFIX}/init/error":
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                api._post(RuntimeMessage("init_error", now, None, body, error_type))
                self._reply(202, {"status": "OK"})
                return
            match = _INVOCATION_PATH.match(self.path)
            if match is None:
                self._reply(404, {"errorType": "NotFound", "errorMessage": self.path})
                return
            request_id, kind = match.groups()
            if not api._accept_answer(request_id):
                self._reply(
                    400, {"errorType": "InvalidRequestID", "errorMessage": "Invalid request ID"}
                )
                return
            error_type = None
            if kind == "error":
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type") or _error_type(
                    body
                )
            api._post(RuntimeMessage(kind, now, request_id, body, error_type))
            self._reply(202, {"status": "OK"})

        def _reply(self, status: int, payload: dict[str, str]) -> None:
            send_json(self, status, payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def send_json(
    handler: http.server.BaseHTTPRequestHandler, status: int, payload: dict[str, Any]
) -> None:
    """Answer a request with a JSON body and its length (keep-alive clients need the length)."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _error_type(body: bytes) -> Optional[str]:
    try:
        value = json.loads(body).get("errorType")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None
