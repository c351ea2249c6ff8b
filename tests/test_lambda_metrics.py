"""The metrics queries and their parsing, and the metrics section renderers.

moto cannot compute percentiles, so p50/p99 are tested on a GetMetricData response body (see
tests/data/cloudwatch/SOURCES.md) parsed by botocore's own parser, the path a real answer takes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from clocks import now_ms

from lambda_trace.analyzer.lambda_metrics import (
    choose_period,
    merge_results,
    plan_queries,
    summarize,
)
from lambda_trace.analyzer.render import metrics_section
from lambda_trace.analyzer.render.html import render_html
from lambda_trace.analyzer.render.markdown import md, render_markdown
from lambda_trace.analyzer.render.terminal import render_terminal
from lambda_trace.analyzer.report import report_from_json

DATA = Path(__file__).resolve().parent / "data" / "cloudwatch"
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
# "now" on the hour: the same arithmetic on any day
NOW = now_ms() // HOUR_MS * HOUR_MS


def botocore_parse(body: bytes) -> dict[str, Any]:
    """``body`` as boto3 would hand it over: botocore's JSON-protocol parser and output shape."""
    import botocore.parsers
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("GetMetricData").output_shape
    parser = botocore.parsers.create_parser("json")
    return dict(parser.parse({"status_code": 200, "headers": {}, "body": body}, shape))


def test_percentiles_are_read_from_a_get_metric_data_answer() -> None:
    plan = plan_queries(["thumb"], NOW - HOUR_MS, NOW, percentiles=True,
                        emf={"thumb": [("s3", "GetObject")]}, now_ms=NOW)
    ids = {(q.metric, q.stat, q.dependency): q.id for q in plan.queries}
    # the recorded answer's ids are q0..q3: map them onto this plan's ids
    body = json.loads((DATA / "get_metric_data_percentiles.json").read_text())
    wanted = {
        "q0": ids[("Duration", "p50", None)],
        "q1": ids[("Duration", "p99", None)],
        "q2": ids[("DownstreamLatency", "p99", "s3 GetObject")],
    }
    for result in body["MetricDataResults"]:
        result["Id"] = wanted.get(result["Id"], "unused")
    parsed = botocore_parse(json.dumps(body).encode())
    assert type(parsed["MetricDataResults"][0]["Timestamps"][0]).__name__ == "datetime"
    data: dict[str, Any] = {}
    merge_results(data, parsed["MetricDataResults"])
    summary = summarize(plan, data)["thumb"]
    assert summary["Duration"]["p50"] == 212.4 and summary["Duration"]["p99"] == 2871.9
    assert summary["DownstreamLatency"]["s3 GetObject"]["p99"] == 640.25
    assert summary["Invocations"] == {"sum": 0.0}  # no datapoint: nothing happened


def test_one_plan_asks_for_every_metric_and_percentiles_only_when_asked() -> None:
    plan = plan_queries(["a", "b"], NOW - HOUR_MS, NOW, now_ms=NOW)
    metrics = {q.metric for q in plan.queries}
    assert metrics == {"Invocations", "Errors", "Throttles", "Duration", "ConcurrentExecutions",
                       "IteratorAge", "AsyncEventsDropped", "AsyncEventAge"}
    assert {q.stat for q in plan.queries if q.metric == "Duration"} == {
        "Average", "Maximum", "SampleCount", "p50", "p99"}
    assert len({q.id for q in plan.queries}) == len(plan.queries) <= 500
    without = plan_queries(["a"], NOW - HOUR_MS, NOW, percentiles=False, now_ms=NOW)
    assert not [q for q in without.queries if q.stat.startswith("p")]
    api = plan.queries[0].to_api(plan.period)
    assert api["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "FunctionName", "Value": "a"}]
    # start and end on the period grid; the whole-window query spans it exactly
    assert plan.start_ms % (plan.period * 1000) == 0 and plan.end_ms % (plan.period * 1000) == 0
    assert plan.whole_period == (plan.end_ms - plan.start_ms) // 1000


def test_the_period_follows_the_span_and_the_data_age() -> None:
    assert choose_period(NOW - HOUR_MS, NOW, NOW) == 60
    assert choose_period(NOW - DAY_MS, NOW, NOW) == 900
    assert choose_period(NOW - 30 * DAY_MS, NOW, NOW) == 21600
    # 20 days back: 1-minute data is gone, at least 5 minutes
    assert choose_period(NOW - 20 * DAY_MS, NOW - 20 * DAY_MS + HOUR_MS, NOW) == 300
    # 90 days back: 5-minute data is gone too, at least an hour
    assert choose_period(NOW - 90 * DAY_MS, NOW - 90 * DAY_MS + HOUR_MS, NOW) == 3600


def test_the_average_is_weighted_by_samples_across_datapoints() -> None:
    plan = plan_queries(["f"], NOW - HOUR_MS, NOW, percentiles=False, now_ms=NOW)
    ids = {(q.metric, q.key, q.whole): q.id for q in plan.queries}
    data = {ids[("Duration", "avg", True)]: ([1.0, 2.0], [100.0, 400.0]),
            ids[("Duration", "count", True)]: ([1.0, 2.0], [3.0, 1.0])}
    assert summarize(plan, data)["f"]["Duration"] == {"avg": 175.0}


# -- renderers ---------------------------------------------------------------------------------


def metrics_report() -> dict[str, Any]:
    from lambda_trace.analyzer.aggregate import aggregate_events
    from lambda_trace.analyzer.findings import find_all
    from lambda_trace.analyzer.report import report_from_aggregate

    agg, _ = aggregate_events(iter(()))
    report = dict(report_from_aggregate(agg, find_all(agg)).document)
    stamps = [f"2026-12-03T08:{m:02d}:00Z" for m in range(6)]
    report["metrics"] = {"<b>thumb</b>": {
        "Invocations": {"sum": 42.0}, "Errors": {"sum": 3.0}, "Throttles": {"sum": 0.0},
        "Duration": {"avg": 120.5, "max": 2990.0, "p99": 900.0},
        "ConcurrentExecutions": {"max": 4.0},
        "AsyncEventsDropped": {"sum": 2.0},
        "DownstreamLatency": {"s3 GetObject": {"avg": 40.0, "max": 80.0, "count": 9.0}},
        "series": {"period_s": 60, "timestamps": stamps,
                   "Invocations.sum": [0, 2, 10, 20, 10, 0], "Errors.sum": [0, 0, 1, 2, 0, 0],
                   "Throttles.sum": [0] * 6, "Duration.avg": [None] * 6,
                   "Duration.max": [None] * 6, "ConcurrentExecutions.max": [None] * 6},
    }}
    report["metrics_period_s"] = 60
    report["aws_checks"] = {"requests": 3, "skipped": [], "log_plan": None}
    return report


def test_the_report_with_metrics_validates_against_the_schema() -> None:
    schema = json.loads((resources.files("lambda_trace.analyzer.render") / "assets" /
                         "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(metrics_report(), schema)


def test_terminal_and_markdown_show_the_metrics_table() -> None:
    report = metrics_report()
    text = render_terminal(report_from_json(report), color=False, width=160)
    assert "Lambda metrics (CloudWatch, per 1 min)" in text
    row = next(line for line in text.splitlines() if "<b>thumb</b>" in line)
    assert "42" in row and "2990 ms" in row and "900 ms" in row
    assert metrics_section.sparkline([0, 2, 10, 20, 10, 0]) in row
    assert "AsyncEventsDropped 2" in text and "s3 GetObject avg 40.0 ms" in text
    page = render_markdown(report_from_json(report))
    assert "## Lambda metrics (CloudWatch, per 1 min)" in page
    assert "| &lt;b&gt;thumb&lt;/b&gt; | 42 | 3 | 0 |" in page
    assert metrics_section.markdown({}, md) == ""


def test_html_draws_the_trend_as_inline_svg_with_escaped_names() -> None:
    page = render_html(report_from_json(metrics_report()))
    section = page[page.index("<section id=\"metrics\">"):]
    section = section[:section.index("</section>")]
    assert "<b>thumb</b>" not in section and "&lt;b&gt;thumb&lt;/b&gt;" in section
    assert section.count("<polyline") == 3 and "data-series=\"errors\"" in section
    assert " style=" not in section  # the page's CSP allows no inline style attributes


def test_sparkline_buckets_long_series() -> None:
    assert metrics_section.sparkline([]) == ""
    assert metrics_section.sparkline([0, 0]) == "▁▁"
    line = metrics_section.sparkline(list(range(100)))
    assert len(line) <= metrics_section.SPARK_WIDTH and "█" in line and line[0] == "▁"


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_svg_trend_draws_in_chromium_under_the_csp(tmp_path: Path) -> None:
    """Headless Chromium: no CSP violation, and the three series' colours are on the page."""
    from PIL import Image

    assert CHROMIUM is not None
    target = tmp_path / "report.html"
    target.write_text(render_html(report_from_json(metrics_report())), encoding="utf-8")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000"]
    dom = subprocess.run([*base, "--dump-dom", target.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    body = dom[dom.index("<body"):dom.index(">", dom.index("<body"))]
    assert "data-csp-violations" not in body and "data-charts-rendered" in body
    shot = tmp_path / "shot.png"
    subprocess.run([*base, "--hide-scrollbars", "--window-size=1280,900",
                    "--run-all-compositor-stages-before-draw",
                    f"--screenshot={shot}", target.as_uri()],
                   capture_output=True, timeout=120, check=True)
    counts = {rgb: n for n, rgb in Image.open(shot).convert("RGB").getcolors(1 << 20) or []}
    for colour in ((0x15, 0x65, 0xC0), (0xC6, 0x28, 0x28), (0xB2, 0x6A, 0x00)):
        assert counts.get(colour, 0) > 100, (colour, counts.get(colour, 0))
