"""Hostile log content reaches every report through the real CLI and stays inert text.

Every place a log line can put text into a report (error message, exception type, call and
segment names, in-flight calls of a timeout, annotations, EMF dimensions, free text) carries
``<script>``, ``javascript:`` URLs, quotes, U+2028/U+202E, NUL and ANSI escapes. The HTML page
is opened in headless Chromium, where a sentinel attribute shows whether any script ran.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clocks import now_ms
from test_render_html import CHROMIUM, Dom, chromium, needs_chromium

RID = "aaaaaaaa-bbbb-4ccc-8ddd-000000000001"
RID_TIMEOUT = "aaaaaaaa-bbbb-4ccc-8ddd-000000000002"
SENTINEL = "document.documentElement.setAttribute('data-pwned','{}')"
PAYLOADS = [
    f"<script>{SENTINEL.format('script')}</script>",
    f"</script><script>{SENTINEL.format('breakout')}</script><!--",
    f"<img src=x onerror=\"{SENTINEL.format('img')}\">",
    f"<a href=\"javascript:{SENTINEL.format('href')}\">click</a>",
    f"[link](javascript:{SENTINEL.format('md')}) ![i](javascript:x)",
    "\"double\" 'single' `tick` | pipe | *star* _under_ # hash",
    "[bold red]markup[/] [link=https://evil.example]rich link[/link]",
    "\x1b[2J\x1b[31mred\x1b[0m\x1b]0;title\x07 \x1b[1A",
    "\u202eevil\u202c \u2028line\u2029para \x00nul \x7f del \r cr",
]
HOSTILE = " ".join(PAYLOADS)
#: characters that must never reach a terminal or a Markdown file raw
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def record(**fields: object) -> str:
    return json.dumps({"lambda_trace": 1, "function_name": "fn", **fields})


def hostile_log(tmp_path: Path) -> Path:
    """A log with one failed and one timed-out invocation, hostile text everywhere."""
    emf = {
        "_aws": {"Timestamp": now_ms(), "CloudWatchMetrics": [{
            "Namespace": "LambdaTrace", "Dimensions": [["service"]],
            "Metrics": [{"Name": "Errors", "Unit": "Count"}]}]},
        "service": HOSTILE, "Errors": 1,
    }
    report = ("REPORT RequestId: {}\tDuration: {}\tBilled Duration: 1000 ms\t"
              "Memory Size: 128 MB\tMax Memory Used: 50 MB\t{}")
    lines = [
        f"START RequestId: {RID} Version: $LATEST",
        "free text " + HOSTILE,
        record(type="call", request_id=RID, name=HOSTILE, kind="http", start_ms=1.0,
               duration_ms=500.0, status="error", error_type=HOSTILE, error_message=HOSTILE),
        record(type="call", request_id=RID, name="seg " + HOSTILE, kind="segment", start_ms=2.0,
               duration_ms=300.0, status="ok"),
        record(type="invocation", request_id=RID, cold_start=False, duration_ms=900.0,
               status="error", error_type="Boom" + HOSTILE, error_message=HOSTILE,
               annotations={HOSTILE: HOSTILE}, calls={HOSTILE: {"count": 1, "total_ms": 500.0,
                                                                "max_ms": 500.0, "errors": 1}}),
        json.dumps(emf),
        f"[ERROR] KeyError: {HOSTILE}\rTraceback (most recent call last):\r"
        f'\u00a0\u00a0File "/var/task/{HOSTILE}.py", line 3, in {HOSTILE}\r',
        f"END RequestId: {RID}",
        report.format(RID, "900.00 ms", "Status: error\tError Type: Runtime.Unknown"),
        f"START RequestId: {RID_TIMEOUT} Version: $LATEST",
        record(type="timeout_warning", request_id=RID_TIMEOUT, elapsed_ms=900.0,
               remaining_ms=100.0, timeout_ms=1000.0,
               in_flight=[{"name": HOSTILE, "kind": "http", "running_ms": 899.0}], calls={}),
        f"END RequestId: {RID_TIMEOUT}",
        report.format(RID_TIMEOUT, "1000.00 ms", "Status: timeout"),
        f"2026-11-27T04:59:54.283Z {RID_TIMEOUT} Task timed out after 1.00 seconds",
    ]
    log = tmp_path / "hostile.log"
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return log


def analyze(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", *argv],
        capture_output=True, text=True, encoding="utf-8", timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_the_terminal_report_passes_no_control_sequence_through(tmp_path: Path) -> None:
    """No ESC, NUL, bidi override or line separator from the log reaches the terminal."""
    done = analyze(str(hostile_log(tmp_path)))
    out = done.stdout + done.stderr
    assert RAW_CONTROLS.findall(out) == []
    # The content is still shown, made visible rather than dropped or read as rich markup.
    assert "\\x1b[31mred" in done.stdout
    assert "[bold red]markup[/]" in done.stdout
    assert "timeout" in done.stdout


def test_on_a_terminal_only_the_reports_own_colours_are_escape_sequences(tmp_path: Path) -> None:
    """On a pseudo-terminal the report is coloured, but no log content becomes a sequence."""
    log = hostile_log(tmp_path)
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", str(log)],
        stdout=terminal, stderr=terminal, env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=120) == 0
    out = b"".join(chunks).decode("utf-8")
    assert "\x1b[" in out  # coloured: this really was a terminal
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # the renderer's own colours (SGR)
    assert RAW_CONTROLS.findall(plain.replace("\r\n", "\n")) == []
    assert "[bold red]markup[/]" in plain  # not read as rich markup
    assert "\\x1b]0;title" in plain


def test_the_markdown_report_keeps_tables_and_html_inert(tmp_path: Path) -> None:
    """Rendered as GFM: no tag, no javascript: link, no control character, tables intact."""
    from markdown_it import MarkdownIt

    done = analyze("--format", "markdown", str(hostile_log(tmp_path)))
    text = done.stdout
    assert RAW_CONTROLS.findall(text) == []
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    md.validateLink = lambda url: True  # as permissive as the laxest viewer
    tokens = md.parse(text)
    html = md.render(text)
    for dangerous in ("<script", "<img", "<a ", "<!--"):
        assert dangerous not in html, dangerous
    inline_html = [t for t in tokens if t.type in ("html_block", "html_inline")]
    inline_html += [c for t in tokens for c in (t.children or []) if c.type == "html_inline"]
    assert inline_html == []
    # Tables: every body row has as many cells as the header (an unescaped pipe adds one).
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        header = len(re.findall(r"<th[ >]", table.split("</thead>")[0]))
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], flags=re.S):
            assert len(re.findall(r"<td[ >]", row)) == header, row
    assert "&lt;script&gt;" in html  # shown, not dropped


@needs_chromium
def test_the_html_report_runs_no_script_and_shows_the_text(tmp_path: Path) -> None:
    """In Chromium no payload runs, no link leads to javascript:, and the text renders escaped."""
    assert CHROMIUM is not None
    target = tmp_path / "report.html"
    analyze("--format", "json", "-o", str(tmp_path / "r.json"), "--html", str(target),
            str(hostile_log(tmp_path)))
    dom = Dom(chromium(tmp_path, target.as_uri(), "--dump-dom"))
    attributes = {key: value for _, attrs in dom.elements for key, value in attrs.items()}
    assert "data-pwned" not in attributes
    assert [tag for tag, _ in dom.elements].count("script") == len(
        re.findall(r"<script[ >]", target.read_text(encoding="utf-8")))
    for _, attrs in dom.elements:
        for key, value in attrs.items():
            assert not key.startswith("on"), (key, value)
            assert not (value or "").strip().lower().startswith("javascript:"), (key, value)
    text = "".join(dom.text)
    assert f"<script>{SENTINEL.format('script')}</script>" in text
    assert "\u202e" not in text and "\x00" not in text and "\x1b" not in text


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "json"])
def test_hostile_text_survives_every_format_without_an_error(tmp_path: Path, fmt: str) -> None:
    """The findings still name what failed: the hostile content is data, not a crash."""
    done = analyze("--format", fmt, str(hostile_log(tmp_path)))
    assert "timeout" in done.stdout
    if fmt == "json":
        report = json.loads(done.stdout)
        # The JSON report is data for programs: the text is kept as it was (JSON-escaped).
        assert PAYLOADS[0] in json.dumps(report, ensure_ascii=False)
