"""Specification of ``lambda-trace analyze``: logs in, report out, CI gate exit codes."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Optional

import pytest

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.cloudwatch import AWS_EXIT_CODE

ROOT = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_GATE_FAILED, EXIT_USAGE = 0, 1, 2


def record(rid: str, type_: str, **fields: Any) -> str:
    return json.dumps({"lambda_trace": 1, "type": type_, "request_id": rid,
                       "timestamp": "2026-11-27T05:00:00.000Z", **fields})


def invocation_lines(
    rid: str, *, duration: float = 120.0, memory: int = 256, used: int = 90,
    init: Optional[float] = None, calls: tuple[tuple[str, float, float], ...] = (),
    timeout_s: Optional[float] = None, extra: tuple[str, ...] = (),
) -> list[str]:
    """What Lambda and @trace write for one invocation, as a plain (no envelope) copy."""
    lines = [f"START RequestId: {rid} Version: $LATEST"]
    for name, start, dur in calls:
        lines.append(record(rid, "call", name=name, kind="aws", start_ms=start, duration_ms=dur,
                            status="ok"))
    lines.extend(extra)
    lines.append(f"END RequestId: {rid}")
    billed = math.ceil(duration + (init or 0))
    report = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: {billed} ms"
              f"\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t")
    if init is not None:
        report += f"Init Duration: {init:.2f} ms\t"
    if timeout_s is not None:
        report += "Status: timeout"
    lines.append(report)
    if timeout_s is not None:
        lines.append(f"2026-11-27T05:00:03.000Z {rid} Task timed out after {timeout_s:.2f} seconds")
    return lines


def write_log(path: Path, *, get_item_ms: float = 8.0, timeouts: int = 0, errors: int = 0,
              n: int = 20) -> Path:
    lines: list[str] = []
    for i in range(n):
        calls = tuple(("dynamodb.GetItem", k * (get_item_ms + 1), get_item_ms) for k in range(6))
        calls += (("s3.GetObject", 60.0, 40.0),)
        extra: tuple[str, ...] = ()
        if i < errors:
            extra = ("[ERROR] KeyError: 'order_id'\rTraceback (most recent call last):\r"
                     "\u00a0\u00a0File \"/var/task/app.py\", line 31, in handler\r",)
        lines += invocation_lines(f"0000{i:04d}-aaaa-4bbb-8ccc-{i:012d}",
                                  init=300.0 if i == 0 else None, calls=calls, extra=extra,
                                  duration=100.0 + 6 * get_item_ms)
    for i in range(timeouts):
        lines += invocation_lines(f"ffff{i:04d}-aaaa-4bbb-8ccc-{i:012d}", duration=3000.0,
                                  timeout_s=3.0)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def analyze_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["analyze", "--no-progress", "--format", "json", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_analyze_joins_platform_lines_and_records_into_a_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log with START/END/REPORT and call records gives invocations and dependencies."""
    code, report = analyze_json(capsys, str(write_log(tmp_path / "f.log")))
    assert code == EXIT_OK
    assert report["invocations"] == 20 and report["cold_starts"] == 1
    deps = {d["name"]: d for d in report["dependencies"]}
    assert deps["dynamodb.GetItem"]["calls"] == 120
    assert deps["dynamodb.GetItem"]["p50_ms"] == pytest.approx(8.0, rel=0.01)
    assert deps["s3.GetObject"]["calls"] == 20
    kinds = {f["kind"] for f in report["findings"]}
    assert {"n_plus_one", "slow_dependency", "cold_start"} <= kinds


def test_fail_on_a_found_kind_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--fail-on timeout`` fails the gate when a timeout is found, and says why on stderr."""
    log = str(write_log(tmp_path / "f.log", timeouts=1))
    code = main(["analyze", "--no-progress", "--format", "json", "--fail-on",
                 "timeout,out_of_memory", log])
    err = capsys.readouterr().err
    assert code == EXIT_GATE_FAILED
    assert err.startswith("lambda-trace: gate failed: 1 timeout finding(s)")


def test_fail_on_a_kind_that_is_not_found_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate passes when none of the listed kinds is reported."""
    code, _ = analyze_json(capsys, "--fail-on", "timeout", str(write_log(tmp_path / "f.log")))
    assert code == EXIT_OK


@pytest.mark.parametrize(("limit", "expected"), [("100", EXIT_GATE_FAILED),
                                                 ("1000", EXIT_OK)])
def test_max_p95_ms_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: str,
                         expected: int) -> None:
    """Invocations of ~148 ms fail a 100 ms p95 budget and pass a 1000 ms one."""
    code, report = analyze_json(capsys, "--max-p95-ms", limit, str(write_log(tmp_path / "f.log")))
    assert report["duration_ms"]["p95"] == pytest.approx(148.0, rel=0.01)
    assert code == expected


@pytest.mark.parametrize(("rate", "expected"), [("5%", EXIT_GATE_FAILED), ("0.2", EXIT_OK)])
def test_max_error_rate_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: str,
                             expected: int) -> None:
    """2 errors in 20 invocations (10%) fail a 5% budget and pass a 20% one."""
    code, report = analyze_json(capsys, "--max-error-rate", rate,
                                str(write_log(tmp_path / "f.log", errors=2)))
    assert report["errors"] == 2 and report["error_rate"] == 0.1
    assert code == expected


def test_unknown_fail_on_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelt kind is refused before anything is read."""
    with pytest.raises(SystemExit) as exc:
        main(["analyze", "--fail-on", "timeouts", "x.log"])
    assert exc.value.code == EXIT_USAGE
    assert "unknown finding kind 'timeouts'" in capsys.readouterr().err


def test_unreadable_file_is_one_error_line(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A missing input gives exit 2 and a single line on stderr, no traceback."""
    code = main(["analyze", "--no-progress", str(tmp_path / "missing.log")])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("lambda-trace: error:")
    assert "Traceback" not in err


def test_bad_time_window_is_one_error_line(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable --since is refused with one line."""
    code = main(["analyze", "--no-progress", "--since", "yesterday-ish",
                 str(write_log(tmp_path / "f.log"))])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.count("\n") == 1 and "Traceback" not in err


def test_missing_credentials_are_one_error_line(tmp_path: Path) -> None:
    """Reading CloudWatch without credentials fails with one clear line and exit 3 (AWS)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": "us-east-1"})
    done = subprocess.run(
        [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", "--function", "f",
         "--endpoint-url", "http://127.0.0.1:9"],
        capture_output=True, text=True, env=env, timeout=60, cwd=ROOT,
    )
    assert done.returncode == AWS_EXIT_CODE, done.stderr
    assert done.stderr.count("\n") == 1 and "credentials" in done.stderr.lower()


def test_outputs_to_files_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o`` writes the chosen format, ``--html`` a page; stdout stays empty."""
    log = str(write_log(tmp_path / "f.log"))
    md, page = tmp_path / "r.md", tmp_path / "r.html"
    code = main(["analyze", "--no-progress", "--format", "markdown", "-o", str(md),
                 "--html", str(page), log])
    assert code == EXIT_OK and capsys.readouterr().out == ""
    assert md.read_text().startswith("# lambda-trace report")
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "Content-Security-Policy" in html


def test_unwritable_output_is_one_error_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A report that cannot be written is a clear error, not a traceback."""
    code = main(["analyze", "--no-progress", "-o", str(tmp_path / "no" / "dir" / "r.txt"),
                 str(write_log(tmp_path / "f.log"))])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.startswith("lambda-trace: error: cannot write")


def test_baseline_from_a_saved_report_flags_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GetItem p95 of 8 ms in the saved report and 20 ms now is a latency regression."""
    before = tmp_path / "before.json"
    code = main(["analyze", "--no-progress", "--format", "json", "-o", str(before),
                 str(write_log(tmp_path / "before.log", get_item_ms=8.0))])
    assert code == EXIT_OK
    now = str(write_log(tmp_path / "now.log", get_item_ms=20.0))
    code, report = analyze_json(capsys, "--baseline", str(before), "--fail-on",
                                "latency_regression", now)
    assert code == EXIT_GATE_FAILED
    regressions = [f for f in report["findings"] if f["kind"] == "latency_regression"]
    assert "dynamodb.GetItem" in {f["subject"] for f in regressions}
    row = next(r for r in report["baseline"]["comparison"] if r["name"] == "dynamodb.GetItem")
    assert row["baseline_p95_ms"] == pytest.approx(8.0, rel=0.01)
    assert row["p95_ms"] == pytest.approx(20.0, rel=0.01)


def test_baseline_from_a_log_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A plain log file works as a baseline too."""
    before = str(write_log(tmp_path / "before.log", get_item_ms=8.0))
    now = str(write_log(tmp_path / "now.log", get_item_ms=8.0))
    code, report = analyze_json(capsys, "--baseline", before, now)
    assert code == EXIT_OK
    assert not [f for f in report["findings"] if f["kind"] == "latency_regression"]
    assert report["baseline"]["invocations"] == 20


def test_bad_baseline_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A baseline that is neither a file nor a window (or a window without a log group) fails."""
    log = str(write_log(tmp_path / "f.log"))
    for spec, expected in (("nope.json", "not a window"), ("2d..1d", "needs --function")):
        code = main(["analyze", "--no-progress", "--baseline", spec, log])
        err = capsys.readouterr().err
        assert code == EXIT_USAGE and expected in err and err.count("\n") == 1


def test_empty_input_reports_no_invocations(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """An empty log is a no_invocations finding, which a gate can fail on."""
    empty = tmp_path / "empty.log"
    empty.write_text("")
    code, report = analyze_json(capsys, "--fail-on", "no_invocations", str(empty))
    assert code == EXIT_GATE_FAILED
    assert [f["kind"] for f in report["findings"]] == ["no_invocations"]


def test_stdin_through_the_real_entry_point(tmp_path: Path) -> None:
    """``python -m lambda_trace analyze -`` reads stdin and exits with the gate's code."""
    text = write_log(tmp_path / "f.log", timeouts=2).read_text()
    done = subprocess.run(
        [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", "--format",
         "markdown", "--fail-on", "timeout", "-"],
        input=text, capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == EXIT_GATE_FAILED
    assert "### HIGH · timeout" in done.stdout
    assert "gate failed: 1 timeout finding(s)" in done.stderr


def test_cloudwatch_log_group_on_moto(moto: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Logs in a (moto) CloudWatch log group are read with --function, with a baseline window."""
    logs = moto.client("logs")
    group, stream = "/aws/lambda/orders", "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000) - 60_000
    lines = invocation_lines("11111111-2222-4333-8444-555555555555",
                             calls=(("sqs.SendMessage", 1.0, 12.0),))
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now + i, "message": line + "\n"} for i, line in enumerate(lines)])
    code, report = analyze_json(capsys, "--function", "orders", "--endpoint-url", moto.endpoint,
                                "--since", "1h", "--baseline", "3h..2h")
    assert code == EXIT_OK
    assert report["invocations"] == 1
    assert report["dependencies"][0]["name"] == "sqs.SendMessage"
    # The baseline window (two to three hours ago) of the same log group holds nothing.
    assert report["baseline"]["label"] == "3h..2h" and report["baseline"]["invocations"] == 0
    row = report["baseline"]["comparison"][1]
    assert (row["name"], row["baseline_p95_ms"], row["count"]) == ("sqs.SendMessage", None, 1)


def test_a_broken_gzip_input_is_noted_on_stderr(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A source's note (here: a gzip stream that breaks off) is printed on stderr."""
    import gzip

    data = gzip.compress(write_log(tmp_path / "f.log").read_bytes())
    broken = tmp_path / "f.log.gz"
    broken.write_bytes(data[: len(data) // 2])
    code = main(["analyze", "--no-progress", "--format", "json", str(broken)])
    out, err = capsys.readouterr()
    assert code == EXIT_OK and json.loads(out)["schema"] == "lambda-trace/analyze"
    assert "lambda-trace: " in err and "gzip data ends or breaks" in err
    assert "Traceback" not in err


def test_skipped_lines_are_summed_up_on_stderr_when_the_report_does_not_show_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --format json the footer's ``Skipped:`` line goes to stderr; the terminal report
    carries it itself, so stderr stays quiet."""
    path = write_log(tmp_path / "f.log", n=2)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"lambda_trace": 1, "type": "call", broken\n')
    code = main(["analyze", "--no-progress", "--format", "json", str(path)])
    err = capsys.readouterr().err
    assert code == EXIT_OK
    assert err.startswith("lambda-trace: Skipped: ") and "malformed JSON" in err
    assert main(["analyze", "--no-progress", str(path)]) == EXIT_OK
    out, err = capsys.readouterr()
    assert "Skipped: " in out and err == ""
