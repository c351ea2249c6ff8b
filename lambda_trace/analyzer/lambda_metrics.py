"""Lambda's own CloudWatch metrics for a function, from one batched ``GetMetricData`` call.

Lambda publishes ``AWS/Lambda`` metrics per ``FunctionName`` whether or not the function logs
anything: ``Invocations``, ``Errors``, ``Throttles``, ``Duration``, ``ConcurrentExecutions``, and
for stream, queue and asynchronous triggers ``IteratorAge``, ``AsyncEventsDropped`` and
``AsyncEventAge`` (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
lambda-trace's own EMF metrics (``Timeouts`` by ``service``, ``DownstreamLatency`` by
``service, Service, Operation``) are added when the namespace has them.

Every series is asked for twice in the same call: per period (the trend) and once for the whole
window (the totals and the percentiles, which cannot be combined from per-period values).
Percentiles are CloudWatch "extended statistics" (``p50``, ``p99``); an endpoint that refuses
them (moto does) gets the same call without them, and the report says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from lambda_trace.analyzer.aws_access import AwsAccess, CheckSkipped, NotFound
from lambda_trace.analyzer.timestamps import iso_to_ms

LAMBDA_NAMESPACE = "AWS/Lambda"
#: the namespace lambda-trace's EMF metrics go to unless LAMBDA_TRACE_NAMESPACE says otherwise
DEFAULT_EMF_NAMESPACE = "LambdaTrace"
#: GetMetricData takes at most 500 queries per request.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
MAX_QUERIES = 500
#: about this many points per series in the trend
TARGET_POINTS = 120
#: CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, hourly data 455 days: older
#: windows must use at least that period.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric
PERIODS_S = (60, 300, 900, 3600, 21600, 86400)
#: (data older than this, the smallest period still kept for it)
_RETENTION = ((15 * 86400, 300), (63 * 86400, 3600))
#: EMF dependencies asked for (the top ones by ListMetrics order)
MAX_DEPENDENCIES = 20

#: (metric, statistic, summary key, how the per-period values make the total)
LAMBDA_STATS: tuple[tuple[str, str, str], ...] = (
    ("Invocations", "Sum", "sum"),
    ("Errors", "Sum", "sum"),
    ("Throttles", "Sum", "sum"),
    ("Duration", "Average", "avg"),
    ("Duration", "Maximum", "max"),
    ("Duration", "SampleCount", "count"),
    ("ConcurrentExecutions", "Maximum", "max"),
    ("IteratorAge", "Maximum", "max"),
    ("AsyncEventsDropped", "Sum", "sum"),
    ("AsyncEventAge", "Maximum", "max"),
)
PERCENTILES = ("p50", "p99")
#: series the trend keeps (metric, statistic key)
TREND = (
    ("Invocations", "sum"), ("Errors", "sum"), ("Throttles", "sum"),
    ("Duration", "avg"), ("Duration", "max"), ("ConcurrentExecutions", "max"),
)


def choose_period(start_ms: int, end_ms: int, now_ms: Optional[int] = None) -> int:
    """The smallest standard period giving about ``TARGET_POINTS`` points that the data's age
    still allows."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    span_s = max(60, (end_ms - start_ms) // 1000)
    wanted = span_s / TARGET_POINTS
    age_s = max(0, (now - start_ms) // 1000)
    floor = 60
    for older_than_s, smallest in _RETENTION:
        if age_s > older_than_s:
            floor = max(floor, smallest)
    for period in PERIODS_S:
        if period >= wanted and period >= floor:
            return period
    return PERIODS_S[-1]


@dataclass(frozen=True)
class Query:
    """One MetricDataQuery and where its answer goes."""

    id: str
    function: str
    metric: str
    stat: str
    key: str
    whole: bool
    namespace: str = LAMBDA_NAMESPACE
    dimensions: tuple[tuple[str, str], ...] = ()
    #: DownstreamLatency's "<Service> <Operation>"
    dependency: Optional[str] = None

    def to_api(self, period: int) -> dict[str, Any]:
        return {
            "Id": self.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
                },
                "Period": period,
                "Stat": self.stat,
            },
            "ReturnData": True,
        }


@dataclass
class MetricsPlan:
    """Every query for every function, the period of the trend and that of the whole window."""

    start_ms: int
    end_ms: int
    period: int
    whole_period: int
    queries: list[Query] = field(default_factory=list)

    def add(self, **kwargs: Any) -> None:
        self.queries.append(Query(id=f"q{len(self.queries)}", **kwargs))


def plan_queries(
    functions: Sequence[str],
    start_ms: int,
    end_ms: int,
    *,
    percentiles: bool = True,
    emf: Optional[dict[str, list[tuple[str, str]]]] = None,
    emf_namespace: str = DEFAULT_EMF_NAMESPACE,
    now_ms: Optional[int] = None,
) -> MetricsPlan:
    """The queries for ``functions``; ``emf`` maps a function to its (Service, Operation) pairs."""
    period = choose_period(start_ms, end_ms, now_ms)
    # Start and end on the period grid: CloudWatch (and moto) align datapoints to StartTime.
    start_ms = start_ms // (period * 1000) * period * 1000
    end_ms = math.ceil(end_ms / (period * 1000)) * period * 1000
    whole = max(period, (end_ms - start_ms) // 1000)
    plan = MetricsPlan(start_ms, end_ms, period, whole)
    for fn in functions:
        dims = (("FunctionName", fn),)
        for metric, stat, key in LAMBDA_STATS:
            for is_whole in (False, True):
                if is_whole or (metric, key) in TREND or (metric, key) == ("Duration", "count"):
                    plan.add(function=fn, metric=metric, stat=stat, key=key, whole=is_whole,
                             dimensions=dims)
        if percentiles:
            for p in PERCENTILES:
                plan.add(function=fn, metric="Duration", stat=p, key=p, whole=True,
                         dimensions=dims)
        if emf is not None:
            plan.add(function=fn, metric="Timeouts", stat="Sum", key="sum", whole=True,
                     namespace=emf_namespace, dimensions=(("service", fn),))
            for service, operation in emf.get(fn, [])[:MAX_DEPENDENCIES]:
                dep_dims = (("service", fn), ("Service", service), ("Operation", operation))
                stats = [("Average", "avg"), ("Maximum", "max"), ("SampleCount", "count")]
                if percentiles:
                    stats.append(("p99", "p99"))
                for stat, key in stats:
                    plan.add(function=fn, metric="DownstreamLatency", stat=stat, key=key,
                             whole=True, namespace=emf_namespace, dimensions=dep_dims,
                             dependency=f"{service} {operation}")
    return plan


def fetch(
    access: AwsAccess, plan: MetricsPlan
) -> dict[str, tuple[list[float], list[float]]]:
    """Query id -> (epoch seconds, values), every page of every batch of ``plan``'s queries."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    start = datetime.fromtimestamp(plan.start_ms / 1000, tz=timezone.utc)
    end = datetime.fromtimestamp(plan.end_ms / 1000, tz=timezone.utc)
    for i in range(0, len(plan.queries), MAX_QUERIES):
        batch = plan.queries[i:i + MAX_QUERIES]
        params: dict[str, Any] = {
            "MetricDataQueries": [
                q.to_api(plan.whole_period if q.whole else plan.period) for q in batch
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = access.call("cloudwatch", "get_metric_data", "cloudwatch:GetMetricData",
                               **params)
            merge_results(out, page.get("MetricDataResults") or ())
            token = page.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    return out


def merge_results(
    out: dict[str, tuple[list[float], list[float]]], results: Iterable[Any]
) -> None:
    """Add one GetMetricData page's ``MetricDataResults`` to ``out`` (a series may span pages)."""
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("Id"), str):
            continue
        stamps, values = out.setdefault(result["Id"], ([], []))
        for ts, value in zip(result.get("Timestamps") or (), result.get("Values") or ()):
            epoch = _epoch_s(ts)
            if epoch is None or not isinstance(value, (int, float)) or value != value:
                continue
            stamps.append(epoch)
            values.append(float(value))


def summarize(
    plan: MetricsPlan, data: dict[str, tuple[list[float], list[float]]]
) -> dict[str, dict[str, Any]]:
    """The report's ``metrics`` object: per function, the totals and the per-period series."""
    report: dict[str, dict[str, Any]] = {}
    trend: dict[str, dict[str, dict[int, float]]] = {}
    for q in plan.queries:
        fn = report.setdefault(q.function, {})
        stamps, values = data.get(q.id, ([], []))
        if not q.whole:
            series = trend.setdefault(q.function, {}).setdefault(f"{q.metric}.{q.key}", {})
            for ts, v in zip(stamps, values):
                series[int(ts)] = v
            continue
        if q.dependency is not None:
            deps = fn.setdefault("DownstreamLatency", {})
            value = _combine(q.key, values, data.get(_sibling(plan, q, "count"), ([], []))[1])
            if value is not None:
                deps.setdefault(q.dependency, {})[q.key] = _round(value)
            continue
        counts = data.get(_sibling(plan, q, "count"), ([], []))[1] if q.key == "avg" else []
        value = _combine(q.key, values, counts)
        if value is None and q.key in ("sum",) and q.metric in ("Invocations", "Errors",
                                                               "Throttles"):
            value = 0.0  # no datapoint for a count in the window means none happened
        if value is not None:
            fn.setdefault(q.metric, {})[q.key] = _round(value)
    for function, summary in report.items():
        summary["series"] = _series(plan, trend.get(function, {}))
        duration = summary.get("Duration")
        if isinstance(duration, dict):
            duration.pop("count", None)
    return report


def _series(plan: MetricsPlan, trend: dict[str, dict[int, float]]) -> dict[str, Any]:
    start_s, end_s = plan.start_ms // 1000, plan.end_ms // 1000
    stamps = list(range(start_s, end_s, plan.period))
    seen = sorted({ts for series in trend.values() for ts in series})
    # CloudWatch aligns periods to the start time (or to the clock for long periods): keep its
    # own timestamps when they are off our grid.
    if seen and not set(seen) <= set(stamps):
        stamps = sorted(set(stamps) | set(seen))
    out: dict[str, Any] = {
        "period_s": plan.period,
        "timestamps": [_iso(ts) for ts in stamps],
    }
    for metric, key in TREND:
        series = trend.get(f"{metric}.{key}", {})
        zero = key == "sum"
        out[f"{metric}.{key}"] = [
            _round(series[ts]) if ts in series else (0 if zero else None) for ts in stamps
        ]
    return out


def _sibling(plan: MetricsPlan, q: Query, key: str) -> str:
    for other in plan.queries:
        if (other.function, other.metric, other.key, other.whole, other.dimensions) == (
            q.function, q.metric, key, q.whole, q.dimensions
        ):
            return other.id
    return ""


def _combine(key: str, values: list[float], counts: list[float]) -> Optional[float]:
    """The window's value from its datapoints (usually one; two when CloudWatch aligns the
    whole-window period across a boundary)."""
    if not values:
        return None
    if key in ("sum", "count"):
        return sum(values)
    if key == "avg":
        if counts and len(counts) == len(values) and sum(counts) > 0:
            return sum(v * c for v, c in zip(values, counts)) / sum(counts)
        return sum(values) / len(values)
    # max, and percentiles: the highest of the window's datapoints (an upper bound for a
    # percentile split across two periods)
    return max(values)


def _epoch_s(ts: Any) -> Optional[float]:
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=timezone.utc)
        return float(ts.timestamp())
    if isinstance(ts, (int, float)):
        return float(ts)
    if isinstance(ts, str):
        ms = iso_to_ms(ts)
        return ms / 1000 if ms is not None else None
    return None


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(value: float) -> float:
    return round(value, 2)


def emf_dependencies(
    access: AwsAccess, functions: Sequence[str], namespace: str
) -> dict[str, list[tuple[str, str]]]:
    """(Service, Operation) pairs with ``DownstreamLatency`` per function, from ListMetrics."""
    out: dict[str, list[tuple[str, str]]] = {}
    for fn in functions:
        pairs: list[tuple[str, str]] = []
        params: dict[str, Any] = {
            "Namespace": namespace,
            "MetricName": "DownstreamLatency",
            "Dimensions": [{"Name": "service", "Value": fn}],
        }
        while len(pairs) < MAX_DEPENDENCIES:
            page = access.call("cloudwatch", "list_metrics", "cloudwatch:ListMetrics", **params)
            for metric in page.get("Metrics") or ():
                dims = {d.get("Name"): d.get("Value") for d in metric.get("Dimensions") or ()}
                if set(dims) == {"service", "Service", "Operation"}:
                    pair = (str(dims["Service"]), str(dims["Operation"]))
                    if pair not in pairs:
                        pairs.append(pair)
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
        out[fn] = pairs[:MAX_DEPENDENCIES]
    return out


#: endpoints (None: AWS itself) that answered extended statistics with an error
_NO_EXTENDED_STATISTICS: set[Optional[str]] = set()
_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403"})


@dataclass
class MetricsResult:
    """The report's ``metrics`` and what reading them cost or skipped."""

    metrics: dict[str, dict[str, Any]]
    period_s: int
    percentiles: bool
    skipped: list[str] = field(default_factory=list)


def read_metrics(
    access: AwsAccess,
    functions: Sequence[str],
    start_ms: int,
    end_ms: int,
    *,
    emf_namespace: str = DEFAULT_EMF_NAMESPACE,
) -> Optional[MetricsResult]:
    """Every function's metrics for the window; None (with the reason in ``skipped``) when
    GetMetricData is not allowed."""
    skipped: list[str] = []
    emf: Optional[dict[str, list[tuple[str, str]]]]
    try:
        emf = emf_dependencies(access, functions, emf_namespace)
    except (CheckSkipped, NotFound) as exc:
        emf = {}
        skipped.append(f"EMF dependency metrics: {exc}")
    percentiles = access.endpoint_url not in _NO_EXTENDED_STATISTICS
    plan = plan_queries(functions, start_ms, end_ms, percentiles=percentiles, emf=emf,
                        emf_namespace=emf_namespace)
    try:
        data = fetch(access, plan)
    except CheckSkipped as first:
        if not percentiles or first.code in _DENIED_CODES or "denied" in first.message:
            return MetricsResult({}, plan.period, False, [f"metrics: {first}", *skipped])
        # moto (and some proxies) reject extended statistics: ask again without them, and do
        # not ask that endpoint for them again in this process
        _NO_EXTENDED_STATISTICS.add(access.endpoint_url)
        plan = plan_queries(functions, start_ms, end_ms, percentiles=False, emf=emf,
                            emf_namespace=emf_namespace)
        percentiles = False
        try:
            data = fetch(access, plan)
        except (CheckSkipped, NotFound) as exc:
            return MetricsResult({}, plan.period, False, [f"metrics: {exc}", *skipped])
    except NotFound as exc:
        return MetricsResult({}, plan.period, False, [f"metrics: {exc}", *skipped])
    if not percentiles:
        skipped.append("Duration p50/p99: the endpoint refused extended statistics")
    return MetricsResult(summarize(plan, data), plan.period, percentiles, skipped)
