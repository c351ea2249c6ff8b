"""HTTP calls via urllib3, requests, http.client and urllib.request to a loopback server."""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request

import pytest
import requests
import urllib3
from runtime_support import run

from lambda_trace import trace
from lambda_trace._patches.http_clients import path_only
from lambda_trace.testing import FakeContext, capture

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")


def test_urllib3_call(http_server):
    pool = urllib3.PoolManager()

    @trace
    def handler(event, context):
        return pool.request("GET", f"{http_server.url}/users/7?token=secret").status

    cap, status = run(handler)
    [call] = cap.calls
    assert status == 200
    assert call["name"] == "http GET 127.0.0.1/users/{id}"
    assert (call["kind"], call["method"], call["host"], call["route"]) == (
        "http",
        "GET",
        "127.0.0.1",
        "/users/{id}",
    )
    assert "path" not in call
    assert call["http_status"] == 200 and call["status"] == "ok"
    assert "secret" not in cap.lines[0]


def test_requests_call_counted_once(http_server):
    """requests -> urllib3 -> http.client is one call, not three."""

    @trace
    def handler(event, context):
        return requests.post(f"{http_server.url}/orders?debug=1", json={"card": "4111"}).status_code

    cap, status = run(handler)
    [call] = cap.calls
    assert status == 200 and call["name"] == "http POST 127.0.0.1/orders"
    assert call["route"] == "/orders"
    assert "4111" not in "".join(cap.lines)


def test_http_client_call(http_server):
    @trace
    def handler(event, context):
        conn = http.client.HTTPConnection("127.0.0.1", http_server.port, timeout=5)
        conn.request("PUT", "/items/1?sig=abc", body=b"payload")
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status

    cap, status = run(handler)
    [call] = cap.calls
    assert status == 200
    assert (call["name"], call["route"], call["http_status"]) == (
        "http PUT 127.0.0.1/items/{id}",
        "/items/{id}",
        200,
    )


def test_urllib_request_call(http_server):
    @trace
    def handler(event, context):
        with urllib.request.urlopen(f"{http_server.url}/search?q=private") as response:
            return response.status

    cap, status = run(handler)
    [call] = cap.calls
    assert status == 200
    assert (call["name"], call["route"], call["status"]) == (
        "http GET 127.0.0.1/search", "/search", "ok")
    assert "private" not in cap.lines[0]


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(404, "not_found"), (403, "permission_denied"), (429, "throttled"), (503, "server")],
)
def test_error_statuses_are_classified(http_server, status, error_class):
    @trace
    def handler(event, context):
        return requests.get(f"{http_server.url}/status/{status}").status_code

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["status"] == "error" and call["http_status"] == status
    assert call["error_class"] == error_class and call["error_code"] == str(status)
    assert cap.invocations[0]["calls"]["http GET 127.0.0.1/status/{id}"].get("err", 0) == 1


def test_urllib_request_http_error_is_still_one_call(http_server):
    @trace
    def handler(event, context):
        try:
            urllib.request.urlopen(f"{http_server.url}/status/404")
        except urllib.error.HTTPError as exc:
            return exc.code

    cap, code = run(handler)
    assert code == 404 and len(cap.calls) == 1 and cap.calls[0]["error_class"] == "not_found"


def test_connection_refused_is_a_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connect is refused

        @trace
        def handler(event, context):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            with pytest.raises(ConnectionRefusedError):
                conn.request("GET", "/")
            return "handled"

        cap, result = run(handler)
    [call] = cap.calls
    assert result == "handled"
    assert call["status"] == "error" and call["error_class"] == "network"
    assert call["error_code"] == "ConnectionRefusedError"


def test_read_timeout_is_a_timeout_error(http_server):
    @trace
    def handler(event, context):
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(f"{http_server.url}/sleep/500", timeout=0.05)

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["error_class"] == "timeout"


def test_urllib3_retries_count_as_one_call(http_server):
    """urllib3 re-enters urlopen for retries and redirects; it is still one call."""
    pool = urllib3.PoolManager(
        retries=urllib3.Retry(total=2, status_forcelist=[503], backoff_factor=0)
    )

    @trace
    def handler(event, context):
        try:
            pool.request("GET", f"{http_server.url}/status/503")
        except urllib3.exceptions.MaxRetryError:
            return "gave up"

    before = len(http_server.requests)
    cap, result = run(handler)
    assert result == "gave up"
    assert len(http_server.requests) - before == 3
    [call] = cap.calls
    assert call["status"] == "error"


def test_calls_outside_an_invocation_are_not_recorded(http_server):
    @trace
    def handler(event, context):
        return None

    with capture() as cap:
        handler({}, FakeContext())
        requests.get(http_server.url)
    assert cap.calls == []


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/a/b?x=1", "/a/b"),
        ("/a#frag", "/a"),
        ("http://proxy.example/p/q?token=t", "/p/q"),
        ("https://host.example", "/"),
        ("", "/"),
    ],
)
def test_path_never_has_a_query_string(url, path):
    assert path_only(url) == path
