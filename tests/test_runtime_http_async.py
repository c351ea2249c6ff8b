"""httpx (sync and async) and aiohttp against the loopback server: one call per request."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
import pytest
from runtime_support import assert_all_valid

from lambda_trace import trace
from lambda_trace.testing import FakeContext, capture

# These tests read the lines of ordinary calls: write every one (the default keeps only
# those of the invocations that matter).
pytestmark = pytest.mark.usefixtures("every_call_line")


SECRET = "SENTINEL-7f3a9c"


def run_sync(handler):
    with capture() as cap:
        result = handler({}, FakeContext())
    assert_all_valid(cap)
    return cap, result


def run_async(handler):
    with capture() as cap:
        result = asyncio.run(handler({}, FakeContext()))
    assert_all_valid(cap)
    return cap, result


def test_httpx_client_is_one_call_per_request(http_server):
    @trace
    def handler(event, context):
        with httpx.Client() as client:
            ok = client.get(f"{http_server.url}/v1/orders/42/items?token={SECRET}").status_code
            missing = client.post(f"{http_server.url}/status/404", json={"card": SECRET})
            return ok, missing.status_code

    cap, statuses = run_sync(handler)
    assert statuses == (200, 404)
    first, second = cap.calls
    assert (first["name"], first["route"], first["http_status"]) == (
        "http GET 127.0.0.1/v1/orders/{id}/items", "/v1/orders/{id}/items", 200)
    assert (second["name"], second["error_class"], second["status"]) == (
        "http POST 127.0.0.1/status/{id}", "not_found", "error")
    assert SECRET not in "\n".join(cap.lines)


def test_httpx_async_client_in_tasks(http_server):
    @trace
    async def handler(event, context):
        async with httpx.AsyncClient() as client:
            responses = await asyncio.gather(
                *(client.get(f"{http_server.url}/sleep/{20 + i}") for i in range(4)))
        return [r.status_code for r in responses]

    cap, statuses = run_async(handler)
    assert statuses == [200] * 4
    summary = cap.invocations[0]["calls"]
    assert summary == {"http GET 127.0.0.1/sleep/{id}": summary["http GET 127.0.0.1/sleep/{id}"]}
    assert summary["http GET 127.0.0.1/sleep/{id}"]["n"] == 4
    inv = cap.invocations[0]
    # four overlapping calls of >= 20 ms: the union is at least 20 ms, counted once
    assert inv["duration_ms"] - inv["self_ms"] >= 20


def test_httpx_connect_error_is_network():
    from db_servers import free_port

    port = free_port()

    @trace
    def handler(event, context):
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/x")

    cap, _ = run_sync(handler)
    [call] = cap.calls
    assert (call["error_class"], call["error_code"]) == ("network", "ConnectError")


def test_aiohttp_session_requests(http_server):
    @trace
    async def handler(event, context):
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{http_server.url}/users/7?key={SECRET}") as response:
                await response.read()
                ok = response.status
            async with session.put(f"{http_server.url}/status/503", data=SECRET) as response:
                failed = response.status
            tasks = [asyncio.create_task(session.get(f"{http_server.url}/ping")) for _ in range(3)]
            for response in await asyncio.gather(*tasks):
                response.release()
        return ok, failed

    cap, statuses = run_async(handler)
    assert statuses == (200, 503)
    summary = cap.invocations[0]["calls"]
    assert summary["http GET 127.0.0.1/users/{id}"]["n"] == 1
    assert summary["http PUT 127.0.0.1/status/{id}"].get("err", 0) == 1
    assert summary["http GET 127.0.0.1/ping"]["n"] == 3
    put = next(c for c in cap.calls if c["method"] == "PUT")
    assert put["error_class"] == "server" and put["http_status"] == 503
    assert SECRET not in "\n".join(cap.lines)


def test_aiohttp_base_url_and_userinfo(http_server):
    @trace
    async def handler(event, context):
        base = f"http://user:{SECRET}@127.0.0.1:{http_server.port}"
        async with aiohttp.ClientSession(base_url=base) as session, session.get(
            "/reports/2026-12-01"
        ) as response:
            return response.status

    cap, status = run_async(handler)
    assert status == 200
    [call] = cap.calls
    assert (call["host"], call["route"]) == ("127.0.0.1", "/reports/{id}")
    assert SECRET not in "\n".join(cap.lines)


def test_outside_an_invocation_nothing_is_recorded(http_server):
    async def outside():
        async with aiohttp.ClientSession() as session, session.get(http_server.url) as response:
            await response.read()
        async with httpx.AsyncClient() as client:
            await client.get(http_server.url)

    @trace
    def handler(event, context):
        return None

    with capture() as cap:
        handler({}, FakeContext())
        asyncio.run(outside())
        httpx.get(http_server.url)
    assert cap.calls == []
