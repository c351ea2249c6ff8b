"""The report as one self-contained HTML page with charts (Chart.js, inlined), for offline use.

Log content is untrusted, so: every text the page shows is escaped here in Python; the chart
data travels as JSON in a ``<script type="application/json">`` with ``<``, ``>``, ``&``,
U+2028/U+2029 and all other non-ASCII escaped; the page's script never builds DOM from strings
(Chart.js draws labels on a canvas); and a Content-Security-Policy allows only the page's own
two scripts and stylesheet, by hash.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from lambda_trace.analyzer.render import metrics_section, tables
from lambda_trace.analyzer.render.common import SEVERITY_LABELS, clean, footer_lines
from lambda_trace.analyzer.render.evidence import describe

if TYPE_CHECKING:
    from lambda_trace.analyzer.report import Report

CHART_JS = "chart.umd.min.js"

_STYLE = """
:root{--fg:#1d2330;--muted:#5b6474;--line:#e2e6ee;--bg:#f7f8fb;--card:#fff;
--high:#c62828;--medium:#b26a00;--low:#1565c0;--info:#607080;--pick:#e8f0fe}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
h3{font-size:15px;margin:0 0 6px}h4{font-size:13px;margin:10px 0 4px}
.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{flex:1 0 auto;background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:8px 10px}
.card b{display:block;font-size:18px;white-space:nowrap}
.card span{white-space:nowrap}
section.function{border-top:2px solid var(--line);margin-top:28px}
.finding{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--info);
border-radius:8px;padding:12px 14px;margin:0 0 10px}
.finding.high{border-left-color:var(--high)}.finding.medium{border-left-color:var(--medium)}
.finding.low{border-left-color:var(--low)}
.sev{font-size:11px;font-weight:700;letter-spacing:.05em;margin-right:8px}
.high .sev{color:var(--high)}.medium .sev{color:var(--medium)}.low .sev{color:var(--low)}
.info .sev{color:var(--info)}
.advice,.sentence{margin:6px 0}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:2px 18px;
margin:6px 0 0;font-size:12px}
dl div{display:flex;gap:8px;min-width:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere;min-width:0}
pre{background:#f1f3f7;border-radius:6px;padding:8px;overflow:auto;font-size:12px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
table.small{font-size:12px;margin:6px 0;width:auto}
th{white-space:nowrap}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;
vertical-align:top}
th:first-child,td:first-child,td.text,th.text{text-align:left;overflow-wrap:anywhere}
td.id{white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;
line-height:1.6}
tr.inv{cursor:pointer}tr.inv:hover{background:#f3f6fb}
tr.inv[aria-selected="true"]{background:var(--pick)}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px;
height:330px;position:relative}
.chart.wide{grid-column:1 / -1}
.chart h3{position:absolute;top:8px;left:12px;right:12px}
.chart canvas{margin-top:18px}
#timeline-box{margin-top:12px}
footer{margin:28px 0 8px;font-size:12px;color:var(--muted)}
"""

_APP_JS = r"""
(function () {
  "use strict";
  var body = document.body;
  var violations = 0;
  document.addEventListener("securitypolicyviolation", function () {
    violations += 1;
    body.setAttribute("data-csp-violations", String(violations));
  });
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var rendered = 0;
  var palette = ["#1565c0", "#c62828", "#2e7d32", "#b26a00", "#6a1b9a", "#00838f"];
  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") { return null; }
    config.options = config.options || {};
    config.options.animation = false;
    config.options.maintainAspectRatio = false;
    rendered += 1;
    return new Chart(canvas, config);
  }
  function axis(title, extra) {
    var out = { title: { display: true, text: title } };
    for (var k in extra) { out[k] = extra[k]; }
    return out;
  }
  // One invocation's calls as bars from start to end; the call in flight at a timeout is an
  // open bar (no end border) that runs to the deadline; failed calls are red.
  function timelineRows(inv) {
    var rows = inv.calls.map(function (c) {
      return { label: c.name + (c.status === "error" ? " (error)" : ""),
               span: [c.start_ms, c.start_ms + c.duration_ms],
               kind: c.status === "error" ? "error" : "ok" };
    });
    if (inv.in_flight && inv.duration_ms) {
      var begin = Math.max(0, inv.duration_ms - (inv.in_flight.running_ms || 0));
      rows.push({ label: inv.in_flight.name + " (in flight at the timeout)",
                  span: [begin, inv.duration_ms], kind: "in_flight" });
    }
    return rows;
  }
  var colours = { ok: "#1565c0", error: "#c62828", in_flight: "rgba(178,106,0,0.25)" };
  var timeline = null;
  var invocations = data.invocations || [];
  var caption = document.getElementById("timeline-title");
  function show(index) {
    var inv = invocations[index];
    if (!inv) { return; }
    var rows = timelineRows(inv);
    var config = {
      labels: rows.map(function (r, i) { return (i + 1) + ". " + r.label; }),
      datasets: [{
        label: "ms since the invocation started",
        data: rows.map(function (r) { return r.span; }),
        backgroundColor: rows.map(function (r) { return colours[r.kind]; }),
        borderColor: rows.map(function (r) {
          return r.kind === "in_flight" ? "#b26a00" : colours[r.kind];
        }),
        borderWidth: rows.map(function (r) { return r.kind === "in_flight" ? 2 : 0; }),
        borderSkipped: rows.map(function (r) { return r.kind === "in_flight" ? "end" : false; })
      }]
    };
    if (caption) {
      caption.textContent = "Timeline of " + inv.request_id + " (" + inv.status + ", " +
        inv.duration_label + ", " + rows.length + " calls)";
    }
    var rowsEls = document.querySelectorAll("tr.inv");
    for (var i = 0; i < rowsEls.length; i++) {
      var chosen = rowsEls[i].getAttribute("data-index") === String(index);
      rowsEls[i].setAttribute("aria-selected", chosen ? "true" : "false");
    }
    body.setAttribute("data-timeline", inv.request_id);
    body.setAttribute("data-timeline-bars", String(rows.length));
    if (timeline) {
      timeline.data.labels = config.labels;
      timeline.data.datasets = config.datasets;
      timeline.options.scales.x.max = inv.duration_ms || undefined;
      timeline.update();
      return;
    }
    timeline = chart("chart-timeline", {
      type: "bar", data: config,
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: { x: axis("ms since start", { min: 0, max: inv.duration_ms || undefined }) }
      }
    });
  }
  var pick = document.querySelectorAll("tr.inv");
  for (var r = 0; r < pick.length; r++) {
    (function (row) {
      function choose() { show(Number(row.getAttribute("data-index"))); }
      row.addEventListener("click", choose);
      row.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(); }
      });
    })(pick[r]);
  }
  if (invocations.length) { show(data.first_with_calls || 0); }
  // Latency per dependency as a histogram: one bar per log-scale (power-of-two) bucket.
  var l = data.latency;
  if (l && l.series.length) {
    chart("chart-latency", {
      type: "bar",
      data: {
        labels: l.labels,
        datasets: l.series.map(function (s, i) {
          return { label: s.name, data: s.shares, backgroundColor: palette[i % palette.length],
                   barPercentage: 0.9, categoryPercentage: 0.9 };
        })
      },
      options: { scales: { x: axis("call duration (log-scale buckets)", {}),
                           y: axis("% of calls", { min: 0 }) } }
    });
  }
  var t = data.timeline;
  if (t && t.labels.length) {
    var dur = [
      { label: "max duration", data: t.duration_max, borderColor: "#c62828",
        backgroundColor: "#c62828", pointRadius: 1 },
      { label: "mean duration", data: t.duration_mean, borderColor: "#1565c0",
        backgroundColor: "#1565c0", pointRadius: 1 }
    ];
    if (t.timeout_ms) {
      dur.push({ label: "timeout", data: t.labels.map(function () { return t.timeout_ms; }),
                 borderColor: "#555", borderDash: [6, 4], pointRadius: 0 });
    }
    chart("chart-duration", {
      type: "line", data: { labels: t.labels, datasets: dur },
      options: { scales: { y: axis("ms", { min: 0 }) } }
    });
    chart("chart-memory", {
      type: "line",
      data: {
        labels: t.labels,
        datasets: [
          { label: "max memory used", data: t.memory_used, borderColor: "#2e7d32",
            backgroundColor: "#2e7d32", pointRadius: 1 },
          // The limit changes only when the function is reconfigured: a step, not a slope.
          { label: "memory size (limit)", data: t.memory_size, borderColor: "#555",
            borderDash: [6, 4], pointRadius: 0, stepped: true }
        ]
      },
      options: { scales: { y: axis("MB", { min: 0 }) } }
    });
  }
  body.setAttribute("data-charts-rendered", String(rendered));
})();
"""


def render_html(report: Report) -> str:
    """The page: the report's sections as HTML, its chart data as inert JSON for the script."""
    charts = report.charts
    document = report.document
    chart_js = _chart_js()
    csp = (
        "default-src 'none'; "
        f"script-src {_hash(chart_js)} {_hash(_APP_JS)}; "
        f"style-src {_hash(_STYLE)}; img-src data:; base-uri 'none'; form-action 'none'"
    )
    functions = document.get("functions")
    if isinstance(functions, dict) and functions:
        # Findings about no one function (or one the sections lack) are shown above them.
        loose = [f for f in document.get("findings") or []
                 if not f.get("function") or f["function"] not in functions]
        body = (_findings(loose) if loose else "") + "".join(
            _function_section(i, name, entry or {})
            for i, (name, entry) in enumerate(functions.items()))
    else:
        body = _findings(document.get("findings") or []) + _dependencies(document)
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_e(csp)}\">\n",
        "<meta name=\"referrer\" content=\"no-referrer\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>lambda-trace report</title>\n",
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n",
        _header(document),
        body,  # the findings first: what to change; the metrics' charts after them
        render_metrics(document),
        _slowest(document, charts),
        _charts(charts),
        _errors(document),
        _footer(document),
        "</main>\n",
        f"<script type=\"application/json\" id=\"report-data\">{embed_json(charts)}</script>\n",
        f"<script>{chart_js}</script>\n",
        f"<script>{_APP_JS}</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def render_metrics(report: Mapping[str, Any]) -> str:
    """The ``metrics`` section (CloudWatch metrics per function, with their charts); empty when
    it is absent."""
    return metrics_section.html_section(report)


def embed_json(data: Any) -> str:
    """JSON that is inert inside a ``<script>`` element and still parses to ``data``."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    # ensure_ascii already escapes U+2028/U+2029; these three could end the element or start
    # a comment/entity inside it.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cards(summary: Mapping[str, Any], element_id: str) -> str:
    cells = tables.summary_cells(summary)
    html_cards = "".join(
        f"<div class=\"card\"><span class=\"muted\">{_e(k)}</span><b>{_e(v)}</b></div>"
        for k, v in zip(tables.SUMMARY_HEADERS, cells)
    )
    return f"<section class=\"cards\" id=\"{element_id}\">{html_cards}</section>\n"


def _header(report: Mapping[str, Any]) -> str:
    tr = report.get("time_range") or {}
    when = f"{tr['start']} → {tr.get('end')}" if tr.get("start") else "no timestamps"
    return (f"<header><h1>lambda-trace report</h1><p class=\"muted\">{_t(when)}</p></header>\n"
            + _cards(report, "summary"))


def _function_section(index: int, name: str, entry: Mapping[str, Any]) -> str:
    """One function: its summary cards, findings and dependencies."""
    summary = entry.get("summary") or {}
    deps = entry.get("dependencies") or []
    return (
        f"<section class=\"function\" id=\"function-{index}\">"
        f"<h2>Function {_t(name, 200)}</h2>\n"
        + _cards(summary, f"summary-{index}")
        + _findings(entry.get("findings") or [], level=3)
        + _dependencies({"dependencies": deps}, level=3)
        + "</section>\n"
    )


def _findings(findings: Sequence[Mapping[str, Any]], level: int = 2) -> str:
    out = [f"<section class=\"findings\"><h{level}>Findings</h{level}>\n"]
    if not findings:
        out.append("<p>Nothing to report.</p>\n")
    for f in findings:
        severity = f.get("severity") if f.get("severity") in SEVERITY_LABELS else "info"
        view = describe(f)
        sentence = f"<p class=\"sentence\">{_t(view.sentence, 1000)}</p>" if view.sentence else ""
        items = "".join(f"<div><dt>{_t(k)}</dt><dd>{_t(v, 400)}</dd></div>"
                        for k, v in view.facts)
        facts = f"<dl>{items}</dl>" if items else ""
        evidence_tables = "".join(
            f"<h4>{_t(t.title)}</h4>" + _table((t.headers, t.rows, t.numeric), "small")
            for t in view.tables
        )
        policy = (f.get("evidence") or {}).get("suggested_policy")
        policy_html = (
            f"<p>Suggested IAM policy:</p><pre>{_e(json.dumps(policy, indent=2))}</pre>"
            if policy else ""
        )
        function = (f"<p class=\"muted\">function: {_t(f['function'], 200)}</p>"
                    if f.get("function") else "")
        out.append(
            f"<article class=\"finding {severity}\"><h3><span class=\"sev\">"
            f"{SEVERITY_LABELS[str(severity)]}</span>{_t(f.get('kind'))} · "
            f"{_t(f.get('subject'), 160)}</h3>{function}{sentence}"
            f"<p class=\"advice\">{_t(f.get('advice'), 4000)}</p>{facts}{evidence_tables}"
            f"{policy_html}</article>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _table(table: tables.Table, cls: str = "", id_columns: tuple[str, ...] = ()) -> str:
    headers, rows, numeric = table
    head = _head(headers, numeric)
    body = "".join(
        "<tr>" + "".join(_cell(cell, n, h in id_columns)
                         for cell, n, h in zip(row, numeric, headers)) + "</tr>"
        for row in rows
    )
    attr = f" class=\"{cls}\"" if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _head(headers: list[str], numeric: list[bool]) -> str:
    return "".join(("<th>" if n else "<th class=\"text\">") + f"{_e(h)}</th>"
                   for h, n in zip(headers, numeric))


def _cell(text: str, numeric: bool, identifier: bool = False) -> str:
    cls = "id" if identifier else ("" if numeric else "text")
    attr = f" class=\"{cls}\"" if cls else ""
    return f"<td{attr}>{_t(text, 400)}</td>"


def _slowest(report: Mapping[str, Any], charts: Mapping[str, Any]) -> str:
    """The slowest invocations; a click on a row draws its timeline below the table."""
    rows = report.get("slowest_invocations") or []
    if not rows:
        return ""
    with_function = any(row.get("function") for row in rows)
    headers, cells, numeric = tables.slowest_table(rows, with_function)
    head = _head(headers, numeric)
    body = "".join(
        f"<tr class=\"inv\" data-index=\"{i}\" tabindex=\"0\" aria-selected=\"false\">"
        + "".join(_cell(cell, n, h == "request id") for cell, n, h in zip(row, numeric, headers))
        + "</tr>"
        for i, row in enumerate(cells)
    )
    return (
        "<section id=\"slowest\"><h2>Slowest invocations</h2>"
        "<p class=\"muted\">Click an invocation to see its calls: bars from start to end, failed "
        "calls in red, the call in flight at a timeout as an open bar to the deadline.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        "<div class=\"chart wide\" id=\"timeline-box\"><h3 id=\"timeline-title\">Timeline</h3>"
        "<canvas id=\"chart-timeline\" role=\"img\" aria-label=\"timeline of the chosen "
        "invocation\"></canvas></div></section>\n"
    )


def _charts(charts: Mapping[str, Any]) -> str:
    boxes = [
        ("chart-latency", "Latency histogram per dependency", "wide", charts.get("latency")),
        ("chart-duration", "Duration over time", "", charts.get("timeline")),
        ("chart-memory", "Memory over time", "", charts.get("timeline")),
    ]
    out = ["<section id=\"charts\"><h2>Charts</h2><div class=\"charts\">\n"]
    for chart_id, chart_title, cls, present in boxes:
        if not present:
            continue
        out.append(f"<div class=\"chart {cls}\"><h3>{_e(chart_title)}</h3>"
                   f"<canvas id=\"{chart_id}\" role=\"img\" aria-label=\"{_e(chart_title)}\">"
                   f"</canvas></div>\n")
    out.append("</div></section>\n")
    return "".join(out)


def _dependencies(report: Mapping[str, Any], level: int = 2) -> str:
    deps = report.get("dependencies") or []
    if not deps:
        return ""
    return (f"<section class=\"dependencies\"><h{level}>Dependencies</h{level}>"
            f"{_table(tables.dependencies_table(deps[:50]))}</section>\n")


def _errors(report: Mapping[str, Any]) -> str:
    groups = report.get("error_groups") or []
    if not groups:
        return ""
    table = tables.error_groups_table(groups[:50])
    return (f"<section id=\"errors\"><h2>Errors</h2>"
            f"{_table(table, id_columns=('example request id',))}</section>\n")


def _footer(report: Mapping[str, Any]) -> str:
    lines = footer_lines(report) or ["Read: nothing"]
    return "<footer>" + "<br>".join(_e(line) for line in lines) + "</footer>\n"


@lru_cache(maxsize=1)
def _chart_js() -> str:
    text = (resources.files("lambda_trace.analyzer.render") / "assets" / CHART_JS).read_text(
        encoding="utf-8"
    )
    # The source map is not shipped; without this line devtools would try to fetch it.
    lines = [ln for ln in text.splitlines() if not ln.startswith("//# sourceMappingURL=")]
    return "\n".join(lines)


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _t(value: Any, limit: int = 300) -> str:
    """Untrusted text: control characters made visible, then HTML-escaped."""
    return html.escape(clean(value, limit), quote=True)
