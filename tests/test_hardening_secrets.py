"""No secret a handler touches ever reaches lambda-trace's output: records, EMF, warnings, errors.

Each handler carries a unique sentinel through a real moto server or a loopback HTTP server, and
everything written to file descriptors 1 and 2 (the default stdout sink and stderr) is searched.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable

import pytest
import requests
import urllib3

from lambda_trace import trace
from lambda_trace.testing import FakeContext, validate_emf, validate_record

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")


def sentinel() -> str:
    return f"SENTINEL{uuid.uuid4().hex}"


def run_and_collect(
    handler: Callable[[Any, Any], Any], capfd: Any, *, expect_error: bool = False, **ctx: Any
) -> tuple[Any, str]:
    """Invoke once under the default stdout sink; return the result and everything written."""
    capfd.readouterr()
    result: Any = None
    try:
        result = handler({}, FakeContext(**ctx))
    except Exception as exc:
        assert expect_error, repr(exc)
        result = exc
    else:
        assert not expect_error
    out, err = capfd.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "nothing was written"
    for line in lines:
        obj = json.loads(line)
        if "_aws" in obj:
            validate_emf(obj)
        else:
            validate_record(obj)
    return result, out + err


def assert_absent(secret: str, text: str) -> None:
    variants = {secret, urllib.parse.quote(secret), base64.b64encode(secret.encode()).decode()}
    for variant in variants:
        assert variant not in text, (
            f"secret leaked: ...{text[max(0, text.find(variant) - 200) :][:400]}"
        )


# -- AWS: secret values through moto -----------------------------------------------------------


def test_secrets_manager_value(moto: Any, capfd: Any) -> None:
    """GetSecretValue's SecretString and a ParamValidationError echoing a value are not written."""
    secret = sentinel()
    sm = moto.client("secretsmanager")
    sm.create_secret(Name="db-password", SecretString=secret)

    @trace
    def handler(event: Any, context: Any) -> Any:
        value = sm.get_secret_value(SecretId="db-password")["SecretString"]
        # botocore's ParamValidationError echoes the value of a parameter of the wrong type
        with contextlib.suppress(Exception):
            sm.get_secret_value(SecretId="db-password", VersionStage=[value])  # type: ignore[arg-type]
        return value == secret

    result, text = run_and_collect(handler, capfd)
    assert result is True
    assert '"target":"db-password"' in text
    assert_absent(secret, text)


def test_secrets_manager_error_escaping_the_handler(moto: Any, capfd: Any) -> None:
    """A botocore validation error carrying the secret, raised by the handler, is scrubbed."""
    secret = sentinel()
    sm = moto.client("secretsmanager")

    @trace
    def handler(event: Any, context: Any) -> Any:
        sm.create_secret(Name="x", SecretString=[secret])  # type: ignore[arg-type]

    exc, text = run_and_collect(handler, capfd, expect_error=True)
    assert secret in str(exc)  # the handler's exception itself is untouched
    assert '"error_type":"ParamValidationError"' in text
    assert_absent(secret, text)


def test_ssm_secure_string_and_a_validation_exception_echoing_it(moto: Any, capfd: Any) -> None:
    """GetParameter(WithDecryption) values and moto's ValidationException text stay out."""
    secret = sentinel()
    ssm = moto.client("ssm")
    ssm.put_parameter(Name="/app/token", Value=secret, Type="SecureString")

    @trace
    def handler(event: Any, context: Any) -> Any:
        value = ssm.get_parameter(Name="/app/token", WithDecryption=True)["Parameter"]["Value"]
        ssm.get_parameters(Names=[value] * 11)  # over the limit of 10: moto echoes the names

    exc, text = run_and_collect(handler, capfd, expect_error=True)
    assert exc.response["Error"]["Code"] == "ValidationException"
    assert secret in str(exc)  # moto echoes the value: our output must not
    assert '"error_class":"validation"' in text
    assert_absent(secret, text)


def test_kms_decrypt(moto: Any, capfd: Any) -> None:
    """KMS Decrypt's plaintext, and a failing Decrypt, are not written."""
    secret = sentinel()
    kms = moto.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=secret.encode())["CiphertextBlob"]

    @trace
    def handler(event: Any, context: Any) -> Any:
        plain = kms.decrypt(CiphertextBlob=blob)["Plaintext"].decode()
        with contextlib.suppress(Exception):  # not a ciphertext: InvalidCiphertextException
            kms.decrypt(CiphertextBlob=plain.encode())
        return plain == secret

    result, text = run_and_collect(handler, capfd)
    assert result is True
    assert_absent(secret, text)


def test_sts_assume_role(moto: Any, capfd: Any) -> None:
    """AssumeRole's credentials and the ExternalId never appear."""
    secret = sentinel()
    sts = moto.client("sts")
    creds: dict[str, str] = {}

    @trace
    def handler(event: Any, context: Any) -> Any:
        out = sts.assume_role(
            RoleArn="arn:aws:iam::123456789012:role/reader",
            RoleSessionName="session",
            ExternalId=secret,
        )
        creds.update(out["Credentials"])
        return True

    run_and_collect(handler, capfd)
    _, text = run_and_collect(handler, capfd)
    assert '"target":"role/reader"' in text
    assert_absent(secret, text)
    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        assert_absent(creds[key], text)


# -- HTTP: Authorization headers and tokens in query strings ----------------------------------


def _urllib3(url: str, token: str) -> int:
    return (
        urllib3.PoolManager()
        .request("GET", url, headers={"Authorization": f"Bearer {token}"})
        .status
    )


def _requests(url: str, token: str) -> int:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code


def _http_client(url: str, token: str) -> int:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", f"{parts.path}?{parts.query}", headers={"Authorization": f"Bearer {token}"})
    status = conn.getresponse().status
    conn.close()
    return status


def _urllib_request(url: str, token: str) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


CLIENTS = [_urllib3, _requests, _http_client, _urllib_request]


@pytest.mark.parametrize("client", CLIENTS, ids=lambda f: f.__name__.lstrip("_"))
def test_http_authorization_and_query_tokens(client: Any, http_server: Any, capfd: Any) -> None:
    """Headers and query strings are never written, for 200s and 404s alike."""
    secret = sentinel()

    @trace
    def handler(event: Any, context: Any) -> Any:
        ok = client(f"{http_server.url}/items?token={secret}&x=1", secret)
        missing = client(f"{http_server.url}/status/404?api_key={secret}", secret)
        return ok, missing

    result, text = run_and_collect(handler, capfd)
    assert result == (200, 404)
    assert any(secret in r.get("Authorization", "") for r in http_server.requests)
    assert '"route":"/items"' in text
    assert_absent(secret, text)


def test_http_errors_raised_by_the_handler_are_scrubbed(http_server: Any, capfd: Any) -> None:
    """requests' HTTPError names the URL with its query string: the record's message does not."""
    secret = sentinel()

    @trace
    def handler(event: Any, context: Any) -> Any:
        response = requests.get(f"{http_server.url}/status/403?token={secret}", timeout=5)
        response.raise_for_status()

    exc, text = run_and_collect(handler, capfd, expect_error=True)
    assert secret in str(exc)
    assert "403 Client Error" in text
    assert_absent(secret, text)


def test_connection_errors_raised_by_the_handler_are_scrubbed(capfd: Any) -> None:
    """urllib3's MaxRetryError echoes the URL: the query string is withheld."""
    secret = sentinel()

    @trace
    def handler(event: Any, context: Any) -> Any:
        pool = urllib3.PoolManager(retries=urllib3.Retry(0))
        pool.request("GET", f"http://127.0.0.1:9/p?sig={secret}", headers={"X-Api-Key": secret})

    exc, text = run_and_collect(handler, capfd, expect_error=True)
    assert secret in str(exc)
    assert '"error_class":"network"' in text
    assert_absent(secret, text)


def test_warnings_written_while_a_secret_bearing_call_is_in_flight(
    http_server: Any, capfd: Any
) -> None:
    """A timeout_warning and a memory_warning during a call with secrets name no secret."""
    secret = sentinel()

    # The warning is due 200 ms in, while the 600 ms call is surely in flight.
    @trace(timeout_margin_ms=800, memory_warning_ratio=0.01, memory_poll_ms=5)
    def handler(event: Any, context: Any) -> Any:
        return _urllib3(f"{http_server.url}/sleep/600?token={secret}", secret)

    result, text = run_and_collect(handler, capfd, timeout_ms=1000, memory_limit_in_mb="64")
    assert result == 200
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    types = {r.get("type") for r in records}
    assert {"timeout_warning", "memory_warning"} <= types
    warning = next(r for r in records if r.get("type") == "timeout_warning")
    in_flight = [c["name"] for c in warning["in_flight"]]
    assert in_flight == ["http GET 127.0.0.1/sleep/{id}"], json.dumps(warning)
    assert_absent(secret, text)


def test_aws_warnings_and_errors_with_a_secret_in_flight(
    moto: Any, http_server: Any, capfd: Any
) -> None:
    """A secret fetched, then a slow call, a timeout warning and a failing call: nothing leaks."""
    secret = sentinel()
    sm = moto.client("secretsmanager")
    sm.create_secret(Name="api", SecretString=secret)

    @trace(timeout_margin_ms=950, memory_warning_ratio=0.01, memory_poll_ms=5)
    def handler(event: Any, context: Any) -> Any:
        value = sm.get_secret_value(SecretId="api")["SecretString"]
        _urllib3(f"{http_server.url}/sleep/200?token={value}", value)
        time.sleep(0.01)
        sm.put_secret_value(SecretId="missing-" + value[:4], SecretString=value)

    exc, text = run_and_collect(
        handler, capfd, expect_error=True, timeout_ms=1000, memory_limit_in_mb="64"
    )
    assert exc.response["Error"]["Code"] == "ResourceNotFoundException"
    assert '"type":"timeout_warning"' in text
    assert_absent(secret, text)
