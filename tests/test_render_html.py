"""Specification of the HTML report: self-contained, charts that render, log content inert.

The browser checks run the page in headless Chromium (Debian's ``chromium``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from join_builders import HOSTILE, HOSTILE_NAME, realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.findings import find_all
from lambda_trace.analyzer.render.html import embed_json, render_html
from lambda_trace.analyzer.report import report_from_aggregate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def page(hostile: bool = False) -> tuple[str, dict]:
    agg, join_stats = aggregate_events(realistic_events(hostile=hostile))
    report = report_from_aggregate(agg, find_all(agg), join_stats=join_stats)
    return render_html(report), dict(report.charts)


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", *extra, url,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


class Dom(HTMLParser):
    """Elements, attributes and text of a dumped DOM."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            self.text.append(data)


def inline_blocks(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_page_is_self_contained_under_a_strict_csp() -> None:
    """No external resource; the CSP allows exactly the inline scripts and style, by hash."""
    html, _ = page()
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = csp.group(1).replace("&#x27;", "'")
    assert policy.startswith("default-src 'none'")
    scripts = inline_blocks(html, "script")
    assert len(scripts) == 2  # Chart.js and the page's own; the data block is not code
    for body in scripts:
        assert sha256(body) in policy
    for body in inline_blocks(html, "style"):
        assert sha256(body) in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "Chart.js v4" in scripts[0]


def test_embedded_json_cannot_end_its_script_element() -> None:
    """``<``, ``>``, ``&``, U+2028 and U+2029 never appear raw, and the data round-trips."""
    data = {"name": HOSTILE_NAME, "message": HOSTILE, "n": [1, 2.5, None]}
    text = embed_json(data)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert json.loads(text) == data


def test_chart_data_holds_the_timelines_distributions_and_series() -> None:
    """Every slowest invocation's calls (in start order), histogram shares, the time series."""
    _, charts = page()
    invocations = charts["invocations"]
    assert len(invocations) == 10
    chosen = invocations[charts["first_with_calls"]]
    assert chosen["calls"] and all(c["start_ms"] is not None for c in chosen["calls"])
    for inv in invocations:
        starts = [c["start_ms"] for c in inv["calls"]]
        assert starts == sorted(starts)
    latency = charts["latency"]
    for series in latency["series"]:
        assert len(series["shares"]) == len(latency["labels"])
        assert sum(series["shares"]) == pytest.approx(100, abs=0.1)
    timeline = charts["timeline"]
    assert timeline["timeout_ms"] == 3000
    assert len(timeline["labels"]) == len(timeline["duration_max"]) == len(timeline["memory_size"])


@needs_chromium
def test_hostile_log_content_is_shown_as_text_and_never_runs(tmp_path: Path) -> None:
    """A <script>, an onerror handler, a javascript: URL and a breakout stay inert text."""
    html, charts = page(hostile=True)
    target = tmp_path / "report.html"
    target.write_text(html, encoding="utf-8")
    dom = Dom(chromium(tmp_path, target.as_uri(), "--dump-dom"))
    attributes = {k for _, attrs in dom.elements for k in attrs}
    assert "data-pwned" not in attributes
    body = next(attrs for tag, attrs in dom.elements if tag == "body")
    assert body.get("data-charts-rendered") == "4"  # the page's own code ran, under its CSP
    assert "data-csp-violations" not in body  # nothing injected was even attempted
    tags = [tag for tag, _ in dom.elements]
    assert tags.count("script") == 3 and tags.count("canvas") == 4
    assert "img" not in tags and "a" not in tags
    text = "".join(dom.text)
    assert "<script>document.documentElement.setAttribute('data-pwned','script')</script>" in text
    assert "javascript:document.documentElement" in text
    assert "\"double\" 'single'" in text
    assert "\\x1b[31mred" in text and "\\u202eevil" in text and "\\u2028line" in text
    data_block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert data_block is not None and json.loads(data_block.group(1)) == charts
    assert HOSTILE_NAME in [s["name"] for s in charts["latency"]["series"]]
    assert "setAttribute('data-pwned','breakout')</script><!--" in text  # the table cell


@needs_chromium
def test_charts_really_draw_in_a_screenshot(tmp_path: Path) -> None:
    """The screenshot of a realistic report has the charts' colours in it, not blank canvases."""
    from PIL import Image

    html, _ = page()
    target = tmp_path / "report.html"
    target.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    chromium(tmp_path, target.as_uri(), "--hide-scrollbars", "--window-size=1280,4000",
             f"--screenshot={shot}")
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    counts = {rgb: n for n, rgb in colours}
    blue = counts.get((0x15, 0x65, 0xC0), 0)  # waterfall bars and the first latency series
    green = counts.get((0x2E, 0x7D, 0x32), 0)  # memory line
    assert blue > 2000, blue
    assert green > 200, green


@needs_chromium
def test_hostile_lines_in_a_log_file_stay_inert_end_to_end(tmp_path: Path) -> None:
    """Through the CLI: a hostile [ERROR] line and call name from a log file render as text."""
    rid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    lines = [
        f"START RequestId: {rid} Version: $LATEST",
        json.dumps({"lambda_trace": 1, "type": "call", "request_id": rid, "name": HOSTILE_NAME,
                    "kind": "http", "start_ms": 1.0, "duration_ms": 5.0, "status": "ok"}),
        "[ERROR] KeyError: " + HOSTILE + "\rTraceback (most recent call last):\r"
        '\u00a0\u00a0File "/var/task/app.py", line 3, in handler\r',
        f"END RequestId: {rid}",
        f"REPORT RequestId: {rid}\tDuration: 12.00 ms\tBilled Duration: 12 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 50 MB\t",
    ]
    log = tmp_path / "hostile.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "report.html"
    assert main(["analyze", "--no-progress", "--format", "json", "-o", str(tmp_path / "r.json"),
                 "--html", str(target), str(log)]) == 0
    dom = Dom(chromium(tmp_path, target.as_uri(), "--dump-dom"))
    assert "data-pwned" not in {k for _, attrs in dom.elements for k in attrs}
    body = next(attrs for tag, attrs in dom.elements if tag == "body")
    canvases = [tag for tag, _ in dom.elements].count("canvas")
    # No timestamps in a plain copy: waterfall and latency charts, no time series.
    assert canvases == 2 and body.get("data-charts-rendered") == "2"
    assert "data-csp-violations" not in body
    text = "".join(dom.text)
    assert "<script>document.documentElement.setAttribute('data-pwned','script')</script>" in text
    assert "setAttribute('data-pwned','breakout')</script><!--" in text
