"""The Runtime API server speaks the Lambda Runtime API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import select
import threading
from collections.abc import Iterator
from typing import Optional

import pytest
from clocks import now_ms

from lambda_trace.local.runtime_api import Invocation, RuntimeAPIServer, RuntimeMessage

NEXT = "/2018-06-01/runtime/invocation/next"


@pytest.fixture
def api() -> Iterator[RuntimeAPIServer]:
    server = RuntimeAPIServer()
    yield server
    server.close()


def request(
    api: RuntimeAPIServer,
    method: str,
    path: str,
    body: Optional[bytes] = None,
    headers: Optional[dict[str, str]] = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(api.address, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


def wait_messages(api: RuntimeAPIServer, count: int) -> list[RuntimeMessage]:
    got: list[RuntimeMessage] = []
    while len(got) < count:
        readable, _, _ = select.select([api.wakeup_fd], [], [], 10)
        assert readable, "no message from the runtime API"
        got.extend(api.messages())
    return got


def invocation(
    request_id: str = "11111111-2222-3333-4444-555555555555", deadline_ms: Optional[int] = None
) -> Invocation:
    return Invocation(
        request_id=request_id,
        payload=b'{"hello": "world"}',
        # A deadline is a moment in the future (epoch ms), as Lambda sends it: 30 s from now.
        deadline_ms=now_ms() + 30_000 if deadline_ms is None else deadline_ms,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        client_context='{"custom": {"a": 1}}',
    )


def test_next_blocks_until_an_invocation_is_offered(api: RuntimeAPIServer):
    """/next waits for an invocation, then returns its event and context headers."""
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(r=request(api, "GET", NEXT)))
    thread.start()
    assert [m.kind for m in wait_messages(api, 1)] == ["next"]
    assert thread.is_alive()  # still waiting: nothing offered yet
    deadline_ms = now_ms() + 30_000
    api.offer(invocation(deadline_ms=deadline_ms))
    thread.join(10)
    status, headers, body = result["r"]  # type: ignore[misc]
    assert status == 200 and body == b'{"hello": "world"}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "11111111-2222-3333-4444-555555555555"
    assert headers["Lambda-Runtime-Deadline-Ms"] == str(deadline_ms)
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:fn")
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-5759e988-")
    assert json.loads(headers["Lambda-Runtime-Client-Context"]) == {"custom": {"a": 1}}
    assert "Lambda-Runtime-Cognito-Identity" not in headers


def test_a_response_for_the_current_request_is_accepted_once(api: RuntimeAPIServer):
    """/response is 202 for the offered request id, 400 for another id or a second answer."""
    api.offer(invocation("aaa"))
    path = "/2018-06-01/runtime/invocation/aaa/response"
    assert request(api, "POST", path, b'{"ok": true}')[0] == 202
    assert request(api, "POST", path, b'{"ok": true}')[0] == 400
    assert request(api, "POST", "/2018-06-01/runtime/invocation/bbb/response", b"{}")[0] == 400
    (message,) = wait_messages(api, 1)
    assert (message.kind, message.request_id, message.body) == ("response", "aaa", b'{"ok": true}')


def test_an_error_carries_its_error_type(api: RuntimeAPIServer):
    """/error takes the type from Lambda-Runtime-Function-Error-Type, else from the body."""
    api.offer(invocation("e1"))
    body = json.dumps({"errorType": "KeyError", "errorMessage": "'x'"}).encode()
    assert request(api, "POST", "/2018-06-01/runtime/invocation/e1/error", body)[0] == 202
    api.offer(invocation("e2"))
    assert (
        request(
            api,
            "POST",
            "/2018-06-01/runtime/invocation/e2/error",
            b"not json",
            {"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"},
        )[0]
        == 202
    )
    first, second = wait_messages(api, 2)
    assert (first.kind, first.error_type) == ("error", "KeyError")
    assert (second.kind, second.error_type) == ("error", "Runtime.Unknown")


def test_an_init_error_is_reported(api: RuntimeAPIServer):
    """/init/error is accepted and surfaces with its error type."""
    status, _, _ = request(
        api,
        "POST",
        "/2018-06-01/runtime/init/error",
        b"{}",
        {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
    )
    assert status == 202
    (message,) = wait_messages(api, 1)
    assert (message.kind, message.error_type) == ("init_error", "Runtime.ImportModuleError")


def test_unknown_paths_are_not_found(api: RuntimeAPIServer):
    """Anything outside the Runtime API is a 404, and produces no message."""
    assert request(api, "GET", "/2018-06-01/runtime/restore/next")[0] == 404
    assert request(api, "POST", "/2018-06-01/runtime/invocation/x/other", b"")[0] == 404
    assert api.messages() == []


def test_close_releases_a_waiting_next_call():
    """Closing the server answers a pending /next instead of leaving the runtime hanging."""
    api = RuntimeAPIServer()
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(r=request(api, "GET", NEXT)))
    thread.start()
    wait_messages(api, 1)
    api.close()
    thread.join(10)
    assert not thread.is_alive()
    assert result["r"][0] == 500  # type: ignore[index]
