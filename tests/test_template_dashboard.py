"""The CloudWatch dashboard in template.yaml reads the EMF metrics the runtime really writes.

(cfn-lint and the SAM transform of the whole template, dashboard included, are in
test_template.py.)
"""

from __future__ import annotations

import json
import re
from typing import Any

from test_template import METRIC_DIMENSIONS, functions

PSEUDO = {"AWS::Region": "eu-west-1", "AWS::StackName": "stack", "AWS::AccountId": "1"}
SEARCH = re.compile(r"SEARCH\('\{(?P<schema>[^}]*)\} MetricName=\"(?P<metric>\w+)\"', "
                    r"'(?P<stat>[\w.]+)', (?P<period>\d+)\)")


def dashboard_body(sam_template: dict[str, Any]) -> dict[str, Any]:
    (dashboard,) = [r["Properties"] for r in sam_template["Resources"].values()
                    if r["Type"] == "AWS::CloudWatch::Dashboard"]
    text = dashboard["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}!]+)\}", text))
    known = set(sam_template["Parameters"]) | set(sam_template["Resources"]) | set(PSEUDO)
    assert names <= known, names - known  # every ${...} resolves
    values = {**PSEUDO, **{p: v.get("Default", p) for p, v in sam_template["Parameters"].items()},
              **{r: f"stack-{r}" for r in sam_template["Resources"]}}
    return json.loads(re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], text))


def test_every_metric_widget_searches_a_published_metric_and_dimension_set(
    sam_template: dict[str, Any],
) -> None:
    body = dashboard_body(sam_template)
    metric_widgets = [w for w in body["widgets"] if w["type"] == "metric"]
    seen = set()
    for widget in metric_widgets:
        for (item,) in widget["properties"]["metrics"]:
            match = SEARCH.fullmatch(item["expression"])
            assert match, item["expression"]
            namespace, *dimensions = match["schema"].split(",")
            assert namespace == "LambdaTrace"
            assert set(dimensions) == METRIC_DIMENSIONS[match["metric"]], match["metric"]
            # (a DownstreamLatency's SampleCount is the number of calls)
            assert match["stat"] in {"Sum", "SampleCount", "Maximum", "Average", "p95", "p99"}
            seen.add(match["metric"])
    assert seen >= {"Duration", "Errors", "Timeouts", "DownstreamLatency", "DownstreamErrors",
                    "MemoryUsedMB", "ColdStart"}
    # widgets do not overlap on the 24-column grid
    cells = set()
    for widget in body["widgets"]:
        for x in range(widget["x"], widget["x"] + widget["width"]):
            for y in range(widget["y"], widget["y"] + widget["height"]):
                assert (x, y) not in cells
                cells.add((x, y))
        assert widget["x"] + widget["width"] <= 24


def test_the_logs_insights_widget_reads_every_function_log_group(
    sam_template: dict[str, Any],
) -> None:
    body = dashboard_body(sam_template)
    (widget,) = [w for w in body["widgets"] if w["type"] == "log"]
    query = widget["properties"]["query"]
    groups = re.findall(r"SOURCE '([^']+)'", query)
    assert groups == [f"/aws/lambda/stack-{name}" for name in functions(sam_template)]
    assert 'filter lambda_trace = 1 and type = "call"' in query
