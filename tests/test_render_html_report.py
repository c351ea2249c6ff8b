"""Specification of the HTML report's layout and drill-down, checked in headless Chromium.

A probe script is added to a copy of the page (with its hash added to the CSP, as the page's own
scripts are) to click rows and measure elements; it writes what it saw into ``data-probe``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from report_fixtures import TIMED_OUT_ID, as_report, contract_report
from test_render_html import Dom, chromium, needs_chromium

from lambda_trace.analyzer.render.html import render_html


def contract_page() -> tuple[str, dict[str, Any]]:
    report = as_report(contract_report(), hostile=False)
    return render_html(report), dict(report.charts)


def with_probe(html: str, probe: str) -> str:
    digest = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    html = html.replace("script-src ", f"script-src &#x27;sha256-{digest}&#x27; ", 1)
    return html.replace("</body>", f"<script>{probe}</script>\n</body>", 1)


def probe(tmp_path: Path, html: str, script: str, width: int = 1280) -> dict[str, Any]:
    target = tmp_path / "probe.html"
    target.write_text(with_probe(html, script), encoding="utf-8")
    dom = Dom(chromium(tmp_path, target.as_uri(), f"--window-size={width},2000", "--dump-dom"))
    body = next(attrs for tag, attrs in dom.elements if tag == "body")
    assert "data-csp-violations" not in body
    assert body.get("data-probe"), body
    return json.loads(str(body["data-probe"]))


def test_a_section_per_function_and_the_metrics_hook() -> None:
    html, _ = contract_page()
    assert html.count('<section class="function"') == 2
    assert html.count('<section class="findings">') == 2  # every finding is in its function's
    assert "<h2>Function orders-api</h2>" in html and "<h2>Function orders-worker</h2>" in html
    assert '<section id="metrics"><h2>Lambda metrics (CloudWatch)</h2>' in html
    assert "function: orders-worker" in html


def test_findings_of_no_function_are_shown_above_the_function_sections() -> None:
    report = contract_report()
    report["findings"].append({"kind": "no_invocations", "severity": "high", "subject": "x",
                               "function": None, "evidence": {"events": 3}, "advice": "Look."})
    html = render_html(as_report(report, hostile=False))
    loose = html.index("No invocation among 3 recognised events.")
    assert loose < html.index('<section class="function"')


@needs_chromium
def test_clicking_an_invocation_draws_its_timeline(tmp_path: Path) -> None:
    """The timed-out row: its two calls and the in-flight call as an open bar to the deadline."""
    html, charts = contract_page()
    index = [t["request_id"] for t in charts["invocations"]].index(TIMED_OUT_ID)
    script = """
    (function () {
      document.querySelector('tr.inv[data-index="OTHER"]').click();
      var before = document.body.getAttribute("data-timeline");
      var row = document.querySelector('tr.inv[data-index="CHOSEN"]');
      row.click();
      var chart = Chart.getChart(document.getElementById("chart-timeline"));
      var ds = chart.data.datasets[0];
      document.body.setAttribute("data-probe", JSON.stringify({
        before: before, after: document.body.getAttribute("data-timeline"),
        caption: document.getElementById("timeline-title").textContent,
        labels: chart.data.labels, spans: ds.data, skipped: ds.borderSkipped,
        colours: ds.backgroundColor, max: chart.options.scales.x.max,
        selected: row.getAttribute("aria-selected")
      }));
    })();
    """.replace("OTHER", str(index + 1)).replace("CHOSEN", str(index))
    seen = probe(tmp_path, html, script)
    assert seen["before"] != TIMED_OUT_ID and seen["after"] == TIMED_OUT_ID
    assert seen["caption"] == f"Timeline of {TIMED_OUT_ID} (timeout, 3000 ms, 3 calls)"
    assert seen["labels"] == ["1. dynamodb.GetItem", "2. s3.GetObject (error)",
                              "3. http GET api.example.com (in flight at the timeout)"]
    assert seen["spans"] == [[5, 17.5], [20, 100], [150, 3000]]
    assert seen["skipped"] == [False, False, "end"]  # the open end of the in-flight bar
    assert seen["colours"][1] == "#c62828"  # the failed call is red
    assert seen["max"] == 3000 and seen["selected"] == "true"


@needs_chromium
def test_histograms_are_bars_and_the_memory_limit_is_a_step(tmp_path: Path) -> None:
    html, _ = contract_page()
    script = """
    (function () {
      var latency = Chart.getChart(document.getElementById("chart-latency"));
      var memory = Chart.getChart(document.getElementById("chart-memory"));
      document.body.setAttribute("data-probe", JSON.stringify({
        latency: latency.config.type,
        xTitle: latency.options.scales.x.title.text,
        memory: memory.data.datasets.map(function (d) { return [d.label, !!d.stepped]; })
      }));
    })();
    """
    seen = probe(tmp_path, html, script)
    assert seen["latency"] == "bar"
    assert seen["xTitle"] == "call duration (log-scale buckets)"
    assert seen["memory"] == [["max memory used", False], ["memory size (limit)", True]]


@needs_chromium
@pytest.mark.parametrize("width", [1280, 700, 420])
def test_summary_cards_never_wrap_their_values(tmp_path: Path, width: int) -> None:
    html, _ = contract_page()
    script = """
    (function () {
      var out = [];
      var values = document.querySelectorAll(".card b, .card span");
      for (var i = 0; i < values.length; i++) {
        var el = values[i];
        var lineHeight = parseFloat(getComputedStyle(el).lineHeight);
        out.push({ text: el.textContent, lines: Math.round(el.getBoundingClientRect().height /
                   lineHeight), overflow: el.scrollWidth > el.clientWidth + 1 });
      }
      document.body.setAttribute("data-probe", JSON.stringify(out));
    })();
    """
    seen = probe(tmp_path, html, script, width)
    assert len(seen) == 2 * 9 * 3  # label and value of 9 cards: the report and 2 functions
    wrapped = [v for v in seen if v["lines"] != 1 or v["overflow"]]
    assert not wrapped
    assert {"text": "3 (2.5%)", "lines": 1, "overflow": False} in seen


@needs_chromium
def test_request_ids_in_tables_stay_on_one_line(tmp_path: Path) -> None:
    html, _ = contract_page()
    script = """
    (function () {
      var cells = document.querySelectorAll("td.id");
      var out = [];
      for (var i = 0; i < cells.length; i++) {
        var range = document.createRange();
        range.selectNodeContents(cells[i]);
        out.push({ text: cells[i].textContent, rects: range.getClientRects().length });
      }
      document.body.setAttribute("data-probe", JSON.stringify(out));
    })();
    """
    seen = probe(tmp_path, html, script, 900)
    assert len(seen) >= 10
    assert all(re.fullmatch(r"[0-9a-f-]{36}", v["text"]) and v["rects"] == 1 for v in seen), seen
