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
import math
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any, Optional

from lambda_trace.analyzer.aggregate import Aggregator
from lambda_trace.analyzer.render import metrics_section
from lambda_trace.analyzer.render.common import (
    SEVERITY_LABELS,
    clean,
    evidence_items,
    fmt_count,
    fmt_ms,
    fmt_pct,
    footer_lines,
)

CHART_JS = "chart.umd.min.js"
#: dependencies shown in the latency-distribution chart
LATENCY_SERIES = 6

_STYLE = """
:root{--fg:#1d2330;--muted:#5b6474;--line:#e2e6ee;--bg:#f7f8fb;--card:#fff;
--high:#c62828;--medium:#b26a00;--low:#1565c0;--info:#607080}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
h3{font-size:15px;margin:0 0 6px}
.muted{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(105px,1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:20px}
.finding{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--info);
border-radius:8px;padding:12px 14px;margin:0 0 10px}
.finding.high{border-left-color:var(--high)}.finding.medium{border-left-color:var(--medium)}
.finding.low{border-left-color:var(--low)}
.sev{font-size:11px;font-weight:700;letter-spacing:.05em;margin-right:8px}
.high .sev{color:var(--high)}.medium .sev{color:var(--medium)}.low .sev{color:var(--low)}
.info .sev{color:var(--info)}
.advice{margin:6px 0}
dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:2px 18px;
margin:6px 0 0;font-size:12px}
dl div{display:flex;gap:8px;min-width:0}
dt{color:var(--muted)}
dd{margin:0;overflow-wrap:anywhere;min-width:0}
pre{background:#f1f3f7;border-radius:6px;padding:8px;overflow:auto;font-size:12px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
th{white-space:nowrap}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;
vertical-align:top}
th:first-child,td:first-child,td.text,th.text{text-align:left;overflow-wrap:anywhere}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:14px}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px;
height:330px;position:relative}
.chart.wide{grid-column:1 / -1}
.chart h3{position:absolute;top:8px;left:12px}
.chart canvas{margin-top:18px}
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
    if (!canvas || typeof Chart === "undefined") { return; }
    config.options = config.options || {};
    config.options.animation = false;
    config.options.maintainAspectRatio = false;
    new Chart(canvas, config);
    rendered += 1;
  }
  function axis(title, extra) {
    var out = { title: { display: true, text: title } };
    for (var k in extra) { out[k] = extra[k]; }
    return out;
  }
  var w = data.waterfall;
  if (w && w.calls.length) {
    chart("chart-waterfall", {
      type: "bar",
      data: {
        labels: w.calls.map(function (c, i) { return (i + 1) + ". " + c.name; }),
        datasets: [{
          label: "call (ms since the invocation started)",
          data: w.calls.map(function (c) { return [c.start_ms, c.start_ms + c.duration_ms]; }),
          backgroundColor: w.calls.map(function (c) {
            return c.status === "error" ? "#c62828" : "#1565c0";
          }),
          borderSkipped: false
        }]
      },
      options: {
        indexAxis: "y",
        plugins: { legend: { display: false } },
        scales: { x: axis("ms since start", { min: 0, max: w.duration_ms || undefined }) }
      }
    });
  }
  var l = data.latency;
  if (l && l.series.length) {
    chart("chart-latency", {
      type: "line",
      data: {
        labels: l.labels,
        datasets: l.series.map(function (s, i) {
          return { label: s.name, data: s.shares, borderColor: palette[i % palette.length],
                   backgroundColor: palette[i % palette.length], tension: 0.25, pointRadius: 2 };
        })
      },
      options: { scales: { x: axis("call duration", {}), y: axis("% of calls", { min: 0 }) } }
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
          { label: "memory size (limit)", data: t.memory_size, borderColor: "#555",
            borderDash: [6, 4], pointRadius: 0 }
        ]
      },
      options: { scales: { y: axis("MB", { min: 0 }) } }
    });
  }
  body.setAttribute("data-charts-rendered", String(rendered));
})();
"""


def chart_data(agg: Aggregator, report: dict[str, Any]) -> dict[str, Any]:
    """What the charts draw: the slowest invocation's calls, latency shares, the time series."""
    data: dict[str, Any] = {"waterfall": None, "latency": None, "timeline": None}
    slowest = report.get("slowest_invocations") or []
    with_calls = [s for s in slowest if any(c.get("start_ms") is not None for c in s["calls"])]
    if with_calls:
        inv = with_calls[0]
        data["waterfall"] = {
            "request_id": inv.get("request_id"),
            "duration_ms": inv.get("duration_ms"),
            "calls": [c for c in inv["calls"] if c.get("start_ms") is not None],
        }
    deps = [d for d in sorted(agg.dependencies.values(), key=lambda d: -d.total_ms)
            if d.sketch.count][:LATENCY_SERIES]
    if deps:
        low = min(d.sketch.min for d in deps)
        high = max(d.sketch.max for d in deps)
        first = math.floor(math.log2(max(low, 0.125)))
        last = max(first + 1, math.ceil(math.log2(max(high, 0.25))))
        edges = [2.0**k for k in range(first, last + 1)]
        labels = [f"<= {_ms_label(edges[0])}"] + [
            f"{_ms_label(a)} to {_ms_label(b)}" for a, b in zip(edges, edges[1:])
        ]
        series = []
        for dep in deps:
            counts = [0] * len(labels)
            for lower, upper, n in dep.sketch.buckets():
                mid = math.sqrt(lower * upper) if lower > 0 else 0.0
                i = 0 if mid <= edges[0] else math.ceil(math.log2(mid)) - first
                counts[min(i, len(labels) - 1)] += n
            total = sum(counts) or 1
            series.append({"name": dep.name, "shares": [round(100 * c / total, 2) for c in counts]})
        data["latency"] = {"labels": labels, "series": series}
    points = agg.timeline.points()
    if points:
        limits = [k for k, _, _, _ in agg.timeout_seconds.items()]
        data["timeline"] = {
            "labels": [_time_label(p["start_ms"], agg.timeline.bucket_ms) for p in points],
            "duration_max": [_round(p["duration_max_ms"]) for p in points],
            "duration_mean": [_round(p["duration_mean_ms"]) for p in points],
            "memory_used": [p["max_memory_used_mb"] for p in points],
            "memory_size": [p["memory_size_mb"] for p in points],
            "timeout_ms": max(limits) * 1000 if limits else None,
            "bucket_ms": agg.timeline.bucket_ms,
        }
    return data


def render_html(report: dict[str, Any], charts: dict[str, Any]) -> str:
    chart_js = _chart_js()
    csp = (
        "default-src 'none'; "
        f"script-src {_hash(chart_js)} {_hash(_APP_JS)}; "
        f"style-src {_hash(_STYLE)}; img-src data:; base-uri 'none'; form-action 'none'"
    )
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_e(csp)}\">\n",
        "<meta name=\"referrer\" content=\"no-referrer\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>lambda-trace report</title>\n",
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n",
        _header(report),
        _findings(report),
        metrics_section.html_section(report),
        _charts(charts),
        _dependencies(report),
        _errors(report),
        _footer(report),
        "</main>\n",
        f"<script type=\"application/json\" id=\"report-data\">{embed_json(charts)}</script>\n",
        f"<script>{chart_js}</script>\n",
        f"<script>{_APP_JS}</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def embed_json(data: Any) -> str:
    """JSON that is inert inside a ``<script>`` element and still parses to ``data``."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    # ensure_ascii already escapes U+2028/U+2029; these three could end the element or start
    # a comment/entity inside it.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _header(report: dict[str, Any]) -> str:
    tr = report.get("time_range") or {}
    n = report.get("invocations") or 0
    d = report.get("duration_ms") or {}
    when = f"{tr['start']} → {tr.get('end')}" if tr.get("start") else "no timestamps"
    cards = [
        ("invocations", fmt_count(n)),
        ("cold starts", _share(report.get("cold_starts", 0), n)),
        ("errors", _share(report.get("errors", 0), n)),
        ("timeouts", _share(report.get("timeouts", 0), n)),
        ("out of memory", _share(report.get("out_of_memory", 0), n)),
        ("p50", fmt_ms(d.get("p50"))),
        ("p95", fmt_ms(d.get("p95"))),
        ("p99", fmt_ms(d.get("p99"))),
        ("max", fmt_ms(d.get("max"))),
    ]
    html_cards = "".join(
        f"<div class=\"card\"><span class=\"muted\">{_e(k)}</span><b>{_e(v)}</b></div>"
        for k, v in cards
    )
    return (f"<header><h1>lambda-trace report</h1><p class=\"muted\">{_e(when)}</p></header>\n"
            f"<section class=\"cards\" id=\"summary\">{html_cards}</section>\n")


def _findings(report: dict[str, Any]) -> str:
    out = ["<section id=\"findings\"><h2>Findings</h2>\n"]
    findings = report.get("findings") or []
    if not findings:
        out.append("<p>Nothing to report.</p>\n")
    for f in findings:
        severity = f["severity"] if f["severity"] in SEVERITY_LABELS else "info"
        evidence = f.get("evidence") or {}
        items = "".join(f"<div><dt>{_t(k)}</dt><dd>{_t(v, 400)}</dd></div>"
                        for k, v in evidence_items(evidence))
        policy = evidence.get("suggested_policy")
        policy_html = (
            f"<p>Suggested IAM policy:</p><pre>{_e(json.dumps(policy, indent=2))}</pre>"
            if policy else ""
        )
        where = f" · function {_t(f['function'], 80)}" if f.get("function") else ""
        out.append(
            f"<article class=\"finding {severity}\"><h3><span class=\"sev\">"
            f"{SEVERITY_LABELS[severity]}</span>{_t(f['kind'])} · {_t(f.get('subject'), 160)}"
            f"{where}</h3><p class=\"advice\">{_t(f.get('advice'), 4000)}</p>{policy_html}"
            f"<dl>{items}</dl></article>\n"
        )
    out.append("</section>\n")
    return "".join(out)


def _charts(charts: dict[str, Any]) -> str:
    w = charts.get("waterfall")
    title = "Calls of the slowest invocation with call records"
    if w:
        title += f" ({clean(w.get('request_id'), 60)}, {fmt_ms(w.get('duration_ms'))})"
    boxes = [
        ("chart-waterfall", title, "wide", w),
        ("chart-latency", "Latency distribution per dependency", "wide", charts.get("latency")),
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


def _dependencies(report: dict[str, Any]) -> str:
    deps = report.get("dependencies") or []
    if not deps:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("name", "kind", "calls", "total", "share", "p50",
                                             "p95", "p99", "max", "errors"))
    rows = "".join(
        f"<tr><td>{_t(d['name'], 120)}</td><td class=\"text\">{_t(d.get('kind') or '')}</td>"
        f"<td>{fmt_count(d['calls'])}</td><td>{fmt_ms(d['total_ms'])}</td>"
        f"<td>{fmt_pct(d.get('share'))}</td><td>{fmt_ms(d['p50_ms'])}</td>"
        f"<td>{fmt_ms(d['p95_ms'])}</td><td>{fmt_ms(d['p99_ms'])}</td>"
        f"<td>{fmt_ms(d['max_ms'])}</td><td>{fmt_count(d['errors'])}</td></tr>"
        for d in deps[:50]
    )
    return (f"<section id=\"dependencies\"><h2>Dependencies</h2><table><thead><tr>{head}"
            f"</tr></thead><tbody>{rows}</tbody></table></section>\n")


def _errors(report: dict[str, Any]) -> str:
    groups = report.get("error_groups") or []
    if not groups:
        return ""
    rows = "".join(
        f"<tr><td>{fmt_count(g['count'])}</td><td class=\"text\">{_t(g['error_type'], 100)}</td>"
        f"<td class=\"text\">{_t(g.get('top_frame') or '', 100)}</td>"
        f"<td class=\"text\">{_t(g.get('example_request_id') or '', 60)}</td>"
        f"<td class=\"text\">{_t(g.get('message') or '', 300)}</td></tr>"
        for g in groups[:50]
    )
    return ("<section id=\"errors\"><h2>Errors</h2><table><thead><tr><th>count</th>"
            "<th class=\"text\">error type</th><th class=\"text\">top frame</th>"
            "<th class=\"text\">example request id</th><th class=\"text\">message</th></tr>"
            f"</thead><tbody>{rows}</tbody></table></section>\n")


def _footer(report: dict[str, Any]) -> str:
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


def _share(count: int, n: int) -> str:
    return f"{count:,} ({fmt_pct(count / n)})" if n and count else f"{count:,}"


def _ms_label(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def _time_label(epoch_ms: float, bucket_ms: int) -> str:
    dt = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    if bucket_ms >= 86_400_000:
        return dt.strftime("%Y-%m-%d")
    if bucket_ms >= 60_000:
        return dt.strftime("%m-%d %H:%M")
    return dt.strftime("%H:%M:%S")


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 2)
