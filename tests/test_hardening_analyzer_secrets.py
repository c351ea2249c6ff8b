"""Secrets in a log never reach a report: terminal, JSON, Markdown, HTML, nor ``events``.

A log written the way real functions write it (the runtime's ``[ERROR]`` line, a Python
traceback, ``logger.error`` with a header dump, an older lambda-trace's records, an S3
AccessDenied) carries a unique sentinel in every secret-bearing form ``lambda_trace.redact``
covers. The real CLI runs in a subprocess; every output is searched for every sentinel raw,
URL-quoted, base64 and JSON-escaped, and the non-secret context around each one must still be
there (the report is redacted, not emptied).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.parse
import uuid
from pathlib import Path

import pytest

RID = "aaaaaaaa-bbbb-4ccc-8ddd-0000000000a1"
RID2 = "aaaaaaaa-bbbb-4ccc-8ddd-0000000000a2"
RID3 = "aaaaaaaa-bbbb-4ccc-8ddd-0000000000a3"


def sentinel(tag: str) -> str:
    return f"SENT{tag}{uuid.uuid4().hex[:12]}"


def secret_log(tmp_path: Path) -> tuple[Path, list[str]]:
    """A failed, a denied and a timed-out invocation; the sentinels planted in them."""
    s = {k: sentinel(k) for k in (
        "query", "stripe", "bearer", "cookie", "dbpw", "refresh", "client", "pgpw", "userinfo",
        "email", "s3key", "secretstring", "awssecret", "ghp", "apikeyhdr", "annot", "dim",
        "inflight", "recmsg")}
    stripe = f"sk_live_{s['stripe']}"
    ghp = f"ghp_{s['ghp']}abcdefghij"
    report = ("REPORT RequestId: {}\tDuration: {}\tBilled Duration: 1000 ms\t"
              "Memory Size: 128 MB\tMax Memory Used: 50 MB\t{}")

    def rec(**fields: object) -> str:
        return json.dumps({"lambda_trace": 1, "function_name": "orders", **fields})

    emf = {
        "_aws": {"Timestamp": 1795000000000, "CloudWatchMetrics": [{
            "Namespace": "LambdaTrace", "Dimensions": [["service"]],
            "Metrics": [{"Name": "Errors", "Unit": "Count"}]}]},
        "service": f"payments password={s['dim']}", "Errors": 1,
    }
    lines = [
        f"START RequestId: {RID} Version: $LATEST",
        # the runtime's own [ERROR] line with a URL's query string (issue 11 §4)
        f"[ERROR] HTTPError: 503 Server Error: Service Unavailable for url: "
        f"https://pay.example.com/charge/ord-1006?api_key={stripe}&currency=EUR&t={s['query']}"
        f"\nTraceback (most recent call last):\n"
        f'  File "/var/task/app.py", line 74, in handler\n'
        f'    connect("postgres://app:{s["pgpw"]}@db.internal:5432/orders")\n'
        f'  File "/var/task/app.py", line 12, in connect\n'
        f"    raise HTTPError(url)",
        f"2026-11-27T04:59:54.100Z\t{RID}\t[ERROR]\tupstream refused: headers "
        f"{{'Authorization': 'Bearer {s['bearer']}', 'Cookie': 'session={s['cookie']}', "
        f"'X-Api-Key': '{s['apikeyhdr']}'}} db_password={s['dbpw']} "
        f"refresh_token={s['refresh']} client_secret: {s['client']} token {ghp}",
        rec(type="call", request_id=RID, name=f"http GET user:{s['userinfo']}@127.0.0.1",
            kind="http", start_ms=1.0, duration_ms=500.0, status="error", error_class="server",
            error_code="503", method="GET", host=f"user:{s['userinfo']}@127.0.0.1",
            path="/charge"),
        rec(type="invocation", request_id=RID, cold_start=False, duration_ms=900.0,
            status="error", error_type="HTTPError",
            error_message=f"GetSecretValue gave SecretString='{s['secretstring']}' "
                          f"aws_secret_access_key={s['recmsg']}",
            annotations={"note": f"token={s['annot']}"},
            calls={f"http GET user:{s['userinfo']}@127.0.0.1": {
                "count": 1, "total_ms": 500.0, "max_ms": 500.0, "errors": 1}}),
        json.dumps(emf),
        f"END RequestId: {RID}",
        report.format(RID, "900.00 ms", "Status: error\tError Type: Runtime.Unknown"),
        f"START RequestId: {RID2} Version: $LATEST",
        f"[ERROR] ClientError: An error occurred (AccessDenied) when calling the GetObject "
        f"operation: User: arn:aws:sts::123456789012:assumed-role/orders-role/orders is not "
        f"authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::invoices-bkt/u/"
        f"{s['email']}@example.com/{s['s3key']}.pdf\" because no identity-based policy allows "
        f"the s3:GetObject action",
        f"[ERROR] ReadTimeoutError: Read timeout on endpoint URL: \"http://127.0.0.1:5000/"
        f"invoices-bkt/u/{s['email']}@example.com/{s['s3key']}.pdf\" "
        f"(key wJalrXUtnFEMI/K7MDENG/bPxRfiCY{s['awssecret'][-10:]})",
        f"END RequestId: {RID2}",
        report.format(RID2, "300.00 ms", "Status: error\tError Type: Runtime.Unknown"),
        f"START RequestId: {RID3} Version: $LATEST",
        rec(type="timeout_warning", request_id=RID3, elapsed_ms=900.0, remaining_ms=100.0,
            timeout_ms=1000.0, calls={},
            in_flight=[{"name": f"http POST u:{s['inflight']}@api.example.com", "kind": "http",
                        "running_ms": 899.0}]),
        f"END RequestId: {RID3}",
        report.format(RID3, "1000.00 ms", "Status: timeout"),
        f"2026-11-27T04:59:54.283Z {RID3} Task timed out after 1.00 seconds",
    ]
    log = tmp_path / "secrets.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    planted = [v for k, v in s.items() if k != "awssecret"]
    planted += [stripe, ghp, f"wJalrXUtnFEMI/K7MDENG/bPxRfiCY{s['awssecret'][-10:]}"]
    return log, planted


def variants(secret: str) -> set[str]:
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        json.dumps(secret)[1:-1],
    }


def assert_clean(text: str, planted: list[str], where: str) -> None:
    for secret in planted:
        for variant in variants(secret):
            at = text.find(variant)
            assert at < 0, f"{where}: secret leaked: …{text[max(0, at - 150):at + 60]}…"


def cli(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "lambda_trace", *argv], capture_output=True, text=True,
        encoding="utf-8", timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


@pytest.mark.parametrize("fmt", ["terminal", "json", "markdown", "html"])
def test_no_planted_secret_reaches_any_report_format(tmp_path: Path, fmt: str) -> None:
    log, planted = secret_log(tmp_path)
    if fmt == "html":
        page = tmp_path / "report.html"
        done = cli("analyze", "--no-progress", "--html", str(page), str(log))
        out = page.read_text(encoding="utf-8")
    else:
        done = cli("analyze", "--no-progress", "--format", fmt, str(log))
        out = done.stdout
    assert_clean(out + done.stderr, planted, fmt)
    # Redacted, not emptied: the context of each message is still reported.
    for context in ("charge/ord-1006", "HTTPError", "s3:GetObject", "invoices-bkt", "timeout"):
        assert context in out, f"{fmt}: {context!r} missing from the report"
    assert "(withheld)" in out


def test_no_planted_secret_reaches_events(tmp_path: Path) -> None:
    log, planted = secret_log(tmp_path)
    done = cli("events", str(log))
    assert_clean(done.stdout + done.stderr, planted, "events")
    events = [json.loads(line) for line in done.stdout.splitlines()]
    denied = [e for e in events if e["type"] == "access_denied"]
    assert denied and denied[0]["resource"] == "arn:aws:s3:::invoices-bkt/*"
    errors = [e for e in events if e["type"] == "error"]
    assert any("https://pay.example.com/charge/ord-1006?(withheld)" in (e["message"] or "")
               for e in errors)
    calls = [e for e in events if e["type"] == "call"]
    assert calls[0]["name"] == "http GET (withheld)@127.0.0.1"


# -- property: generated secret shapes, planted where log text enters, in all four formats ------

import os  # noqa: E402
import re  # noqa: E402

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_runtime_redact import secret_pair, secret_shape, url_secret  # noqa: E402

from lambda_trace.analyzer.cli import main  # noqa: E402

PLACES = [
    # the runtime's [ERROR] line of an unhandled exception, with its traceback
    lambda text: f"[ERROR] RuntimeError: {text}\nTraceback (most recent call last):\n"
                 f'  File "/var/task/app.py", line 3, in handler',
    # a logger.error line of the handler
    lambda text: f"2026-11-27T04:59:54.100Z\t{RID}\t[ERROR]\tValueError: {text}",
    # an older lambda-trace's invocation record
    lambda text: json.dumps({"lambda_trace": 1, "type": "invocation", "request_id": RID,
                             "cold_start": False, "duration_ms": 5.0, "status": "error",
                             "error_type": "RuntimeError", "error_message": text,
                             "calls": {}, "annotations": {}}),
    # an AccessDenied message
    lambda text: f"[ERROR] ClientError: An error occurred (AccessDenied) when calling the "
                 f"GetObject operation: {text}",
]


def _needle(value: str) -> str:
    """The longest run of letters and digits of the secret: what escaping cannot disguise."""
    return max(re.findall(r"[A-Za-z0-9]+", value), key=len, default="")


def _reports(folder: Path, text: str, place: int) -> dict[str, str]:
    """The four formats of a report on one failed invocation whose log carries ``text``."""
    log = folder / "app.log"
    log.write_text("\n".join([
        f"START RequestId: {RID} Version: $LATEST", PLACES[place](text), f"END RequestId: {RID}",
        f"REPORT RequestId: {RID}\tDuration: 5.00 ms\tBilled Duration: 6 ms\tMemory Size: 128 "
        "MB\tMax Memory Used: 50 MB\tStatus: error\tError Type: Runtime.Unknown",
    ]) + "\n", encoding="utf-8")
    outputs = {}
    for fmt in ("terminal", "json", "markdown"):
        assert main(["analyze", "--no-progress", "--format", fmt, "-o",
                     str(folder / f"r.{fmt}"), str(log)]) == 0
        outputs[fmt] = (folder / f"r.{fmt}").read_text(encoding="utf-8")
    assert main(["analyze", "--no-progress", "--format", "json", "-o", os.devnull,
                 "--html", str(folder / "r.html"), str(log)]) == 0
    outputs["html"] = (folder / "r.html").read_text(encoding="utf-8")
    return outputs


# The same report with a harmless text, one per place: a needle Hypothesis draws can be an
# ordinary word of the report itself (the HTML page's script says "Descript"), which is no leak.
_BASELINES: dict[int, dict[str, str]] = {}


@settings(max_examples=int(os.environ.get("LAMBDA_TRACE_SECRET_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=st.one_of(secret_pair(), secret_shape(), url_secret()),
       place=st.sampled_from(range(len(PLACES))))
@example(case=("token=SENT/Descript", "SENT/Descript"), place=1)  # a word of the HTML page
def test_generated_secrets_reach_no_report_format(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str], place: int
) -> None:
    text, value = case
    needle = _needle(value)
    if len(needle) < 8:
        return  # too short to tell a leak from ordinary report text
    folder = tmp_path_factory.mktemp("secret")
    if place not in _BASELINES:
        _BASELINES[place] = _reports(tmp_path_factory.mktemp("baseline"), "nothing here", place)
    baseline = _BASELINES[place]
    for fmt, out in _reports(folder, text, place).items():
        assert out.count(needle) <= baseline[fmt].count(needle), (
            fmt, text, out[max(0, out.find(needle) - 200):][:400])
