"""open_sources reads every input a user has, in any envelope, as the right CloudWatch events.

Expected counts and messages were checked by hand against the corpus files (see
tests/data/corpus/PROVENANCE.md for what each file is).
"""

# ruff: noqa: E501  -- expected values are exact corpus lines, kept whole to compare by eye
from __future__ import annotations

import argparse
import gzip
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

import pytest
from testdata import CORPUS, ENVELOPES

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.sources import SourceStats, open_sources
from lambda_trace.analyzer.timestamps import iso_to_ms
from lambda_trace.cli.argtypes import size as parse_size
from lambda_trace.cli.sources import add_source_arguments


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    return parser.parse_args([*argv, "--no-progress"])


def read(*argv: str, stats: Optional[SourceStats] = None) -> list[LogEvent]:
    return list(open_sources(parse(*argv), stats if stats is not None else SourceStats()))


TAIL_STREAM_1 = "2026/01/07/[$LATEST]8fe741cb1a354837b4c60dfd3ca55f7a"
TAIL_STREAM_2 = "2026/01/07/[$LATEST]25947f9cb15441ee9e09c8af9d068dff"
SAM_STREAM_1 = "2023/07/05/[56]374cd7798d2a4e36a494a23d658b9741"
SAM_STREAM_2 = "2025/02/20/[$LATEST]4eaf8445ba7a4a93b999cb17fbfbecd8"
FLE_STREAM_1 = "2019/06/19/[$LATEST]c3ad5cef73594c73806b88d5d3939a98"
FLE_STREAM_2 = "2019/06/18/[$LATEST]3d49e0e66d9843e5ba3b09e28d846d5f"

# file -> (count, first (message, timestamp, stream, group), last (...))
ENVELOPE_EXPECTATIONS: dict[str, tuple[int, tuple[Any, ...], tuple[Any, ...]]] = {
    "aws_logs_tail.txt": (
        16,
        (
            "INIT_START Runtime Version: python:3.11.v109      Runtime Version ARN: "
            "arn:aws:lambda:us-east-1::runtime:49f733259c7ce7e0deee75ff91c6afe35c7d58b04ed300f32701216263b4590c",
            iso_to_ms("2026-01-07T14:32:04.611Z"),
            TAIL_STREAM_1,
            None,
        ),
        (
            "Starting change stream listener...",
            iso_to_ms("2026-01-07T14:33:47.824Z"),
            TAIL_STREAM_2,
            None,
        ),
    ),
    "cloudwatch_events_boto3.jsonl": (
        6,
        (
            '{"time":"2024-06-17T17:23:55.826Z","type":"platform.report","record":{"requestId":'
            '"40f6c622-67a3-4159-97f2-ce364a0cb7a8","metrics":{"durationMs":18.593,"billedDurationMs":19,'
            '"memorySizeMB":2048,"maxMemoryUsedMB":246},"status":"success"}}',
            1718645035826,
            None,
            None,
        ),
        (
            '{"timestamp": "2024-06-18T02:07:06Z", "level": "ERROR", "message": "had an error", "logger": '
            '"climate.aws", "stackTrace": ["  File \\"/app/climate/aws.py\\", line 128, in log_json\\n    '
            'raise Exception(\'with some text\')\\n"], "errorType": "Exception", "errorMessage": '
            '"with some text", "requestId": "b16742c9-fc88-48cd-b49a-da83582e3929", "location": '
            '"/app/climate/aws.py:log_json:130", "event": {"do-action": "log-json", "action-args": []}, '
            '"context": {"aws_request_id": "b16742c9-fc88-48cd-b49a-da83582e3929", "log_group_name": '
            '"/aws/lambda/stax-residuals-func-rsyringmeld", "log_stream_name": '
            '"2024/06/18/[$LATEST]227e6c26d73f4f61a661350d72d3e7e9", "function_name": '
            '"stax-residuals-func-rsyringmeld", "memory_limit_in_mb": "2048", "function_version": "$LATEST", '
            '"invoked_function_arn": "arn:aws:lambda:us-east-2:637423305257:function:'
            'stax-residuals-func-rsyringmeld", "remaining_time": 51486}}\n',
            1718676426000,
            None,
            None,
        ),
    ),
    "console_copy_json_format.txt": (
        8,
        (
            '{"time":"2026-10-08T07:30:27.768Z","type":"platform.initStart","record":{"initializationType":'
            '"on-demand","phase":"init","runtimeVersion":"nodejs:22.mainline.v122","runtimeVersionArn":'
            '"arn:aws:lambda:eu-central-1::runtime:775dab0d220a0b97f3ec34fe1692d7a07b5d13049153b00f03204c9543bd69e4",'
            '"functionName":"tenner-notifier","functionVersion":"$LATEST","instanceId":'
            '"2026/10/08/tenner-notifier[$LATEST]22be53a8cfde4e68b844f8ec293b2543","instanceMaxMemory":268435456}}',
            iso_to_ms("2026-10-08T07:30:27.768Z"),
            None,
            None,
        ),
        (
            '{"time":"2026-10-08T07:30:42.149Z","type":"platform.report","record":{"requestId":'
            '"f0c9f58b-8ebe-4e84-a656-95eb6eee865a","metrics":{"durationMs":1072.145,"billedDurationMs":1073,'
            '"memorySizeMB":256,"maxMemoryUsedMB":125},"status":"success"}}',
            iso_to_ms("2026-10-08T07:30:42.149Z"),
            None,
            None,
        ),
    ),
    "filter_log_events_2019.json": (
        265,
        (
            "REPORT RequestId: 69594c41-8463-4f69-b9b4-ff6c49813475\tDuration: 89.34 ms\tBilled Duration: 100 ms "
            "\tMemory Size: 128 MB\tMax Memory Used: 111 MB\t\n",
            1560948335625,
            FLE_STREAM_1,
            None,
        ),
        (
            "START RequestId: 7f40524d-0171-473f-bb7d-3e2a07c19b97 Version: $LATEST\n",
            1560843935413,
            FLE_STREAM_2,
            None,
        ),
    ),
    "get_log_events.json": (
        5,
        (
            "START RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf Version: $LATEST\n",
            1559763003171,
            None,
            None,
        ),
        (
            "REPORT RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\tDuration: 26.73 ms\tBilled Duration: 27 ms "
            "\tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n",
            1559763003218,
            None,
            None,
        ),
    ),
    "invoke_responses.txt": (
        12,
        ("Test Event Name", None, None, None),
        (
            "Calling the invoke API action failed with this message: Lambda was unable to decrypt the environment "
            "variables because KMS access was denied. Please check the function's KMS key settings. KMS Exception: "
            "AccessDeniedExceptionKMS Message: The ciphertext refers to a customer master key that does not exist, "
            "does not exist in this region, or you are not allowed to access.",
            None,
            None,
            None,
        ),
    ),
    "lambda_console_function_logs.txt": (
        54,
        ("Function Logs", None, None, None),
        ("Request ID", None, None, None),
    ),
    "logs_insights_export.json": (
        4,
        (
            "START RequestId: 4299ee26-8d1d-4ea9-bd43-77b85ed96cfe Version: $LATEST\n",
            iso_to_ms("2023-10-20T16:27:46.827Z"),
            None,
            None,
        ),
        (
            "REPORT RequestId: 4299ee26-8d1d-4ea9-bd43-77b85ed96cfe\tDuration: 31012.52 ms\tBilled Duration: 31000 ms"
            "\tMemory Size: 128 MB\tMax Memory Used: 109 MB\t\n",
            iso_to_ms("2023-10-20T16:28:17.840Z"),
            None,
            None,
        ),
    ),
    "logs_insights_table.md": (
        7,
        (
            "[NR_EXT] Sent 1/1 New Relic Telemetry payload batches with 1 log events successfully with certainty "
            "in 150.996ms (150ms to transmit 0.4kB).",
            iso_to_ms("2025-07-18T09:45:55.990Z"),
            None,
            "/aws/lambda/my-rust-lambda",
        ),
        (
            "[NR_EXT] New Relic Extension shutting down after 2 events",
            iso_to_ms("2025-07-18T09:40:55.828Z"),
            None,
            "/aws/lambda/my-rust-lambda",
        ),
    ),
    "sam_logs.txt": (
        54,
        (
            "RESTORE_START Runtime Version: java:11.v21\tRuntime Version ARN: "
            "arn:aws:lambda:us-east-1::runtime:156ab0dc268a6b4a8dedcbcf0974795cafba2ee8760fe386062fffdbb887b971",
            iso_to_ms("2023-07-05T10:16:34.013Z"),
            SAM_STREAM_1,
            None,
        ),
        (
            "REPORT RequestId: bed25b38-d012-42e7-ba28-f272535fb80e  Duration: 2450.99 ms   Billed Duration: 2692 ms "
            "Memory Size: 256 MB     Max Memory Used: 74 MB  Init Duration: 240.05 ms\n"
            "XRAY TraceId: 1-63f3807f-5dbcb9910c96f50742707542       SegmentId: 16b362cd5f52cba0",
            iso_to_ms("2025-09-20T14:15:30.680Z"),
            SAM_STREAM_2,
            None,
        ),
    ),
    "subscription_filter_payload.txt": (
        1,
        (
            "REPORT RequestId: 6234bffe-149a-b642-81ff-2e8e376d8aff\tDuration: 46.84 ms\tBilled Duration: 47 ms "
            "\tMemory Size: 192 MB\tMax Memory Used: 72 MB\t\n",
            1552518348220,
            "2019/03/13/[$LATEST]94fa867e5374431291a7fc14e2f56ae7",
            "/aws/lambda/echo-nodejs",
        ),
        None,
    ),
    "up_logs.jsonl": (
        2,
        (
            "REPORT RequestId: fb63a8b6-599d-11e8-a437-911ac44bc0b4\tDuration: 18018.26 ms\tBilled Duration: 18000 ms "
            "\tMemory Size: 512 MB\tMax Memory Used: 82 MB\t",
            iso_to_ms("2018-05-17T06:46:28Z"),
            None,
            None,
        ),
        (
            "2018-05-17T06:46:28.161Z fb63a8b6-599d-11e8-a437-911ac44bc0b4 Task timed out after 18.02 seconds",
            iso_to_ms("2018-05-17T06:46:28Z"),
            None,
            None,
        ),
    ),
}


def as_tuple(event: LogEvent) -> tuple[Any, ...]:
    return (event.message, event.timestamp_ms, event.log_stream, event.log_group)


def test_every_corpus_envelope_file_has_an_expectation() -> None:
    """No envelope file in the corpus goes untested."""
    assert sorted(p.name for p in ENVELOPES.iterdir()) == sorted(ENVELOPE_EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(ENVELOPE_EXPECTATIONS))
def test_corpus_envelopes_give_the_right_events(name: str) -> None:
    """Each envelope file gives its events: the right number, first and last exactly."""
    count, first, last = ENVELOPE_EXPECTATIONS[name]
    events = read(str(ENVELOPES / name))
    assert len(events) == count
    assert as_tuple(events[0]) == first
    assert as_tuple(events[-1]) == (last or first)
    assert all(e.origin == str(ENVELOPES / name) for e in events)


def test_multi_line_messages_survive_their_envelope() -> None:
    """\\r inside a message, a trailing \\n\\n, REPORT+XRAY: each stays one event, unchanged."""
    get = read(str(ENVELOPES / "get_log_events.json"))
    assert (
        get[2].message
        == '2019-06-05T19:30:03.173Z\t4ce9340a-b765-490f-ad8a-02ab3415e2bf\tINFO\tEVENT\r{\r  "key": "value"\r}\n'
    )
    insights = read(str(ENVELOPES / "logs_insights_export.json"))
    assert (
        insights[1].message
        == "2023-10-20T16:28:17.840Z 4299ee26-8d1d-4ea9-bd43-77b85ed96cfe Task timed out after 31.01 seconds\n\n"
    )
    fle = read(str(ENVELOPES / "filter_log_events_2019.json"))
    assert {e.log_stream for e in fle} == {FLE_STREAM_1, FLE_STREAM_2}
    assert all(e.message.endswith("\n") for e in fle)


def test_the_truncated_awslogs_data_in_the_docs_payload_is_counted() -> None:
    """The AWS docs cut the base64 with '...': that part is reported, the decoded payload read."""
    stats = SourceStats()
    read(str(ENVELOPES / "subscription_filter_payload.txt"), stats=stats)
    assert stats.malformed == 1 and "could not be decoded" in stats.notes[0]


# Plain copies: one event per line, except blank lines, timestamp-only lines and console repeats.
PLAIN_EXPECTATIONS = {
    "report_text.log": (
        94,
        "START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST",
        "REPORT RequestId: 2d7fd9b0-a17f-4482-bc6c-4b58bb47b884 Duration: 1201.12 ms Billed Duration: 1300 ms Memory Size: 128 MB Max Memory Used: 78 MB Init Duration: 287.33 ms",
    ),
    "timeouts.log": (
        47,
        None,
        "XRAY TraceId: 1-6ac7d856-23c5b0d2790c4b5677597fc1\tSegmentId: 382f97d370ef6f64\t",
    ),
    "oom_crashes.log": (
        33,
        "START RequestId: 43e50939ce8c Version: $LATEST",
        "RequestId: 18fea243-5715-11e7-9ad9-a197117ae4d4 Process exited before completing request",
    ),
    "messy.log": (37, "END RequestId: 86e097d4-90ac-4fa6-9c40-92586125f011", None),
    "node_errors.log": (
        8,
        "INIT_START Runtime Version: nodejs:18.v71\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:bcd7c0a83c1c6bc9b4982403f8200084d0db1fe61d7c4d3215979c11bb00d650",
        "REPORT RequestId: 60d08d48-b6b9-4953-83db-30848477f662\tDuration: 143.12 ms\tBilled Duration: 144 ms\tMemory Size: 128 MB\tMax Memory Used: 68 MB\tStatus: error\tError Type: Runtime.ImportModuleError",
    ),
    "init_restore.log": (
        47,
        None,
        "INIT_REPORT Init Duration: 1882.55 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError",
    ),
    "python_errors.log": (42, None, None),
    "access_denied.log": (61, "Function Logs", None),
    "extensions.log": (31, None, None),
    "emf.log": (8, None, None),
    "json_app.jsonl": (4, None, None),
    "json_platform.jsonl": (7, None, None),
    "telemetry_api.jsonl": (5, None, None),
}


@pytest.mark.parametrize("name", sorted(PLAIN_EXPECTATIONS))
def test_plain_corpus_copies_give_one_event_per_log_line(name: str) -> None:
    """Copies of raw lines keep one event per line; copy artefacts are not events."""
    count, first, last = PLAIN_EXPECTATIONS[name]
    events = read(str(CORPUS / name))
    assert len(events) == count
    if first is not None:
        assert events[0].message == first
    if last is not None:
        assert events[-1].message == last


def test_console_copy_times_and_repeats_are_handled_in_a_real_copy() -> None:
    """node_errors.log: each event dated by its line above, shown-twice events kept once."""
    stats = SourceStats()
    events = read(str(CORPUS / "node_errors.log"), stats=stats)
    assert [e.message.split("\t")[0].split(" ")[0] for e in events] == [
        "INIT_START",
        "2025-06-09T00:24:05.061Z",
        "INIT_REPORT",
        "2025-06-09T00:24:05.208Z",
        "INIT_REPORT",
        "START",
        "END",
        "REPORT",
    ]
    assert events[1].message.endswith('"    at async file:///var/runtime/index.mjs:1306:1"]}')
    assert events[7].timestamp_ms == iso_to_ms("2025-06-09T00:24:05.231Z")
    assert stats.duplicates_dropped == 8


def test_gzip_files_give_the_same_events(tmp_path: Path) -> None:
    """A .gz copy of a file reads exactly like the file."""
    source = ENVELOPES / "filter_log_events_2019.json"
    packed = tmp_path / "filter.json.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    plain = [as_tuple(e) for e in read(str(source))]
    assert [as_tuple(e) for e in read(str(packed))] == plain


def test_stdin_is_read_when_named_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads standard input (here a real pipe), gzip included."""
    read_fd, write_fd = os.pipe()
    data = gzip.compress((ENVELOPES / "aws_logs_tail.txt").read_bytes())

    def writer() -> None:
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)

    thread = threading.Thread(target=writer)
    thread.start()
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_fd, "r"))
    events = read("-")
    thread.join()
    assert len(events) == 16
    assert events[0].log_stream == TAIL_STREAM_1 and events[0].origin == "<stdin>"


def test_inputs_are_read_in_the_order_given() -> None:
    """Several files give their events one file after the other, counted in the stats."""
    stats = SourceStats()
    events = read(
        str(ENVELOPES / "up_logs.jsonl"), str(ENVELOPES / "get_log_events.json"), stats=stats
    )
    assert len(events) == 7 and events[0].timestamp_ms == iso_to_ms("2018-05-17T06:46:28Z")
    assert stats.inputs == 2 and stats.events == 7
    assert (
        stats.bytes_read
        == (ENVELOPES / "up_logs.jsonl").stat().st_size
        + (ENVELOPES / "get_log_events.json").stat().st_size
    )


def test_since_and_until_filter_file_events_that_have_a_time() -> None:
    """Events with a known time outside the window are dropped; those without one are kept."""
    stats = SourceStats()
    events = read(
        str(ENVELOPES / "aws_logs_tail.txt"),
        str(CORPUS / "emf.log"),
        "--since",
        "2026-01-07T14:32:06Z",
        "--until",
        "2026-01-07T14:33:00Z",
        stats=stats,
    )
    tail = [e for e in events if e.log_stream]
    assert [e.message for e in tail] == [
        "Connected successfully",
        "Change streams enabled for collection",
        "Inserting document: {'user_id': 'user_008', 'name': 'Elena Morales', 'email': 'elena@example.com', 'timestamp': datetime.datetime(2026, 1, 7, 14, 32, 6, 64071), 'action': 'user_created'}",
        "Document inserted with ID: 695e6e66a68ca00398aeb3ca",
        "END RequestId: 717faf29-0efd-470e-925f-12434921dc45",
        "REPORT RequestId: 717faf29-0efd-470e-925f-12434921dc45    Duration: 1026.52 ms    Billed Duration: 1470 msMemory Size: 128 MB     Max Memory Used: 58 MB  Init Duration: 443.42 ms",
    ]
    assert len(events) - len(tail) == 8  # emf.log has no times: all kept
    assert stats.outside_window == 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "no input"),
        (("/nonexistent/x.log",), "cannot read /nonexistent/x.log: no such file"),
        (("x.log", "--since", "2h", "--until", "3h"), "is after --until"),
        (("x.log", "--since", "last tuesday"), "cannot read time 'last tuesday'"),
        (("x.log", "--insights"), "--insights reads CloudWatch Logs"),
        (("--function", "arn:aws:lambda:us-east-1:1:layer:x"), "not a Lambda function name or ARN"),
    ],
)
def test_unusable_arguments_fail_before_reading(
    argv: tuple[str, ...], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad inputs raise one CliError at open_sources time, before any event is produced."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.log").write_text("START RequestId: a Version: $LATEST\n")
    with pytest.raises(CliError, match=message.replace("(", r"\(").replace("[", r"\[")):
        open_sources(parse(*argv), SourceStats())


def test_sizes_accept_units() -> None:
    """--max-decompressed takes plain bytes or K/M/G/T (binary) units."""
    assert parse_size("1048576") == 1024**2
    assert parse_size("500M") == 500 * 1024**2
    assert parse_size("1.5GiB") == int(1.5 * 1024**3)
    assert parse_size("0") == 0
    with pytest.raises(CliError):
        parse_size("lots")


def test_no_progress_output_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Piped or captured stderr gets no progress bar, even without --no-progress."""
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    list(open_sources(parser.parse_args([str(ENVELOPES / "sam_logs.txt")]), SourceStats()))
    assert capsys.readouterr().err == ""


def run_on_terminal(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> bytes:
    """Read with stderr on a pseudo-terminal; everything written to it."""
    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "w")
    output = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal side was closed
                return
            if not chunk:
                return
            output.extend(chunk)

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    with monkeypatch.context() as patch:
        patch.setenv("TERM", "xterm")
        patch.setattr(sys, "stderr", terminal)
        parser = argparse.ArgumentParser()
        add_source_arguments(parser)
        assert len(list(open_sources(parser.parse_args(argv), SourceStats()))) == 265
    terminal.close()
    thread.join(timeout=10)
    os.close(master)
    return bytes(output)


def test_a_progress_bar_is_drawn_on_a_terminal_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a real terminal (a pty) rich draws a bar naming the input; --no-progress draws nothing."""
    source = str(ENVELOPES / "filter_log_events_2019.json")
    assert b"filter_log_events_2019.json" in run_on_terminal(monkeypatch, [source])
    assert run_on_terminal(monkeypatch, [source, "--no-progress"]) == b""


def run_cli(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    return subprocess.run(
        [sys.executable, "-m", "lambda_trace", "events", *argv],
        input=stdin,
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_the_cli_reads_gzip_from_stdin() -> None:
    """`lambda-trace events -` on piped .gz `sam logs` output sees every START with its stream."""
    done = run_cli(
        "-", "--type", "start", stdin=gzip.compress((ENVELOPES / "sam_logs.txt").read_bytes())
    )
    assert done.returncode == 0, done.stderr
    starts = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [(s["request_id"], s["log_stream"]) for s in starts] == [
        ("b771fecc-1b53-4faf-922d-1d74357b1676", SAM_STREAM_1),
        ("7667964c-05ac-4891-b28c-56f1282ebc1b", SAM_STREAM_1),
        ("c5617d6b-3eff-409b-bff8-7f6ed83c319a", SAM_STREAM_1),
        ("09cea32b-12e6-4283-9092-15e3fd5eabf8", SAM_STREAM_1),
        ("010f6002-d185-4e96-9971-5360a2c6aa72", SAM_STREAM_1),
        ("bed25b38-d012-42e7-ba28-f272535fb80e", SAM_STREAM_2),
    ]
    assert starts[0]["timestamp_ms"] == iso_to_ms("2023-07-05T10:16:34.379Z")


def test_cli_input_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    """An unreadable input gives one stderr line, no traceback, exit code 2."""
    done = run_cli(str(tmp_path / "missing.log"))
    assert done.returncode == 2
    assert (
        done.stderr.decode()
        == f"lambda-trace: error: cannot read {tmp_path / 'missing.log'}: no such file\n"
    )
    assert done.stdout == b""


def test_the_summary_says_what_was_read_and_skipped() -> None:
    """One line with counts in the right number; counters at zero are left out."""
    assert SourceStats().summary() == "0 inputs, 0 log events, 0.0 MB"
    stats = SourceStats(inputs=1, events=2, bytes_read=1_500_000, requests=1, duplicates_dropped=3)
    assert stats.summary() == (
        "1 input, 2 log events, 1.5 MB, 1 API request, 3 console duplicates dropped"
    )
