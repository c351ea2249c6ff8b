"""``lambda_trace.redact``: every secret shape is withheld, ordinary text passes unchanged.

Property tests generate key/value shapes (key spellings x separators x quoting x surrounding
text) and check the sentinel never survives; a second property generates log text made of
ordinary words, ``key=value`` pairs with non-secret keys, numbers, paths and URLs without
query strings, and checks it comes back byte for byte (no over-redaction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambda_trace.redact import WITHHELD, bucket_level, redact

EXAMPLES = 3000 if os.environ.get("LAMBDA_TRACE_LONG_FUZZ") else 200
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

SECRET_WORDS = [
    "token", "secret", "password", "passwd", "pwd", "api_key", "apikey", "api-key",
    "refresh_token", "client_secret", "id_token", "session_token", "db_password",
    "aws_secret_access_key", "aws_session_token", "access_token", "private_key",
    "SecretString", "SecretAccessKey", "SessionToken", "refreshToken", "clientSecret",
    "dbPassword", "x-api-key", "auth_token", "credentials", "signature", "passphrase",
    "DB_PASSWORD", "STRIPE_SECRET", "GITHUB_TOKEN", "master.key", "signing-key",
    "mytoken", "dbpassword", "apitoken", "passwordHash", "X-Amz-Security-Token",
]
PREFIXES = ["", "my_", "prod-", "app.", "X_", "oauth_"]


@st.composite
def secret_pair(draw: st.DrawFn) -> tuple[str, str]:
    """Text holding one secret value in a key/value shape, and that value."""
    value = "SENT" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789+/_.~-", min_size=4, max_size=40))
    key = draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(SECRET_WORDS))
    shape = draw(st.sampled_from([
        "{k}={v}", "{k}: {v}", "{k}:{v}", '"{k}": "{v}"', '"{k}":"{v}"', "'{k}': '{v}'",
        "{k}='{v}'", '{k}="{v}"', "{k} = {v}", "{k} => {v}", "--{k}={v}", "&{k}={v}",
        '{{"{k}": "{v}", "n": 1}}', "{k}={v};", "({k}={v})",
    ]))
    before = draw(st.sampled_from(["", "error: ", "config ", "{'a': 1, ", "2026-01-01 INFO "]))
    after = draw(st.sampled_from(["", " done", ", retry=3", "}", "\nnext line"]))
    return before + shape.format(k=key, v=value) + after, value


@st.composite
def secret_shape(draw: st.DrawFn) -> tuple[str, str]:
    """A value that is a credential by its shape alone, in a sentence."""
    tail = draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16,
                        max_size=16))
    low = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=24,
                       max_size=30))
    secret = draw(st.sampled_from([
        "AKIA" + tail, "ASIA" + tail, "sk_live_" + low, "rk_test_" + low, "ghp_" + low + "x",
        "github_pat_" + low, "xoxb-" + low, "AIza" + low + "abcdefghij", "sk-proj-" + low,
        "npm_" + low + "abcdefgh", "glpat-" + low, "eyJhbGciOi." * 0 + "eyJ" + low + ".eyJ"
        + low + "." + low, "IQoJb3JpZ2luX2VjE" + low + tail,
        "Ab1/" + (tail + low)[:36],
    ]))
    before = draw(st.sampled_from(["", "key ", "using ", "got '", '"v": "']))
    after = draw(st.sampled_from(["", " now", "'", '"', ", ok"]))
    return before + secret + after, secret


@st.composite
def url_secret(draw: st.DrawFn) -> tuple[str, str]:
    """A URL whose query string or userinfo carries the secret."""
    value = "SENT" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4,
                                  max_size=20))
    scheme = draw(st.sampled_from(["https", "http", "postgres", "postgresql", "mysql", "redis",
                                   "amqp", "mongodb+srv"]))
    form = draw(st.sampled_from([
        "{s}://u:{v}@h.example.com/db", "{s}://:{v}@h:6379/0", "{s}://{v}@h.example.com/",
        "{s}://h.example.com/p?sig={v}", "{s}://h.example.com/p?a=1&X-Amz-Signature={v}",
        "{s}://h.example.com/p?{v}=1", "{s}://h.example.com/?q={v}#frag",
    ]))
    before = draw(st.sampled_from(["", "url: ", 'for url: "', "connect("]))
    return before + form.format(s=scheme, v=value) + draw(st.sampled_from(["", '"', ")"])), value


def _assert_withheld(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out, (text, out)
    assert WITHHELD in out, (text, out)


@PROPERTY
@given(secret_pair())
def test_secret_key_value_pairs_are_withheld(case: tuple[str, str]) -> None:
    _assert_withheld(*case)


@PROPERTY
@given(secret_shape())
def test_credential_shapes_are_withheld(case: tuple[str, str]) -> None:
    _assert_withheld(*case)


@PROPERTY
@given(url_secret())
def test_url_query_strings_and_userinfo_are_withheld(case: tuple[str, str]) -> None:
    _assert_withheld(*case)


ORDINARY_WORDS = [
    "order", "failed", "retry", "after", "connection", "refused", "timed", "out", "Traceback",
    "KeyError:", "ValueError:", "File", '"/var/task/app.py",', "line", "in", "handler",
    "Task", "seconds", "REPORT", "Duration:", "ms", "at", "GET", "POST", "503", "404",
    "Service", "Unavailable", "for", "url:", "https://api.example.com/v1/orders", "/orders/42",
    "dynamodb.GetItem", "s3.PutObject", "(ConditionalCheckFailedException)", "when", "calling",
    "the", "operation:", "The", "conditional", "request", "An", "error", "occurred", "12:30",
    "2026-11-27T04:59:54.283Z", "RequestId:", "aaaaaaaa-bbbb-4ccc-8ddd-000000000001", "-",
    "arn:aws:dynamodb:us-east-1:123456789012:table/orders", "arn:aws:s3:::bucket",
    "Basic", "authentication", "ExpiredTokenException:", "security", "token", "included",
    "is", "expired", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4",
    "user@example.com", "{}", "[]", "{'a':", "1}", "x=1", "y: 2", "SECRET_ROTATION_DAYS=30",
]
ORDINARY_KEYS = ["order_id", "status", "count", "region", "table", "bucket", "attempt",
                 "duration_ms", "retries", "user", "level", "service", "function", "path"]


@st.composite
def ordinary_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(
        st.sampled_from(ORDINARY_WORDS),
        st.builds(lambda k, v, sep: f"{k}{sep}{v}", st.sampled_from(ORDINARY_KEYS),
                  st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(
                      ["ok", "error", "us-east-1", "orders", '"done"', "'x'"])),
                  st.sampled_from(["=", ": ", ":", '": "'])),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
        st.integers(-(10**9), 10**9).map(str),
    ), max_size=25))
    sep = draw(st.sampled_from([" ", "\t", ", ", "\n"]))
    return sep.join(parts)


@PROPERTY
@given(ordinary_text())
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    # the issue's own list (issue 17, item 3)
    ("refresh_token=R1 next", f"refresh_token={WITHHELD} next"),
    ('{"refresh_token": "R2", "n": 1}', f'{{"refresh_token": "{WITHHELD}", "n": 1}}'),
    ("id_token: R3", f"id_token: {WITHHELD}"),
    ("SecretString='R4'", f"SecretString='{WITHHELD}'"),
    ("postgres://u:R5@h/db", f"postgres://{WITHHELD}@h/db"),
    ("http GET user:R6@127.0.0.1", f"http GET {WITHHELD}@127.0.0.1"),
    # S3 object keys reduce to the bucket (item 2)
    ('on resource: "arn:aws:s3:::bkt/u/bob@example.com/f.pdf" because',
     'on resource: "arn:aws:s3:::bkt/*" because'),
    ('Read timeout on endpoint URL: "http://127.0.0.1:5000/bkt/u/bob@example.com/file.pdf"',
     f'Read timeout on endpoint URL: "http://127.0.0.1:5000/bkt/{WITHHELD}"'),
    ('Could not connect to the endpoint URL: "https://bkt.s3.us-east-1.amazonaws.com/u/a.pdf"',
     f'Could not connect to the endpoint URL: "https://bkt.s3.us-east-1.amazonaws.com/{WITHHELD}"'),
    ('Could not connect to the endpoint URL: "https://dynamodb.us-east-1.amazonaws.com/"',
     'Could not connect to the endpoint URL: "https://dynamodb.us-east-1.amazonaws.com/"'),
    # headers
    ("Authorization: AWS4-HMAC-SHA256 Credential=AKIAX/1, Signature=ab12",
     f"Authorization: {WITHHELD}"),
    ("{'Cookie': 'session=abc; theme=dark', 'Host': 'h'}",
     f"{{'Cookie': '{WITHHELD}', 'Host': 'h'}}"),
    ("Bearer eyJhbGciOiJIUzI1NiJ9", f"Bearer {WITHHELD}"),
    # not secrets: left alone
    ("Basic authentication failed", "Basic authentication failed"),
    ("An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: "
     "The security token included in the request is invalid.",
     "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: "
     "The security token included in the request is invalid."),
    ("token_type=Bearer", "token_type=Bearer"),
    ("password=null", "password=null"),
])
def test_examples(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_bucket_level_resources() -> None:
    assert bucket_level("arn:aws:s3:::bkt/u/x@y.z/f.pdf") == "arn:aws:s3:::bkt/*"
    assert bucket_level("arn:aws:s3:::bkt") == "arn:aws:s3:::bkt"
    assert bucket_level("arn:aws:dynamodb:us-east-1:1:table/t") == (
        "arn:aws:dynamodb:us-east-1:1:table/t")


ADVERSARIAL_UNITS = [
    "a.", "x,", "a:", "=", "token=", '"', "'", "a@", "a:b@", "key:", "Ab1/", "http://",
    "arn:aws:s3:::b/", 'endpoint URL: "http://h/', "?a=b", "Bearer ", "Authorization: ",
    "eyJa.", "-----BEGIN RSA PRIVATE KEY-----", "pwd=", '{"token": "', "a_b.c-d:",
]


@pytest.mark.timeout(120)  # a hang guard, not a benchmark: a quadratic pattern needed 260 s here
@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_long_adversarial_texts_are_redacted_without_backtracking_blowup(unit: str) -> None:
    """200 KB of one repeated near-match (the analyzer redacts lines up to 1 MiB)."""
    text = (unit * (200_000 // len(unit) + 1))[:200_000]
    out = redact(text)
    assert len(out) <= len(text) + 200_000


def test_importing_the_module_compiles_nothing() -> None:
    """Cheap to import: no pattern is compiled until the first call (runtime cold start)."""
    code = ("import sys; import lambda_trace.redact as r; "
            "print(json.dumps([bool(r._state), bool(r._rules)]))")
    done = subprocess.run([sys.executable, "-c", "import json; " + code],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [False, False]
