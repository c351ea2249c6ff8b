"""The Parser (parse.py): dispatch, prefixes, lines a copy split apart, stats, robustness."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Optional

from hypothesis import given, settings
from hypothesis import strategies as st
from testdata import corpus_files

from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser, ParseStats, iso_to_ms
from lambda_trace.schema import SCHEMA_VERSION, CallRecord

RID = "4ce9340a-b765-490f-ad8a-02ab3415e2bf"
STREAM = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
REPORT = (f"REPORT RequestId: {RID}\tDuration: 26.73 ms\tBilled Duration: 27 ms\t"
          "Memory Size: 128 MB\tMax Memory Used: 75 MB\t")
XRAY = ("XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\t"
        "Sampled: true")
TRACE_ID = "1-5e34a614-10bdxmplf1fb44f07bc535a1"


def copy(*lines: str) -> list[LogEvent]:
    """Lines of a pasted copy: no envelope timestamp, no log stream."""
    return [LogEvent(message=line) for line in lines]


def cloudwatch(*messages: str, ts: int = 1_700_000_000_000) -> list[LogEvent]:
    """Log events as the CloudWatch API returns them."""
    return [LogEvent(message=m, timestamp_ms=ts + i, log_stream=STREAM)
            for i, m in enumerate(messages)]


def parse_all(log_events: list[LogEvent]) -> tuple[list[Event], ParseStats]:
    parser = Parser()
    events = list(parser.iter_events(log_events))
    return events, parser.stats


def only(events: list[Event], type_: str) -> Event:
    found = [e for e in events if e["type"] == type_]
    assert len(found) == 1, events
    return found[0]


def record_line(**changes: Any) -> str:
    record = CallRecord(request_id=RID, function_name="fn", timestamp="2026-11-27T04:43:42.123Z",
                        name="s3.GetObject", kind="aws", duration_ms=12.5).to_dict()
    record.update(changes)
    return json.dumps(record, separators=(",", ":"))


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


class TestCommonLines:
    def test_cloudwatch_events_keep_envelope_time_and_stream(self) -> None:
        """START/END/REPORT from the API: the envelope's timestamp and stream, trailing newlines."""
        events, stats = parse_all(cloudwatch(f"START RequestId: {RID} Version: $LATEST\n",
                                             f"END RequestId: {RID}\n", REPORT + "\n"))
        assert [e["type"] for e in events] == ["start", "end", "report"]
        assert [e["timestamp_ms"] for e in events] == [1_700_000_000_000 + i for i in range(3)]
        assert {e["log_stream"] for e in events} == {STREAM}
        assert {e["request_id"] for e in events} == {RID}
        assert (stats.lines, stats.recognised) == (3, 3)
        assert stats.events == {"start": 1, "end": 1, "report": 1}

    def test_report_with_xray_in_the_same_event(self) -> None:
        """In CloudWatch the XRAY part is in the REPORT's own event, after a newline."""
        events, _ = parse_all(cloudwatch(REPORT + "\n" + XRAY + "\t\n"))
        assert only(events, "report")["xray_trace_id"] == TRACE_ID

    def test_our_record_is_passed_through(self) -> None:
        """A record line: its keys as they are, and the common keys."""
        (event,), stats = parse_all(cloudwatch(record_line()))
        assert (event["type"], event["request_id"], event["name"], event["duration_ms"]) == (
            "call", RID, "s3.GetObject", 12.5)
        assert (event["lambda_trace"], event["log_stream"]) == (SCHEMA_VERSION, STREAM)
        assert stats.events == {"call": 1}

    def test_record_time_from_envelope_else_from_the_record(self) -> None:
        """The envelope's timestamp wins; a copy falls back to the record's own timestamp."""
        (from_api,), _ = parse_all(cloudwatch(record_line(), ts=5))
        assert from_api["timestamp_ms"] == 5
        (from_copy,), _ = parse_all(copy(record_line()))
        assert from_copy["timestamp_ms"] == utc_ms("2026-11-27T04:43:42.123")

    def test_record_printed_through_loggers_and_json_logs(self) -> None:
        """print() writes the bare record; loggers prefix or wrap it (docs/formats.md §2, §3)."""
        bare = record_line(request_id=None)
        lines = [
            f"[INFO]\t2026-11-27T04:43:42.500Z\t{RID}\t{bare}",  # Python logging
            f"2026-11-27T04:43:42.500Z\t{RID}\tINFO\t{bare}",  # Node.js console
            json.dumps({"timestamp": "2026-11-27T04:43:42.500Z", "level": "INFO",
                        "requestId": RID, "message": bare}),  # JSON log format, string message
            json.dumps({"timestamp": "2026-11-27T04:43:42.500Z", "level": "INFO",
                        "requestId": RID, "message": json.loads(bare)}),  # dict message
        ]
        for line in lines:
            (event,), _ = parse_all(copy(line))
            assert (event["type"], event["request_id"], event["name"]) == (
                "call", RID, "s3.GetObject"), line
            assert event["timestamp_ms"] == utc_ms("2026-11-27T04:43:42.500")

    def test_emf_after_a_dotnet_prefix(self) -> None:
        """.NET writes ``<ts>\\t<id>\\tinfo\\t{"_aws": ...}`` (docs/formats.md §6)."""
        doc = {"_aws": {"Timestamp": 1676902528962, "CloudWatchMetrics": [
            {"Namespace": "app", "Dimensions": [["Service"]],
             "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]}]},
               "Service": "hello", "ColdStart": 1}
        (event,), _ = parse_all(copy(f"2025-09-20T14:15:29.201Z\t{RID}\tinfo\t{json.dumps(doc)}"))
        assert (event["type"], event["request_id"], event["namespace"], event["values"]) == (
            "emf", RID, "app", {"ColdStart": 1})
        assert event["timestamp_ms"] == utc_ms("2025-09-20T14:15:29.201")

    def test_node_undefined_request_id_is_none(self) -> None:
        """Node writes ``undefined`` for the request id during init (docs/formats.md §0.4)."""
        line = "2025-06-09T00:24:05.061Z\tundefined\tERROR\tUncaught Exception \t" + json.dumps(
            {"errorType": "Runtime.ImportModuleError", "errorMessage": "nope"})
        (event,), _ = parse_all(copy(line))
        assert (event["type"], event["request_id"], event["error_type"]) == (
            "error", None, "Runtime.ImportModuleError")

    def test_wrapper_prefixes_are_taken_off(self) -> None:
        """Timestamps, log streams, log-group and markdown prefixes before Lambda's text."""
        lines = {
            f"2023/07/05/[56]374cd7798d2a4e36a494a23d658b9741 2023-07-05T10:16:34.379000 "
            f"START RequestId: {RID} Version: 56": utc_ms("2023-07-05T10:16:34.379"),
            f"2026-01-07T14:32:05.060000+00:00 {STREAM} START RequestId: {RID} Version: 56":
                utc_ms("2026-01-07T14:32:05.060"),
            f"2023-10-20 16:28:17.840 START RequestId: {RID} Version: 56":
                utc_ms("2023-10-20T16:28:17.840"),
            f"     * 2026-08-26T10:55:32.266 START RequestId: {RID} Version: 56":
                utc_ms("2026-08-26T10:55:32.266"),
            f"- `14:28:22` START RequestId: {RID} Version: 56": None,
            f"17:53:27 START RequestId: {RID} Version: 56": None,
        }
        for line, ts in lines.items():
            (event,), _ = parse_all(copy(line))
            assert (event["type"], event["request_id"], event["version"], event["timestamp_ms"]) \
                == ("start", RID, "56", ts), line


class TestCopies:
    def test_xray_line_after_a_report_completes_it_before_it_is_yielded(self) -> None:
        """In a copy the XRAY line follows its REPORT; iter_events yields the REPORT completed."""
        parser = Parser()
        stream = iter(copy(REPORT, XRAY, f"START RequestId: {RID} Version: $LATEST"))
        events = parser.iter_events(stream)
        first = next(events)
        assert first["type"] == "report" and first["xray_trace_id"] == TRACE_ID
        assert next(events)["type"] == "start"
        assert parser.stats.continued == 1

    def test_open_report_is_returned_at_once_by_parse(self) -> None:
        """parse() returns the REPORT right away; the XRAY line amends that same dict."""
        parser = Parser()
        (report,) = parser.parse(LogEvent(message=REPORT))
        assert parser.open_events == [report] and report["xray_trace_id"] is None
        assert parser.parse(LogEvent(message=XRAY)) == []
        assert report["xray_trace_id"] == TRACE_ID
        parser.parse(LogEvent(message="next"))
        assert parser.open_events == []

    def test_xray_event_from_the_api_is_not_attached(self) -> None:
        """From CloudWatch a separate XRAY event is another event: counted, not merged."""
        events, stats = parse_all(cloudwatch(REPORT, XRAY))
        assert only(events, "report")["xray_trace_id"] is None
        assert stats.app == 1

    def test_fault_line_and_runtime_exit_error_on_the_next_line(self) -> None:
        events, stats = parse_all(copy(
            f"RequestId: {RID} Error: Runtime exited with error: signal: killed",
            "Runtime.ExitError"))
        exit_ = only(events, "runtime_exit")
        assert (exit_["request_id"], exit_["oom"], exit_["error_type"]) == (
            RID, True, "Runtime.ExitError")
        assert stats.continued == 1

    def test_lone_runtime_exit_error_is_its_own_event(self) -> None:
        (event,), _ = parse_all(copy("Runtime.ExitError"))
        assert (event["type"], event["error_type"], event["reason"]) == (
            "runtime_exit", "Runtime.ExitError", None)

    def test_traceback_lines_join_their_error_until_a_platform_line(self) -> None:
        """Traceback lines go into the [ERROR]'s stack; a glued END still counts (§9.6)."""
        events, stats = parse_all(copy(
            "[ERROR] KeyError: 'id'",
            "Traceback (most recent call last):",
            '\u00a0\u00a0File "/var/task/lambda_function.py", line 73, in lambda_handler',
            "\u00a0\u00a0\u00a0\u00a0dam_event = log_event['id']END RequestId: " + RID,
            REPORT,
        ))
        error = only(events, "error")
        assert error["stack"] == ['  File "/var/task/lambda_function.py", line 73, in '
                                  "lambda_handler", "    dam_event = log_event['id']"]
        assert only(events, "end")["request_id"] == RID
        assert [e["type"] for e in events] == ["error", "end", "report"]
        assert (stats.continued, stats.recognised) == (2, 3)

    def test_traceback_lines_are_not_taken_from_separate_api_events(self) -> None:
        """From CloudWatch, a print line after an [ERROR] event is not its traceback."""
        events, stats = parse_all(cloudwatch("[ERROR] KeyError: 'id'", "some print output"))
        assert only(events, "error")["stack"] is None
        assert stats.unparsed == 1

    def test_pretty_printed_json_is_reassembled(self) -> None:
        """The console's expanded JSON, a line per line of the document (docs/formats.md §7.10)."""
        doc = {"time": "2026-10-08T07:30:29.470Z", "type": "platform.report", "record": {
            "requestId": RID, "metrics": {"durationMs": 1233.96, "billedDurationMs": 1698,
                                          "memorySizeMB": 256, "maxMemoryUsedMB": 123},
            "status": "success"}}
        lines = json.dumps(doc, indent=4).split("\n")
        events, stats = parse_all(copy("2026-10-08T07:30:29.470Z", *lines))
        report = only(events, "report")
        assert (report["request_id"], report["duration_ms"], report["timestamp_ms"]) == (
            RID, 1233.96, utc_ms("2026-10-08T07:30:29.470"))
        assert (stats.ignored, stats.continued, stats.recognised) == (1, len(lines) - 1, 1)

    def test_uncaught_exception_completed_by_the_json_on_the_next_lines(self) -> None:
        doc = {"errorType": "Runtime.ImportModuleError", "errorMessage": "Error: Cannot find "
               "module 'x'", "stack": ["Runtime.ImportModuleError: Error: Cannot find module 'x'"]}
        events, _ = parse_all(copy("2025-06-09T00:24:05.061Z\tundefined\tERROR\t"
                                   "Uncaught Exception \t", *json.dumps(doc, indent=4).split("\n")))
        (error,) = events
        assert (error["error_type"], error["message"], error["runtime"]) == (
            "Runtime.ImportModuleError", "Error: Cannot find module 'x'", "nodejs")

    def test_unterminated_document_is_malformed_and_salvaged_at_the_end(self) -> None:
        lines = ["{", '    "errorType": "AccessDeniedException",',
                 '    "errorMessage": "User: arn:aws:sts::1:assumed-role/r/f is not authorized '
                 'to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:1:function:'
                 'g",']
        events, stats = parse_all(copy(*lines))
        denied = only(events, "access_denied")
        assert (denied["action"], denied["resource"]) == (
            "lambda:GetFunction", "arn:aws:lambda:us-east-1:1:function:g")
        assert stats.malformed == 1 and stats.lines == 3

    def test_console_timestamp_line_dates_the_lines_after_it(self) -> None:
        events, stats = parse_all(copy("2025-05-21T03:29:27.829Z",
                                       f"START RequestId: {RID} Version: $LATEST", "",
                                       f"START RequestId: {RID} Version: $LATEST"))
        assert [e["timestamp_ms"] for e in events] == [utc_ms("2025-05-21T03:29:27.829")] * 2
        assert stats.ignored == 2


class TestLinesThatAreNotEvents:
    def test_malformed_json_is_counted_and_skipped(self) -> None:
        events, stats = parse_all(copy('{"level": "INFO", "message": "cut', "{'key': 'value'}"))
        assert events == []
        assert (stats.malformed, stats.unparsed) == (1, 1)

    def test_app_lines_and_free_text(self) -> None:
        events, stats = parse_all(copy(
            f"[INFO]\t2026-11-27T04:43:42.123Z\t{RID}\tloaded 3 items",
            f"2026-11-27T04:43:42.123Z\t{RID}\tWARN\tslow",
            json.dumps({"level": "INFO", "message": "hello", "requestId": RID}),
            "LAMBDA_WARNING: Unhandled exception. The most likely cause is ...",
            "[AWS Parameters and Secrets Lambda Extension] 2024/06/26 02:34:50 INFO ready",
            "just some print() output",
            "",
        ))
        assert events == []
        assert (stats.app, stats.unparsed, stats.ignored) == (5, 1, 1)

    def test_logged_error_line_is_an_error_event(self) -> None:
        """A logger's ERROR line is an error, though not an unhandled one."""
        (event,), _ = parse_all(copy(f"[ERROR]\t2026-11-27T04:43:42.123Z\t{RID}\tpayment failed"))
        assert (event["type"], event["request_id"], event["message"], event["unhandled"]) == (
            "error", RID, "payment failed", False)

    def test_joined_lines_are_tried_one_by_one(self) -> None:
        """A message nothing recognises as a whole is split on newlines (a tool joined them)."""
        events, stats = parse_all(cloudwatch(
            "hello\nINIT_START Runtime Version: python:3.12.v43\tRuntime Version ARN: arn:x"))
        assert [e["type"] for e in events] == ["init_start"]
        assert (stats.lines, stats.unparsed, stats.recognised) == (2, 1, 1)

    def test_telemetry_function_record_is_parsed_as_its_line(self) -> None:
        line = json.dumps([{"time": "2022-10-21T14:05:03.165Z", "type": "function",
                            "record": "[ERROR] ValueError: bad\rTraceback (most recent call "
                                      "last):\r  File \"a.py\", line 1, in f\r"}])
        (event,), _ = parse_all(copy(line))
        assert (event["type"], event["error_type"], event["timestamp_ms"]) == (
            "error", "ValueError", utc_ms("2022-10-21T14:05:03.165"))


class TestTimestamps:
    def test_iso_variants(self) -> None:
        """The wrappers' timestamp shapes (docs/formats.md §9.10); no zone means UTC."""
        cases: dict[str, Optional[int]] = {
            "2026-11-27T04:43:42.123Z": utc_ms("2026-11-27T04:43:42.123"),
            "2026-11-27T04:43:42.999Z": utc_ms("2026-11-27T04:43:42.999"),
            "2026-11-27T04:43:43.000Z": utc_ms("2026-11-27T04:43:43"),
            "2026-01-07T14:32:04.611000+00:00": utc_ms("2026-01-07T14:32:04.611"),
            "2023-07-05T10:16:34.013000": utc_ms("2023-07-05T10:16:34.013"),
            "2023-10-20 16:27:46.827": utc_ms("2023-10-20T16:27:46.827"),
            "2018-05-17T14:46:28+08:00": utc_ms("2018-05-17T06:46:28"),
            "2024-06-17T17:23:55Z": utc_ms("2024-06-17T17:23:55"),
            "2024-02-30T00:00:00Z": None,
            "17:53:27": None,
            "soon": None,
        }
        for text, expected in cases.items():
            assert iso_to_ms(text) == expected, text
        assert iso_to_ms(None) is None


#: Pieces of real lines, so that generated text reaches the parser's deeper branches.
PIECES = [
    "START RequestId: ", "END RequestId: ", "REPORT RequestId: ", RID, " Version: 3", "\t",
    "Duration: 1.5 ms", "Billed Duration: ", "XRAY TraceId: ", "INIT_REPORT Init Duration: ",
    "[ERROR] ", "[INFO]\t", "2026-11-27T04:43:42.123Z", "Task timed out after 3.00 seconds",
    "Runtime exited with error: signal: killed", "Runtime.ExitError", "Traceback (most recent "
    "call last):", "{", "}", "[", "]", '{"_aws": {"CloudWatchMetrics": [', '"lambda_trace": 1',
    '"type": "call"', '"level": "ERROR"', '"errorType": "X"', "Uncaught Exception \t",
    "AccessDenied", "is not authorized to perform: s3:GetObject on resource: ", "\r", "\n",
    "LAMBDA_WARNING: x\r", "undefined", "INFO", "- ", "`12:00:00`", "[/aws/lambda/f] ", " ",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=60),
                          st.lists(st.sampled_from(PIECES), max_size=12).map("".join)),
                max_size=15),
       st.booleans())
def test_any_text_is_parsed_without_raising(messages: list[str], from_api: bool) -> None:
    """Arbitrary text never raises, and every line lands in exactly one counter."""
    parser = Parser()
    for i, message in enumerate(messages):
        if from_api:
            parser.parse(LogEvent(message=message, timestamp_ms=i, log_stream=STREAM))
        else:
            parser.parse(LogEvent(message=message))
    parser.finish()
    s = parser.stats
    assert s.lines == s.recognised + s.app + s.continued + s.unparsed + s.malformed + s.ignored


class TestIterEventsMatchesParse:
    """iter_events inlines parse()'s commonest lines; both must give the same events and stats."""

    @staticmethod
    def both(log_events: list[LogEvent]) -> None:
        streamed = Parser()
        got = list(streamed.iter_events(log_events))
        stepped = Parser()
        expected = [event for log_event in log_events for event in stepped.parse(log_event)]
        expected += stepped.finish()
        assert got == expected
        assert streamed.stats == stepped.stats

    def test_on_every_corpus_file_as_a_copy_and_from_cloudwatch(self) -> None:
        """Every real log line, without envelope (a paste) and with one (the API)."""
        files = corpus_files()
        assert files
        for path in files:
            lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
            self.both(copy(*lines))
            self.both(cloudwatch(*lines))

    def test_on_the_lines_the_fast_path_takes(self) -> None:
        """Records, EMF, JSON platform events, START/END/REPORT, quiet app lines, and breaks."""
        emf = ('{"_aws":{"Timestamp":1795737600673,"CloudWatchMetrics":[{"Namespace":"N",'
               '"Dimensions":[["service"]],"Metrics":[{"Name":"Duration"}]}]},'
               '"service":"s","Duration":4.5}')
        platform = ('{"time":"2026-11-27T00:00:38.241Z","type":"platform.report","record":'
                    '{"requestId":"' + RID + '","metrics":{"durationMs":5.5,"billedDurationMs":6,'
                    '"memorySizeMB":128,"maxMemoryUsedMB":70},"status":"timeout"}}')
        lines = [
            f"START RequestId: {RID} Version: $LATEST", record_line(), record_line(request_id=""),
            emf, platform, '{"time":"x","type":"platform.unknown","record":{}}',
            f"[INFO]\t2026-11-27T04:43:42.123Z\t{RID}\tfine", "",
            f"2026-11-27T04:43:42.123Z\t{RID}\tINFO\tnode says hi", REPORT, XRAY, REPORT,
            f"END RequestId: {RID}", "[ERROR] KeyError: 'x'", "Traceback (most recent call last):",
            '  File "/var/task/app.py", line 3, in handler', "KeyError: 'x'", record_line(),
            "{", '  "a": 1', "}", record_line() + "\r\n", '{"lambda_trace":1,"type":"call"',
        ]
        self.both(copy(*lines))
        self.both(cloudwatch(*lines))
