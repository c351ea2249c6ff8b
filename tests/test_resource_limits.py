"""The ``resource_limit`` finding: errors that name a Lambda execution-environment quota.

Every pattern is tried on real lines of tests/data/field/resource_limits.log (provenance:
tests/data/field/PROVENANCE.md); the analyzer is run end to end on that file as a user would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import jsonschema
import pytest

from lambda_trace.analyzer import findings
from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.findings.limits import resource_limits
from lambda_trace.analyzer.resource_limits import LIMITS, classify, classify_event

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "tests" / "data" / "field" / "resource_limits.log"
MESSY = ROOT / "tests" / "data" / "corpus" / "messy.log"


def line(number: int, path: Path = LOG) -> str:
    """Line ``number`` (1-based) of a corpus file, as stored."""
    return path.read_text(encoding="utf-8").split("\n")[number - 1]


# (line of resource_limits.log, error type the line carries or None, expected quota)
REAL_LINES = [
    (23, None, "ephemeral_storage"),   # OSError: [Errno 28] No space left on device: '/tmp/…'
    (24, "IOError", "ephemeral_storage"),  # python2.7: "[Errno 28] … : IOError"
    (38, "Error", "ephemeral_storage"),  # Node: "errorMessage": "ENOSPC: no space left …"
    (39, None, "ephemeral_storage"),   # Node: "code": "ENOSPC"
    (115, None, "ephemeral_storage"),  # java.io.IOException: No space left on device
    (46, "OSError", "file_descriptors"),  # "[Errno 24] Too many open files: OSError"
    (60, None, "file_descriptors"),   # OSError: [Errno 24] Too many open files
    (61, "GetParameterError", "file_descriptors"),  # a wrapper carrying Errno 24
    (68, "Error", "file_descriptors"),  # Node: listen EMFILE /tmp/server-….sock
    (93, None, "threads"),            # RuntimeError: can't start new thread
    (100, None, "threads"),
    (114, "error", "threads"),        # Python 2: error: can't start new thread
    (117, "java.lang.OutOfMemoryError", "threads"),  # JDK 10+: unable to create native thread
]
RUNTIME_ERRORS = ROOT / "tests" / "data" / "field" / "runtime_errors.log"
# (line of runtime_errors.log, error type, quota): the runtime could not post a response > 6 MB
PAYLOAD_LINES = [
    (1, None, "response_payload"),  # LAMBDA_RUNTIME Failed to post … Http response code: 413.
    (3, None, "response_payload"),  # "errorMessage": "Exceeded maximum allowed payload size …"
    (4, None, "response_payload"),  # "errorType": "RequestEntityTooLarge"
    (6, None, "response_payload"),
    (13, "LambdaRuntimeError", "response_payload"),  # an error tracker's summary of the same
]


@pytest.mark.parametrize(("number", "error_type", "quota"), REAL_LINES,
                         ids=[f"line{n}" for n, _, _ in REAL_LINES])
def test_each_pattern_on_its_real_line(number: int, error_type: Optional[str],
                                       quota: str) -> None:
    text = line(number)
    hit = classify(error_type, text)
    assert hit is not None, text
    assert hit.limit == quota
    assert hit.text == text


@pytest.mark.parametrize(("number", "error_type", "quota"), PAYLOAD_LINES,
                         ids=[f"line{n}" for n, _, _ in PAYLOAD_LINES])
def test_the_response_payload_quota_on_its_real_lines(number: int, error_type: Optional[str],
                                                      quota: str) -> None:
    text = line(number, RUNTIME_ERRORS)
    hit = classify(error_type, text)
    assert hit is not None and hit.limit == quota, text


def test_the_sdks_payload_error_on_invoke_is_not_the_response_quota() -> None:
    # faultline#12: this function's own async Invoke of another one was refused
    text = line(121)
    assert "RequestEntityTooLargeException" in text
    assert classify("RequestEntityTooLargeException", text) is None


def test_every_quota_is_matched_by_some_real_line() -> None:
    found = {q for _, _, q in REAL_LINES} | {q for _, _, q in PAYLOAD_LINES}
    assert found == {limit.key for limit in LIMITS}


def test_the_message_is_read_with_the_type_not_the_type_alone() -> None:
    # Powertools' GetParameterError is a parameter problem unless its message names the quota.
    message = re.search(r'"errorMessage": "([^"]*)"', line(61))
    assert message is not None
    hit = classify("GetParameterError", message.group(1))
    assert hit is not None and hit.limit == "file_descriptors"
    assert classify("GetParameterError", "Parameter /app/db not found") is None
    # OSError and RuntimeError are not quotas by themselves.
    assert classify("OSError", "[Errno 2] No such file or directory: '/tmp/x'") is None
    assert classify("RuntimeError", "dictionary changed size during iteration") is None


def test_other_real_errors_are_not_quotas() -> None:
    assert classify("IOError", line(47, MESSY).split(": ", 1)[1]) is None  # cannot identify image
    assert line(47, MESSY) == "IOError: cannot identify image file"
    for number in (1, 36, 83):  # a logger.exception text, Node's label line, a frame
        assert classify(None, line(number)) is None, line(number)


def test_a_logged_exception_is_read_from_the_tracebacks_last_line() -> None:
    event = {"error_type": "OSError", "message": "error during policy execution",
             "stack": [line(n) for n in range(3, 24)]}
    hit = classify_event(event)
    assert hit is not None and hit.limit == "ephemeral_storage"
    assert hit.text == line(23)


def _error(error_type: str, message: str, stack: list[str]) -> dict[str, Any]:
    return {"type": "error", "request_id": None, "timestamp_ms": None, "log_stream": None,
            "error_type": error_type, "message": message, "stack": stack, "runtime": "python",
            "unhandled": True}


def test_the_aggregate_keeps_quota_errors_out_of_the_code_errors() -> None:
    agg = Aggregator()
    frames = [line(n) for n in range(47, 60)]  # streamalert#587's traceback
    agg.add_orphan(_error("OSError", "[Errno 24] Too many open files", [*frames, line(60)]))
    agg.add_orphan(_error("IOError", "cannot identify image file", frames))
    assert [key for key, *_ in agg.resource_limits.items()] == [
        ("file_descriptors", "OSError", "payload.py:206 in _download_object")]
    assert [key for key, *_ in agg.error_groups.items()] == [
        ("IOError", "payload.py:206 in _download_object")]
    found = findings.find_all(agg)
    assert [(f.kind, f.subject) for f in found] == [
        ("resource_limit", "file descriptors"), ("code_error",
                                                 "IOError at payload.py:206 in _download_object")]
    (limit,) = resource_limits(agg, findings.Thresholds(), None)
    assert limit.evidence["setting"] is None
    assert limit.evidence["count"] == 1
    assert "close" in limit.advice and "warm invocations" in limit.advice


def test_tmp_advice_names_the_setting_and_why_files_accumulate() -> None:
    agg = Aggregator()
    agg.add_orphan(_error("OSError", line(23).split(": ", 1)[1], []))
    (finding,) = resource_limits(agg, findings.Thresholds(), None)
    assert finding.evidence["limit"] == "ephemeral_storage"
    assert finding.evidence["setting"] == "EphemeralStorage.Size"
    assert "10240" in finding.advice and "warm invocations" in finding.advice
    assert "TemporaryDirectory" in finding.advice and "stream" in finding.advice


def _analyze(path: Path, fmt: str, *extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "lambda_trace", "analyze", str(path), "--format", fmt, *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_analyze_end_to_end_reports_each_quota_once_and_no_code_error(tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    report = json.loads(_analyze(LOG, "json", "--html", str(html)))
    schema = (ROOT / "lambda_trace" / "analyzer" / "render" / "assets" / "report.schema.json")
    jsonschema.validate(report, json.loads(schema.read_text(encoding="utf-8")))
    limits = {f["evidence"]["limit"]: f for f in report["findings"]
              if f["kind"] == "resource_limit"}
    assert {k: f["subject"] for k, f in limits.items()} == {
        "ephemeral_storage": "/tmp storage",
        "file_descriptors": "file descriptors",
        "threads": "threads and processes",
    }
    assert limits["ephemeral_storage"]["evidence"]["setting"] == "EphemeralStorage.Size"
    assert limits["ephemeral_storage"]["evidence"]["error_type"] == "OSError"
    assert limits["file_descriptors"]["evidence"]["top_frame"] == \
        "payload.py:206 in _download_object"
    assert limits["threads"]["evidence"]["message"] == "can't start new thread"
    # No code_error repeats them: every error in the file is one of the quotas.
    assert [f for f in report["findings"] if f["kind"] == "code_error"] == []
    assert report["error_groups"] == []
    for finding in report["findings"]:
        if finding["kind"] != "resource_limit":
            assert classify(None, json.dumps(finding["evidence"])) is None, finding
    page = html.read_text(encoding="utf-8")
    assert "resource_limit" in page and "EphemeralStorage" in page
    for fmt in ("terminal", "markdown"):
        text = _analyze(LOG, fmt)
        assert "resource_limit" in text, fmt
        assert "/tmp storage" in text and "file descriptors" in text, fmt


def test_the_messy_corpus_init_error_is_the_tmp_quota_not_a_code_error() -> None:
    assert line(49, MESSY) == "module initialization error: [Errno 28] No space left on device"
    report = json.loads(_analyze(MESSY, "json"))
    kinds = [(f["kind"], f["evidence"].get("message")) for f in report["findings"]]
    assert ("resource_limit", line(49, MESSY)) in kinds
    assert all(m != line(49, MESSY) for k, m in kinds if k == "code_error")


# -- the pasted shapes the parser reads for these blocks -----------------------------------------


def _errors(first: int, last: int) -> list[dict[str, Any]]:
    from lambda_trace.analyzer.model import LogEvent
    from lambda_trace.analyzer.parse import Parser

    lines = LOG.read_text(encoding="utf-8").split("\n")[first - 1:last]
    events = Parser().iter_events(LogEvent(message=text) for text in lines)
    return [e for e in events if e["type"] == "error"]


def test_parse_node_uncaught_exception_whose_json_starts_on_the_label_line() -> None:
    (error,) = _errors(36, 45)  # linter-bot#158: "Uncaught Exception \t{" then the document
    assert (error["error_type"], error["message"]) == (
        "Error", "ENOSPC: no space left on device, write")
    assert error["request_id"] == "2ed893a5-d030-4467-bc26-4cf34d666c7e"
    assert error["stack"] == ["Error: ENOSPC: no space left on device, write"]


def test_parse_a_bare_traceback_is_the_error_its_last_line_names() -> None:
    (error,) = _errors(94, 100)  # sentry-python#2741
    assert (error["error_type"], error["message"]) == ("RuntimeError", "can't start new thread")
    assert error["stack"][0] == "  < ... omitted ... >"
    assert error["stack"][-1] == line(100)


def test_parse_a_traceback_from_its_first_frame_on() -> None:
    (error,) = _errors(83, 93)  # raven-python-lambda#38: the header is not in the paste
    assert (error["error_type"], error["message"]) == ("RuntimeError", "can't start new thread")
    assert error["stack"][0] == line(83)
    assert len(error["stack"]) == 11


def test_parse_a_response_object_pasted_without_its_opening_brace() -> None:
    (error,) = _errors(61, 67)  # powertools-lambda-python#4003
    assert error["error_type"] == "GetParameterError"
    assert error["message"].endswith("[Errno 24] Too many open files")
    assert error["stack"][-1] == "    raise GetParameterError(str(exc))"  # frames split


def test_a_database_servers_full_disk_is_not_the_functions_tmp() -> None:
    for number in (119, 120):  # PostgreSQL's own disk, passed on to its client
        assert "No space left on device" in line(number)
        assert classify(None, line(number)) is None, line(number)
        assert classify("OperationalError", line(number)) is None
