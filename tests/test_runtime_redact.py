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

from lambda_trace.redact import WITHHELD, _may_trigger, _redact_all, bucket_level, redact

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


# Pieces of what the rules look for, cut short and in other cases, so that generated text puts
# them together in the orders and near-misses a trigger scan could get wrong.
FRAGMENTS = [
    "=", ":", ": ", "=>", "@", "://", "?", "/", "+", "_", "-", ".", '"', "'", " ", "\t", "\n",
    "a", "Z", "0", "9", "x1", "\u212a", "\u017f", "\u0131", "\u0130",  # Kelvin, long s, dotless i
    "pa", "ss", "word", "pass", "Pass", "PWD", "p_w-d", "to", "ken", "Token", "tok.en", "secret",
    "Se_cret", "key", "KEY", "k-ey", "api", "Api", "auth", "AUth", "a_uth", "cookie", "Cookie",
    "credential", "sig", "s.ig", "pin", "otp", "jwt", "session", "Session", "id", "Id", "String",
    "hash", "value", "db", "private", "access", "security",
    "-----BEGIN ", "RSA ", "PRIVATE KEY-----", "-----END PRIVATE KEY-----", "https", "user",
    "arn:aws:s3:::", ":s3:::", "bucket", "arn:aws", "endpoint URL", 'endpoint URL: "http://h/',
    ".s3.", "Bearer", "bearer ", "Basic ", "DIGEST ", "negotiate\t", "Authorization",
    "proxy-", "set-", "x-api-key", "X-Amz-Security-Token", "x-auth-token", "x-csrf-token",
    "AKIA", "ASIA", "ABIA", "ACCA", "IQoJb3JpZ2lu", "FwoGZXIvYXdz", "eyJ", "eyJhbGci", "sk_",
    "live_", "test_", "rk_", "pk_", "whsec_", "ghp_", "gho_", "github_pat_", "xoxb-", "AIza",
    "sk-", "proj-", "ant-", "npm_", "SG.", "glpat-", "ABCDEFGHIJ", "abcdefghij", "0123456789",
    "Ab1/Cd2+", "null", "(withheld)",
]


# One text each rule changes, as the seed of near-misses (cut, a character dropped, doubled or
# in the other case, a fragment put in).
RULE_SEEDS = [
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "https://u:pw@host/p", "redis://:pw@h",
    "u:pw@10.0.0.1",
    "arn:aws:s3:::bucket/key.txt", 'endpoint URL: "https://b.s3.us-east-1.amazonaws.com/k"',
    "endpoint URL https://s3.amazonaws.com/b/k", "/p?a=b", "Bearer abcdefgh12345678",
    "basic dXNlcjpwYXNz1234", "Authorization\n: x", "set-cookie= a", "x-api-key\n:v",
    "X-Csrf-Token\n= 'x", "pin=1234", "a_uth: x", "p_wd=x", "pa_ss:'x'", "SESSION_id=x",
    "apiKey => x", '"tok.en": "x"', "my-secret-value = x", "x_otp:1", "Jwt=x", "sig=x", "Cookie:x",
    "credentials=x", "private.key=x", "AKIAABCDEFGHIJKLMNOP", "ASIA0123456789ABCDEF",
    "IQoJb3JpZ2luABCDEFGHIJKLMNOP", "eyJhbGci.eyJzdWIi.sig", "sk_live_abcdefgh", "rk_test_12345678",
    "whsec_abcdefghijklmnop", "ghp_abcdefghijklmnopqrst", "github_pat_abcdefghijklmnopqrst",
    "xoxb-12345678", "AIza" + "a" * 30, "sk-proj-" + "a" * 20, "npm_" + "a" * 30,
    "SG." + "a" * 16 + "." + "b" * 16, "glpat-" + "a" * 20,
    "AbCdEfGhIj0123456789AbCdEfGhIj01234567+/",
    # case-insensitive rules match these non-ASCII letters as ASCII ones: long s, Kelvin sign
    "ba\u017fic dXNlcjpwYXNz1234", "set-coo\u212aie: x", "negot\u0131ate abcdefgh1234",
]


@st.composite
def near_miss(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(RULE_SEEDS))
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["cut", "drop", "double", "case", "insert", "tail"]))
        if op == "cut":
            text = text[:i]
        elif op == "tail":
            text = text[i:]
        elif op == "drop":
            text = text[:i] + text[i + 1:]
        elif op == "double":
            text = text[:i] + text[i:i + 1] * 2 + text[i + 1:]
        elif op == "case":
            text = text[:i] + text[i:i + 1].swapcase() + text[i + 1:]
        else:
            text = text[:i] + draw(st.sampled_from(FRAGMENTS)) + text[i:]
    return text


@st.composite
def fragment_text(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(
        near_miss(),
        st.sampled_from(FRAGMENTS),
        st.text(alphabet="abcXYZ019/+=_-.:@? ", min_size=1, max_size=8),
        st.text(max_size=6),
    ), max_size=30))
    text = "".join(pieces)
    if draw(st.booleans()):
        text = text * draw(st.integers(1, 3))  # repeats reach a 40-character run
    return text


@settings(max_examples=EXAMPLES * 10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(near_miss(), fragment_text(), ordinary_text(), st.text()))
def test_trigger_scan_never_changes_the_result(text: str) -> None:
    """The scan that skips the rules may only skip text no rule would change."""
    assert redact(text) == _redact_all(text)
    if not _may_trigger(text):
        assert _redact_all(text) == text


@pytest.mark.parametrize("seed", RULE_SEEDS)
def test_every_rule_seed_is_changed_and_found_by_the_scan(seed: str) -> None:
    """The seeds are near-misses only if each one is itself something a rule changes."""
    assert _redact_all(seed) != seed
    assert _may_trigger(seed)
    assert redact(seed) == _redact_all(seed)


@pytest.mark.parametrize("text", [
    "Processing order 496185", "retry 3 of 5: timeout after 30 s", "GET /v1/orders/12 200",
    "2026-11-27T00:00:00.627Z connected to db", "cache miss for user 42; status: ok",
])
def test_ordinary_messages_skip_the_rules(text: str) -> None:
    """What most log lines are: the scan finds nothing, so no rule runs."""
    assert not _may_trigger(text)


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
