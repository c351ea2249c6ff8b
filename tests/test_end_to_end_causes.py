"""Real handlers, traced for real, then analyzed: the report names the cause a person would.

Each handler runs under ``@trace`` (defaults: only the lines of invocations that matter) with
real clients against the loopback HTTP server; its lines, framed by the START/END/REPORT lines
Lambda writes and the runtime's ``[ERROR]`` line for an unhandled exception (the Python
runtime's format, docs/formats.md), are analyzed as a log file.
"""

from __future__ import annotations

import json
import logging
import math
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from lambda_trace import trace
from lambda_trace.analyzer.cli import main
from lambda_trace.testing import FakeContext, invoke


class LambdaLogFormat(logging.Handler):
    """The Python runtime's log lines: ``[LEVEL]\ttimestamp\trequest id\tmessage`` and the
    traceback of ``logger.exception`` after it (docs/formats.md)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.request_id = ""

    def emit(self, record: logging.LogRecord) -> None:
        text = f"[{record.levelname}]\t2026-12-03T10:00:00.000Z\t{self.request_id}\t"
        text += record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        self.lines.append(text)


APP_LOG = LambdaLogFormat()
logging.getLogger("checkout").addHandler(APP_LOG)
logging.getLogger("checkout").propagate = False


def lambda_log(handler: Callable[..., Any], events: list[Any]) -> str:
    """What CloudWatch would hold for these invocations of ``handler``."""
    out = []
    for event in events:
        rid = str(uuid.uuid4())
        out.append(f"START RequestId: {rid} Version: $LATEST")
        APP_LOG.request_id, APP_LOG.lines = rid, []
        captured = invoke(handler, event, FakeContext(aws_request_id=rid,
                                                      function_name="checkout",
                                                      memory_limit_in_mb="10240"))
        out.extend(APP_LOG.lines)
        out.extend(captured.lines)
        if captured.error is not None:
            err = captured.error
            out.append(f"[ERROR] {type(err).__name__}: {err}\nTraceback (most recent call last):\n"
                       f'  File "/var/task/app.py", line 12, in handler\n'
                       f"    response.raise_for_status()")
        duration = captured.invocations[0]["duration_ms"]
        out.append(f"END RequestId: {rid}")
        out.append(f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: "
                   f"{math.ceil(duration)} ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\t")
    return "\n".join(out) + "\n"


def report_of(text: str, tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "checkout.log"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["analyze", str(path), "--format", "json", "-o", str(out), "--no-progress"]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_an_upstream_503_is_the_dependencys_failure_not_a_code_bug(
    http_server: Any, tmp_path: Path
) -> None:
    session = requests.Session()

    @trace
    def handler(event: Any, context: Any) -> Any:
        response = session.get(f"{http_server.url}/status/{event['status']}")
        response.raise_for_status()  # the usual way a 503 becomes the invocation's exception
        return {"statusCode": 200}

    report = report_of(lambda_log(handler, [{"status": 200}] * 8 + [{"status": 503}] * 2),
                       tmp_path)
    assert report["invocations"] == 10 and report["errors"] == 2
    kinds = [f["kind"] for f in report["findings"]]
    assert "code_error" not in kinds, kinds
    [dependency] = [f for f in report["findings"] if f["kind"] == "dependency_error"]
    assert dependency["subject"] == "http GET 127.0.0.1/status/{id}"
    assert dependency["evidence"]["error_class"] == "server"
    assert dependency["evidence"]["count"] == 2


def test_a_returned_502_counts_as_a_failure_and_a_handled_exception_does_not(
    http_server: Any, tmp_path: Path
) -> None:
    log = logging.getLogger("checkout")

    @trace
    def handler(event: Any, context: Any) -> Any:
        try:
            requests.get(f"{http_server.url}/status/500", timeout=2).raise_for_status()
        except requests.HTTPError:
            log.exception("payment service failed; answering from the cache")
        return {"statusCode": event["answer"]}

    text = lambda_log(handler, [{"answer": 200}] * 3 + [{"answer": 502}])
    assert text.count("Traceback (most recent call last)") == 4  # logged by every invocation
    report = report_of(text, tmp_path)
    assert report["invocations"] == 4
    assert report["errors"] == 1  # the 502 returned, not the exceptions caught and logged


@pytest.mark.parametrize("secret", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"])
def test_the_report_never_repeats_a_secret_from_a_failing_url(
    http_server: Any, tmp_path: Path, secret: str
) -> None:
    @trace
    def handler(event: Any, context: Any) -> Any:
        url = f"{http_server.url}/status/503?api_key={secret}&currency=EUR"
        requests.get(url, timeout=2).raise_for_status()

    text = lambda_log(handler, [{}])
    assert secret in text  # the runtime's own [ERROR] line repeats the URL, as Lambda's does
    path = tmp_path / "checkout.log"
    path.write_text(text, encoding="utf-8")
    for fmt in ("json", "terminal", "markdown"):
        out = tmp_path / f"report.{fmt}"
        assert main(["analyze", str(path), "--format", fmt, "-o", str(out),
                     "--no-progress"]) == 0
        assert secret not in out.read_text(encoding="utf-8"), fmt
    html = tmp_path / "report.html"
    assert main(["analyze", str(path), "--html", str(html), "-o", str(tmp_path / "x.json"),
                 "--format", "json", "--no-progress"]) == 0
    assert secret not in html.read_text(encoding="utf-8")
