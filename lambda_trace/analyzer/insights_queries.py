"""Ready-to-paste CloudWatch Logs Insights queries over lambda-trace's records and Lambda's lines.

The records are JSON lines, so Logs Insights discovers their keys as fields (``name``,
``duration_ms``, ``in_flight.0.name`` for the first element of a list); Lambda's REPORT lines
give ``@type``, ``@requestId``, ``@duration``, ``@billedDuration``, ``@initDuration``,
``@memorySize`` and ``@maxMemoryUsed`` (in bytes). Sources:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InsightsQuery:
    key: str
    title: str
    #: the Logs Insights QL, one command per line
    text: str


QUERIES: tuple[InsightsQuery, ...] = (
    InsightsQuery(
        "slowest-dependencies",
        "Slowest dependencies: calls, total time and percentiles per call name (lambda-trace "
        "call records)",
        """filter lambda_trace = 1 and type = "call"
| stats count(*) as calls, sum(duration_ms) as total_ms, pct(duration_ms, 50) as p50_ms,
    pct(duration_ms, 95) as p95_ms, pct(duration_ms, 99) as p99_ms, max(duration_ms) as max_ms,
    sum(strcontains(status, "error")) as errors by name, kind
| sort total_ms desc
| limit 25""",
    ),
    InsightsQuery(
        "timeouts-in-flight",
        "Timeouts with the call in flight (lambda-trace's watchdog warning before the deadline)",
        """filter lambda_trace = 1 and type = "timeout_warning"
| fields @timestamp, request_id, elapsed_ms, remaining_ms, in_flight.0.name as in_flight_call,
    in_flight.0.kind as in_flight_kind, in_flight.0.running_ms as running_ms
| sort @timestamp desc
| limit 100""",
    ),
    InsightsQuery(
        "timeouts-by-call",
        "Timeouts counted by the call in flight",
        """filter lambda_trace = 1 and type = "timeout_warning"
| stats count(*) as timeouts, max(in_flight.0.running_ms) as longest_running_ms
    by in_flight.0.name
| sort timeouts desc""",
    ),
    InsightsQuery(
        "lambda-timeouts",
        "Lambda's own timeout lines (every timeout, traced or not)",
        """filter @message like /Task timed out after/
| parse @message /(?<request_id>[0-9a-fA-F-]{36}).*Task timed out after (?<seconds>[\\d.]+) seconds/
| fields @timestamp, request_id, seconds, @logStream
| sort @timestamp desc
| limit 100""",
    ),
    InsightsQuery(
        "errors-by-class",
        "Errors by class (lambda-trace invocation records)",
        """filter lambda_trace = 1 and type = "invocation" and status = "error"
| stats count(*) as errors, earliest(request_id) as example_request_id by error_type
| sort errors desc""",
    ),
    InsightsQuery(
        "lambda-errors-by-class",
        "Errors by class from the runtime's [ERROR] lines (Text log format) and errorType "
        "(JSON log format)",
        """filter @message like /\\[ERROR\\]/ or ispresent(errorType)
| parse @message /\\[ERROR\\]\\s+(?<error_class>[A-Za-z_][\\w.]*):/
| fields coalesce(error_class, errorType) as error
| stats count(*) as errors by error
| sort errors desc""",
    ),
    InsightsQuery(
        "memory-by-invocation",
        "Memory by invocation: the fullest first (Lambda's REPORT lines)",
        """filter @type = "REPORT"
| fields @timestamp, @requestId, @duration, @billedDuration, @initDuration,
    @maxMemoryUsed / 1000 / 1000 as used_mb, @memorySize / 1000 / 1000 as size_mb,
    used_mb / size_mb * 100 as used_pct
| sort used_pct desc
| limit 100""",
    ),
    InsightsQuery(
        "cold-starts",
        "Cold starts: how many, and init duration percentiles (Lambda's REPORT lines)",
        """filter @type = "REPORT"
| stats count(*) as invocations, count(@initDuration) as cold_starts,
    pct(@initDuration, 50) as init_p50_ms, pct(@initDuration, 95) as init_p95_ms,
    max(@initDuration) as init_max_ms by bin(1h)""",
    ),
)


def render_queries(log_groups: list[str], keys: tuple[str, ...] = ()) -> str:
    """The queries as text: a comment with the title and log groups above each one."""
    chosen = [q for q in QUERIES if not keys or q.key in keys]
    groups = ", ".join(log_groups)
    blocks = []
    for q in chosen:
        blocks.append(f"# {q.key}: {q.title}\n# log groups: {groups}\n{q.text}\n")
    return "\n".join(blocks)
