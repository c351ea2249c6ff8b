"""No credential, id or object key in a recorded host or route, in any HTTP client.

Regression tests of issue 17 items 1 and 2 (path part): a basic-auth password in a URL once
became a call name, a summary key and an EMF dimension; a presigned URL's path and botocore's
own traffic with ``LAMBDA_TRACE_AWS=0`` once wrote S3 object keys.
"""

from __future__ import annotations

import base64
import http.client
import json
import urllib.parse
import urllib.request

import httpx
import pytest
import requests
from runtime_support import assert_all_valid, python

from lambda_trace import trace
from lambda_trace._patches._url import http_route, route, strip_userinfo
from lambda_trace.testing import FakeContext, capture

# These tests read the lines of ordinary calls: write every one (the default keeps only
# those of the invocations that matter).
pytestmark = pytest.mark.usefixtures("every_call_line")


SECRET = "S3CRETpw9x"


def forms(secret: str) -> list[str]:
    """The sentinel raw, URL-quoted and base64 (basic auth sends it so)."""
    basic = base64.b64encode(f"user:{secret}".encode()).decode()
    return [secret, urllib.parse.quote(secret), basic]


def assert_absent(secret: str, text: str) -> None:
    for form in forms(secret):
        assert form not in text, f"{form!r} leaked"


def run(handler):
    with capture() as cap:
        try:
            result = handler({}, FakeContext())
        except Exception as exc:
            result = exc
    assert_all_valid(cap)
    return cap, result


def test_http_client_host_with_userinfo_is_stripped(http_server):
    netloc = urllib.parse.urlsplit(f"http://user:{SECRET}@127.0.0.1:{http_server.port}/ok").netloc

    @trace
    def handler(event, context):
        conn = http.client.HTTPConnection(netloc, timeout=2)
        try:
            conn.request("GET", "/ok")
            return conn.getresponse().status
        except OSError as exc:  # "user:...@127.0.0.1" is no resolvable name
            return type(exc).__name__
        finally:
            conn.close()

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["host"] == "127.0.0.1" and call["name"] == "http GET 127.0.0.1/ok"
    assert_absent(SECRET, "\n".join(cap.lines))


def test_urllib_userinfo_invalid_url_message_is_withheld(http_server):
    @trace
    def handler(event, context):
        return urllib.request.urlopen(f"http://user:{SECRET}@127.0.0.1/", timeout=2)

    cap, result = run(handler)
    assert type(result).__name__ == "InvalidURL" and SECRET in str(result)  # what it echoes
    [inv] = cap.invocations
    assert inv["error_type"] == "InvalidURL" and inv["error_class"] == "validation"
    assert_absent(SECRET, "\n".join(cap.lines))


@pytest.mark.parametrize("client", ["requests", "httpx"])
def test_userinfo_in_url_never_recorded(http_server, client):
    url = f"http://user:{SECRET}@127.0.0.1:{http_server.port}/accounts/1234"

    @trace
    def handler(event, context):
        if client == "requests":
            return requests.get(url, timeout=5).status_code
        return httpx.get(url).status_code

    cap, status = run(handler)
    assert status == 200
    [call] = cap.calls
    assert (call["host"], call["route"]) == ("127.0.0.1", "/accounts/{id}")
    assert_absent(SECRET, "\n".join(cap.lines))


def test_presigned_s3_url_fetched_with_requests_keeps_the_bucket_only(moto):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="reports")
    key = f"u/alice@example.com/{SECRET}.pdf"
    s3.put_object(Bucket="reports", Key=key, Body=b"pdf")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "reports", "Key": key})

    @trace
    def handler(event, context):
        return requests.get(url, timeout=10).status_code

    cap, status = run(handler)
    assert status == 200
    [call] = [c for c in cap.calls if c["kind"] == "http"]
    assert call["route"] == "/reports/{key}"
    assert_absent(SECRET, "\n".join(cap.lines))


def test_botocore_traffic_with_aws_patch_off_writes_no_keys(moto):
    """LAMBDA_TRACE_AWS=0: botocore's requests are plain urllib3 calls, keys withheld."""
    code = f"""
        import boto3
        from lambda_trace import trace
        from lambda_trace.testing import FakeContext

        s3 = boto3.client("s3", endpoint_url={moto.endpoint!r}, region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")

        @trace
        def handler(event, context):
            s3.put_object(Bucket="bkt", Key="u/bob@example.com/{SECRET}.pdf", Body=b"x")
            s3.get_object(Bucket="bkt", Key="u/bob@example.com/{SECRET}.pdf")["Body"].read()

        handler({{}}, FakeContext())
    """
    result = python(code, env={"LAMBDA_TRACE_AWS": "0"})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    calls = [r for r in records if r.get("type") == "call"]
    assert [c["kind"] for c in calls] == ["http", "http"]
    assert {c["route"] for c in calls} == {"/bkt/{key}"}
    assert_absent(SECRET, result.stdout + result.stderr)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "/"),
        ("/v1/orders/123/items", "/v1/orders/{id}/items"),
        ("/users/550e8400-e29b-41d4-a716-446655440000", "/users/{id}"),
        ("/blobs/deadbeefcafebabe0123", "/blobs/{id}"),
        ("/reset/eyJhbGciOiJIUzI1NiJ9abcdefgh", "/reset/{id}"),  # a token-like segment
        ("/u/alice@example.com/x", "/u/{id}/x"),
        ("/a/b/c/d/e", "/a/b/c/*"),
        ("/search/hello%20world", "/search/{id}"),
        ("/v2.1/health", "/v2.1/health"),
    ],
)
def test_route_templates(path, expected):
    assert route(path) == expected


@pytest.mark.parametrize(
    ("host", "path", "query", "expected"),
    [
        ("bkt.s3.us-east-1.amazonaws.com", "/u/alice/file.pdf", "", "/{key}"),
        ("s3.eu-west-1.amazonaws.com", "/bkt/u/alice/file.pdf", "", "/bkt/{key}"),
        ("127.0.0.1", "/bkt/a/b.pdf", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab",
         "/bkt/{key}"),
        ("files.example", "/a/b.pdf", "AWSAccessKeyId=AK&Signature=x&Expires=1", "/a/{key}"),
        ("api.example", "/a/b", "page=2", "/a/b"),
    ],
)
def test_object_storage_routes(host, path, query, expected):
    assert http_route(host, path, query) == expected


def test_an_error_message_with_a_url_loses_its_userinfo():
    from lambda_trace._errors import describe_exception

    class LocationParseError(ValueError):  # urllib3's, raised by name here
        pass

    exc = LocationParseError(f"Failed to parse: http://user:{SECRET}@exa mple.com/x")
    described = describe_exception(exc)
    assert SECRET not in (described["error_message"] or "")
    assert "http://(withheld)@" in (described["error_message"] or "")  # (lambda_trace.redact)


def test_strip_userinfo():
    assert strip_userinfo("user:pw@host") == "host"
    assert strip_userinfo("a@b:pw@host") == "host"
    assert strip_userinfo("host") == "host"
