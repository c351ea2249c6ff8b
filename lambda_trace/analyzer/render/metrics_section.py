"""The report's ``metrics`` section in every format: a table per function and the trend.

Terminal and Markdown get a short table with a sparkline of invocations per period; HTML gets
the table and an inline SVG chart over time (drawn here, with presentation attributes only, so
the page's Content-Security-Policy needs no new script or style).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Optional

from lambda_trace.analyzer.render.common import MISSING, clean, fmt_count, fmt_ms

SPARK = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 12
#: functions drawn as charts in HTML (all are in the table)
MAX_CHARTS = 12
COLUMNS = ("function", "invocations", "errors", "throttles", "avg", "p50", "p99", "max",
           "conc.", "trend")


def rows(report: Mapping[str, Any]) -> list[list[str]]:
    """One row per function, in ``COLUMNS`` order (text, not yet escaped)."""
    out = []
    for name, m in sorted((report.get("metrics") or {}).items()):
        duration = m.get("Duration") or {}
        series = m.get("series") or {}
        out.append([
            clean(name, 80),
            fmt_count(_get(m, "Invocations", "sum")),
            fmt_count(_get(m, "Errors", "sum")),
            fmt_count(_get(m, "Throttles", "sum")),
            fmt_ms(duration.get("avg")), fmt_ms(duration.get("p50")),
            fmt_ms(duration.get("p99")), fmt_ms(duration.get("max")),
            fmt_count(_get(m, "ConcurrentExecutions", "max")),
            sparkline(series.get("Invocations.sum") or []),
        ])
    return out


def shown_columns(table_rows: list[list[str]]) -> list[int]:
    """The columns worth a terminal's width: p50/p99 and concurrency only when some function
    has them (an endpoint without extended statistics, a function without the metric)."""
    optional = {5, 6, 8}
    return [i for i in range(len(COLUMNS))
            if i not in optional or any(row[i] != MISSING for row in table_rows)]


def extras(report: Mapping[str, Any]) -> list[str]:
    """Lines for what only some functions have: async and stream metrics, EMF metrics."""
    lines = []
    for name, m in sorted((report.get("metrics") or {}).items()):
        parts = []
        if _get(m, "IteratorAge", "max") is not None:
            parts.append(f"IteratorAge max {fmt_ms(_get(m, 'IteratorAge', 'max'))}")
        if _get(m, "AsyncEventAge", "max") is not None:
            parts.append(f"AsyncEventAge max {fmt_ms(_get(m, 'AsyncEventAge', 'max'))}")
        if _get(m, "AsyncEventsDropped", "sum"):
            parts.append(f"AsyncEventsDropped {fmt_count(_get(m, 'AsyncEventsDropped', 'sum'))}")
        if _get(m, "Timeouts", "sum"):
            parts.append(f"Timeouts (EMF) {fmt_count(_get(m, 'Timeouts', 'sum'))}")
        for dep, stats in sorted((m.get("DownstreamLatency") or {}).items()):
            p99 = f", p99 {fmt_ms(stats.get('p99'))}" if stats.get("p99") is not None else ""
            parts.append(f"{clean(dep, 80)} avg {fmt_ms(stats.get('avg'))}{p99}, "
                         f"max {fmt_ms(stats.get('max'))}")
        if parts:
            lines.append(f"{clean(name, 80)}: " + "; ".join(parts))
    return lines


def title(report: Mapping[str, Any]) -> str:
    period = report.get("metrics_period_s")
    per = f", per {period // 60} min" if isinstance(period, int) and period >= 60 else ""
    return f"Lambda metrics (CloudWatch{per})"


def sparkline(values: list[Any], width: int = SPARK_WIDTH) -> str:
    numbers = [float(v) if isinstance(v, (int, float)) else 0.0 for v in values]
    if not numbers:
        return ""
    step = max(1, -(-len(numbers) // width))
    buckets = [sum(numbers[i:i + step]) for i in range(0, len(numbers), step)]
    top = max(buckets)
    if top <= 0:
        return SPARK[0] * len(buckets)
    return "".join(SPARK[min(len(SPARK) - 1, int(b / top * (len(SPARK) - 1) + 0.5))]
                   for b in buckets)


def _get(m: Mapping[str, Any], metric: str, key: str) -> Optional[float]:
    value = (m.get(metric) or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


# -- one function per format -------------------------------------------------------------------


def print_terminal(console: Any, report: Mapping[str, Any]) -> None:
    """The metrics table on a rich console (nothing when the report has no metrics)."""
    table_rows = rows(report)
    if not table_rows:
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, title=title(report), title_justify="left",
                  title_style="bold")
    keep = shown_columns(table_rows)
    for i in keep:
        last = i == len(COLUMNS) - 1
        table.add_column(COLUMNS[i], justify="left" if i == 0 or last else "right",
                         overflow="fold", no_wrap=i > 0, min_width=30 if i == 0 else None)
    for row in table_rows:
        table.add_row(*(Text(row[i]) for i in keep))
    console.print(table)
    for line in extras(report):
        console.print(Text("  " + line, style="dim"))


def markdown(report: Mapping[str, Any], escape: Any) -> str:
    """The metrics table as GitHub Markdown; ``escape`` makes untrusted text inert."""
    table_rows = rows(report)
    if not table_rows:
        return ""
    out = [f"## {title(report)}\n\n", "| " + " | ".join(COLUMNS) + " |\n",
           "|---|" + "---:|" * (len(COLUMNS) - 2) + "---|\n"]
    for row in table_rows:
        out.append("| " + " | ".join(escape(cell) for cell in row) + " |\n")
    out.append("\n")
    for line in extras(report):
        out.append(f"- {escape(line)}\n")
    if extras(report):
        out.append("\n")
    return "".join(out)


def html_section(report: Mapping[str, Any]) -> str:
    """The table and one SVG chart per function (invocations, errors, throttles over time)."""
    table_rows = rows(report)
    if not table_rows:
        return ""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(
        f"<td class=\"text\">{e(cell)}</td>" if i in (0, len(row) - 1) else f"<td>{e(cell)}</td>"
        for i, cell in enumerate(row)) + "</tr>" for row in table_rows)
    charts = "".join(
        svg_chart(name, m.get("series") or {})
        for name, m in sorted((report.get("metrics") or {}).items())[:MAX_CHARTS]
    )
    if charts:
        # the page's grid of two charts a row (its .charts rule)
        charts = ("<h3>Invocations, errors and throttles per period</h3>"
                  f"<div class=\"charts\">{charts}</div>")
    notes = "".join(f"<p class=\"muted\">{e(line)}</p>" for line in extras(report))
    return (f"<section id=\"metrics\"><h2>{e(title(report))}</h2><table><thead><tr>{head}"
            f"</tr></thead><tbody>{body}</tbody></table>{notes}{charts}</section>\n")


SERIES_COLORS = (("Invocations.sum", "#1565c0", "invocations"),
                 ("Errors.sum", "#c62828", "errors"),
                 ("Throttles.sum", "#b26a00", "throttles"))


def svg_chart(name: str, series: Mapping[str, Any], width: int = 560, height: int = 190) -> str:
    """Counts per period as lines on one chart, with the first and last time as labels."""
    stamps = series.get("timestamps") or []
    if not stamps:
        return ""
    e = html.escape
    left, right, top, bottom = 40, 10, 40, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([1.0] + [float(v) for key, _, _ in SERIES_COLORS
                        for v in series.get(key) or [] if isinstance(v, (int, float))])
    n = len(stamps)
    parts = [
        f"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"metrics-chart\" "
        f"viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" "
        f"aria-label=\"{e(clean(name, 80))}: invocations, errors and throttles over time\">",
        f"<rect x=\"0.5\" y=\"0.5\" width=\"{width - 1}\" height=\"{height - 1}\" rx=\"8\" "
        "fill=\"#ffffff\" stroke=\"#e2e6ee\"/>",
        f"<text x=\"{left}\" y=\"16\" font-size=\"12\" font-weight=\"bold\" fill=\"#1d2330\">"
        f"{e(clean(name, 80))}</text>",
        f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{left + plot_w}\" y2=\"{top + plot_h}\" "
        "stroke=\"#e2e6ee\"/>",
        f"<text x=\"{left - 6}\" y=\"{top + 10}\" font-size=\"11\" text-anchor=\"end\" "
        f"fill=\"#5b6474\">{e(fmt_count(peak))}</text>",
        f"<text x=\"{left - 6}\" y=\"{top + plot_h}\" font-size=\"11\" text-anchor=\"end\" "
        "fill=\"#5b6474\">0</text>",
        f"<text x=\"{left}\" y=\"{height - 8}\" font-size=\"11\" fill=\"#5b6474\">"
        f"{e(str(stamps[0]))}</text>",
        f"<text x=\"{left + plot_w}\" y=\"{height - 8}\" font-size=\"11\" text-anchor=\"end\" "
        f"fill=\"#5b6474\">{e(str(stamps[-1]))}</text>",
    ]
    legend_x = left
    for key, color, label in SERIES_COLORS:
        values = series.get(key) or []
        points = " ".join(
            f"{left + (i * plot_w / max(1, n - 1)):.1f},"
            f"{top + plot_h - (float(v) / peak * plot_h if isinstance(v, (int, float)) else 0):.1f}"
            for i, v in enumerate(values)
        )
        if points:
            parts.append(f"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" "
                         f"stroke-width=\"1.5\" data-series=\"{e(label)}\"/>")
        parts.append(f"<rect x=\"{legend_x}\" y=\"22\" width=\"10\" height=\"10\" "
                     f"fill=\"{color}\"/><text x=\"{legend_x + 14}\" y=\"31\" font-size=\"11\" "
                     f"fill=\"#1d2330\">{e(label)}</text>")
        legend_x += 95
    parts.append("</svg>")
    return "".join(parts)

