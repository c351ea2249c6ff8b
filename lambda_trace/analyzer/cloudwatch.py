"""Log events straight from CloudWatch Logs: ``FilterLogEvents`` pages or a Logs Insights query.

boto3 is imported only here and only when CloudWatch is read. Retries: botocore's standard mode
retries throttling and transient errors inside each call; around that, throttling that outlasts
it is retried again with exponential backoff and jitter (a long pagination should not die on
the thousandth page). Every failure a user can fix (credentials, permissions, a missing log
group, an unreachable endpoint) becomes one ``CliError`` line.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

from lambda_trace.analyzer.envelopes import Context, event_from_mapping, row_to_mapping
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.prefetch import in_order, time_slices
from lambda_trace.analyzer.progress import Progress
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.timewindow import TimeWindow

#: Exit code for failures on the AWS side (2 is bad input or usage).
AWS_EXIT_CODE = 3
#: Events per FilterLogEvents page (the API's maximum).
PAGE_LIMIT = 10_000
#: A window is read as up to this many slices at once (see prefetch.py), each at least
#: MIN_SLICE_MS long: a short window (``show``, a live tail) stays one sequential read.
FETCHERS = 4
MIN_SLICE_MS = 5 * 60_000
#: Rows per Logs Insights query (the API's maximum); more are fetched by moving the start on.
INSIGHTS_LIMIT = 10_000
#: botocore's own attempts per call (standard retry mode).
SDK_MAX_ATTEMPTS = 5
#: Our retries of a throttled call once botocore gives up, with exponential backoff.
THROTTLE_RETRIES = 6
THROTTLE_BASE_S = 1.0
THROTTLE_MAX_S = 30.0
#: Logs Insights polling interval: first, growth factor, ceiling.
POLL_FIRST_S = 0.25
POLL_MAX_S = 5.0

_THROTTLING = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",  # Insights: too many concurrent queries
        "ServiceUnavailableException",
    }
)
_EXPIRED = frozenset({"ExpiredTokenException", "ExpiredToken", "RequestExpired"})
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
_DENIED = frozenset({"AccessDeniedException", "AccessDenied", "403"})

#: Substrings of the lines the analyzer uses: platform lines (text and JSON), timeouts and
#: crashes, errors and tracebacks, access denials, our records and EMF documents. Plain
#: ``like "…"`` clauses, because a regex alternation is easy to get wrong in a query string.
INSIGHTS_KEEP = (
    "RequestId:",
    "INIT_START",
    "INIT_REPORT",
    "RESTORE_START",
    "RESTORE_REPORT",
    "EXTENSION",
    "XRAY TraceId",
    "platform.",
    "Task timed out",
    "Runtime exited",
    "Runtime.",
    "Process exited before completing",
    "module initialization error",
    "LAMBDA_WARNING",
    "Traceback",
    "ERROR",
    "Error",
    "error",
    "Exception",
    "AccessDenied",
    "not authorized",
    '"lambda_trace"',
    '"_aws"',
)


def insights_query(limit: int = INSIGHTS_LIMIT) -> str:
    """The Logs Insights query that keeps only the lines the analyzer uses, oldest first."""
    clauses = " or ".join(f"@message like {_quote(text)}" for text in INSIGHTS_KEEP)
    return (
        "fields @timestamp, @message, @logStream, @log, @ptr\n"
        f"| filter {clauses}\n"
        "| sort @timestamp asc\n"
        f"| limit {limit}"
    )


_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def _code_and_message(code: str, message: str) -> tuple[str, str]:
    """The error code and text, also when a proxy (or moto) wraps them in an XML error body."""
    if message.lstrip().startswith("<"):
        inner_code, inner_message = _XML_CODE.search(message), _XML_MESSAGE.search(message)
        if inner_code:
            code = inner_code.group(1)
        message = inner_message.group(1) if inner_message else message
    return code, message


def _quote(text: str) -> str:
    return f"'{text}'" if '"' in text else f'"{text}"'


def slice_count(start_ms: int, end_ms: int, fetchers: int = FETCHERS) -> int:
    """How many slices to read a window in: one without a known start (it would be from 1970)."""
    if start_ms <= 0:
        return 1
    return max(1, min(fetchers, (end_ms - start_ms) // MIN_SLICE_MS))


def function_log_group(function: str) -> tuple[str, Optional[str]]:
    """``/aws/lambda/NAME`` for a function name or ARN, and the ARN's region if it has one."""
    name, region = function, None
    if function.startswith("arn:"):
        parts = function.split(":")
        # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            raise CliError(f"--function {function!r}: not a Lambda function name or ARN")
        name, region = parts[6], parts[3] or None
    else:
        name = function.split(":", 1)[0]  # NAME:ALIAS logs to the function's group
    if not name:
        raise CliError(f"--function {function!r}: no function name in it")
    return f"/aws/lambda/{name}", region


@dataclass(frozen=True)
class CloudWatchQuery:
    """What to read from CloudWatch Logs, and how to reach it."""

    log_groups: tuple[str, ...]
    window: TimeWindow
    region: Optional[str] = None
    profile: Optional[str] = None
    endpoint_url: Optional[str] = None
    insights: bool = False
    #: a log group that does not exist is noted in the stats and skipped, not an error
    missing_ok: bool = False

    #: FilterLogEvents only: a filter pattern (``"<request id>"`` for ``show``) and streams
    filter_pattern: Optional[str] = None
    log_streams: tuple[str, ...] = ()
    #: FilterLogEvents only: time slices of the window read at once (see prefetch.py)
    fetchers: int = FETCHERS


class _MissingGroup(Exception):
    pass


class CloudWatchReader:
    """Reads log events of the query's log groups, one group after another."""

    def __init__(self, query: CloudWatchQuery, stats: SourceStats, progress: Progress) -> None:
        self.query = query
        self.stats = stats
        self.progress = progress
        self._client: Any = None
        self._group = ""
        self._requests_lock = threading.Lock()

    # -- client and errors ---------------------------------------------------------------------

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError

        q = self.query
        try:
            session = boto3.session.Session(profile_name=q.profile, region_name=q.region)
            # botocore reads AWS_DEFAULT_REGION and the profile, not AWS_REGION (which Lambda
            # and the other AWS SDKs set): honour it too rather than fail for want of a region.
            region = session.region_name or os.environ.get("AWS_REGION") or None
            return session.client(
                "logs",
                region_name=region,
                endpoint_url=q.endpoint_url,
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": SDK_MAX_ATTEMPTS},
                    connect_timeout=10,
                    read_timeout=60,
                    user_agent_extra="lambda-trace",
                ),
            )
        except BotoCoreError as exc:
            raise self._error(exc) from None

    def _region(self) -> str:
        client = self._client
        return getattr(getattr(client, "meta", None), "region_name", None) or "?"

    def _error(self, exc: Exception) -> CliError:
        """One line a user can act on, for any failure of a CloudWatch call."""
        from botocore import exceptions as bx

        group = self._group or "the log group"
        profile = self.query.profile
        if isinstance(exc, bx.ClientError):
            err = exc.response.get("Error", {})
            code, message = _code_and_message(
                str(err.get("Code", "")), str(err.get("Message", "") or exc)
            )
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "ResourceNotFoundException":
                text = (
                    f"log group {group} does not exist in {self._region()} (check the function "
                    "name and --region; a function that never ran has no log group)"
                )
            elif code in _EXPIRED:
                text = f"the AWS credentials have expired ({code}): refresh them and try again"
            elif code in _BAD_CREDENTIALS:
                text = f"AWS did not accept the credentials ({code}): {message}"
            elif code in _DENIED or status == 403:
                text = (
                    f"access denied reading {group} ({code}): {message} — the caller needs "
                    "logs:FilterLogEvents (and logs:StartQuery, logs:GetQueryResults for "
                    "--insights)"
                )
            elif code in _THROTTLING:
                text = (
                    f"CloudWatch Logs kept throttling ({code}) after {THROTTLE_RETRIES} retries; "
                    "try a shorter --since/--until window"
                )
            else:
                text = f"CloudWatch Logs refused the request ({code or status}): {message}"
            return CliError(" ".join(text.split()), AWS_EXIT_CODE)
        if isinstance(exc, bx.NoCredentialsError):
            text = (
                "no AWS credentials found: pass --profile, or set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )
        elif isinstance(exc, bx.ProfileNotFound):
            text = f"AWS profile {profile!r} is not configured (see `aws configure list-profiles`)"
        elif isinstance(exc, bx.NoRegionError):
            text = (
                "no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or a "
                "region in the profile)"
            )
        elif isinstance(
            exc, (bx.TokenRetrievalError, bx.SSOTokenLoadError, bx.UnauthorizedSSOTokenError)
        ):
            text = f"the AWS SSO session has expired: run `aws sso login` and try again ({exc})"
        elif isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
            text = f"cannot reach CloudWatch Logs: {exc}"
        elif isinstance(exc, (bx.ReadTimeoutError, bx.ConnectionClosedError)):
            text = f"CloudWatch Logs stopped answering: {exc}"
        else:
            text = f"CloudWatch Logs call failed: {exc}"
        return CliError(" ".join(text.split()), AWS_EXIT_CODE)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        attempt = 0
        while True:
            with self._requests_lock:  # slices of a window are read from several threads
                self.stats.requests += 1
            try:
                response: dict[str, Any] = getattr(self._client, operation)(**params)
                return response
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code == "ResourceNotFoundException" and self.query.missing_ok:
                    raise _MissingGroup from None
                if code in _THROTTLING and attempt < THROTTLE_RETRIES:
                    backoff = min(THROTTLE_MAX_S, THROTTLE_BASE_S * 2**attempt)
                    time.sleep(backoff * random.uniform(0.5, 1.0))
                    attempt += 1
                    continue
                raise self._error(exc) from None
            except BotoCoreError as exc:
                raise self._error(exc) from None

    # -- reading -------------------------------------------------------------------------------

    def events(self) -> Iterator[LogEvent]:
        if self._client is None:  # one client for every read of a live tail
            self._client = self._make_client()
        for group in self.query.log_groups:
            self._group = group
            self.stats.inputs += 1
            before = self.stats.events
            try:
                if self.query.insights:
                    yield from self._insights(group)
                else:
                    yield from self._filter(group)
            except _MissingGroup:
                self.stats.missing_log_groups.append(group)
            by_group = self.stats.events_by_group
            by_group[group] = by_group.get(group, 0) + self.stats.events - before

    def _window_ms(self) -> tuple[int, int]:
        window = self.query.window
        end = window.end_ms if window.end_ms is not None else int(time.time() * 1000)
        start = window.start_ms if window.start_ms is not None else 0
        return start, end

    def _filter(self, group: str) -> Iterator[LogEvent]:
        start, end = self._window_ms()
        task = self.progress.task(f"CloudWatch {group}", max(end - start, 1))
        slices = time_slices(start, end, slice_count(start, end, self.query.fetchers))
        fetchers = [functools.partial(self._pages, group, s, e) for s, e in slices]
        origin = f"cloudwatch:{group}"
        stats = self.stats
        count = 0
        for items in in_order(fetchers):
            for item in items:
                message = item.get("message", "")
                stats.bytes_read += len(message.encode("utf-8", "replace"))
                count += 1
                yield LogEvent(
                    message, item.get("timestamp"), item.get("logStreamName"), group, origin
                )
            last = items[-1].get("timestamp") if items else None
            task.update(
                completed=(last - start) if last is not None else None,
                detail=f"{count} events",
            )
        stats.events += count

    def _pages(self, group: str, start: int, end: int) -> Iterator[list[dict[str, Any]]]:
        """The events of each FilterLogEvents page of one slice of the window, in order."""
        params: dict[str, Any] = {
            "logGroupName": group,
            "startTime": start,
            "endTime": end,
            "limit": PAGE_LIMIT,
        }
        if self.query.filter_pattern:
            params["filterPattern"] = self.query.filter_pattern
        if self.query.log_streams:
            params["logStreamNames"] = list(self.query.log_streams)
        while True:
            page = self._call("filter_log_events", **params)
            yield list(page.get("events") or ())
            token = page.get("nextToken")
            if not token:
                return
            params["nextToken"] = token

    def _insights(self, group: str) -> Iterator[LogEvent]:
        """Logs Insights rows, oldest first; past the row limit, the next query starts where
        the last one ended (rows already read are recognised by ``@ptr``)."""
        start, end = self._window_ms()
        task = self.progress.task(f"Logs Insights {group}", max(end - start, 1))
        ctx = Context(f"cloudwatch:{group}", group)
        cursor = start
        seen: set[str] = set()
        count = 0
        while True:
            rows = self._run_query(group, cursor // 1000, math.ceil(end / 1000))
            newest, fresh = cursor, 0
            seen_at_newest: set[str] = set()
            for row in rows:
                mapping = row_to_mapping(row) or {}
                event = event_from_mapping(mapping, ctx)
                if event is None or event.timestamp_ms is None:
                    continue
                ts, ptr = event.timestamp_ms, str(mapping.get("@ptr", ""))
                if ts < cursor or ts > end or (ts == cursor and ptr in seen):
                    continue
                fresh += 1
                count += 1
                self.stats.bytes_read += len(event.message.encode("utf-8", "replace"))
                yield event
                if ts > newest:
                    newest, seen_at_newest = ts, set()
                seen_at_newest.add(ptr)
            task.update(completed=newest - start, detail=f"{count} events")
            if len(rows) < INSIGHTS_LIMIT:
                break
            if not fresh:
                # More rows in one second than one query returns: Insights cannot page inside it.
                self.stats.note(
                    f"cloudwatch:{group}",
                    f"more than {INSIGHTS_LIMIT} matching events in one second; some were skipped",
                )
                cursor = (cursor // 1000 + 1) * 1000
                seen = set()
                if cursor > end:
                    break
                continue
            if newest == cursor:
                seen |= seen_at_newest
            else:
                cursor, seen = newest, seen_at_newest
        self.stats.events += count

    def _run_query(self, group: str, start_s: int, end_s: int) -> list[Any]:
        query_id = self._call(
            "start_query",
            logGroupNames=[group],
            startTime=start_s,
            endTime=end_s,
            queryString=insights_query(INSIGHTS_LIMIT),
            limit=INSIGHTS_LIMIT,
        )["queryId"]
        delay = POLL_FIRST_S
        try:
            while True:
                result = self._call("get_query_results", queryId=query_id)
                status = result.get("status")
                if status == "Complete":
                    return list(result.get("results", ()))
                if status in ("Failed", "Cancelled", "Timeout", "Unknown"):
                    raise CliError(
                        f"the Logs Insights query on {group} ended with status {status}",
                        AWS_EXIT_CODE,
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, POLL_MAX_S)
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):  # best effort on the way out
                self._client.stop_query(queryId=query_id)
            raise


def read_cloudwatch(
    query: CloudWatchQuery, stats: SourceStats, progress: Progress
) -> Iterator[LogEvent]:
    """Log events of every log group in the query, within its window."""
    return CloudWatchReader(query, stats, progress).events()
