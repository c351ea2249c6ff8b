"""``lambda-trace analyze``: read logs, join invocations, report findings, gate a CI run.

Exit codes: 0 the report was written and no gate failed; 1 a ``--fail-on`` kind was found or a
``--max-*`` threshold was exceeded; 2 bad usage or unreadable input; 3 an AWS-side failure
(credentials, access to the log group). Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from typing import Any, Optional, TextIO

from lambda_trace.analyzer import function_checks
from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.findings import KINDS, Baseline, Thresholds
from lambda_trace.analyzer.fleet import find_fleet, function_of_group, function_sections
from lambda_trace.analyzer.follow import add_follow_arguments, check_follow, follow
from lambda_trace.analyzer.inputs import not_a_log
from lambda_trace.analyzer.pipeline import analyze
from lambda_trace.analyzer.render.common import footer_lines
from lambda_trace.analyzer.render.json_report import build_report, render_json
from lambda_trace.analyzer.sources import SourceStats, add_source_arguments, open_sources

EXIT_OK, EXIT_GATE_FAILED = 0, 1

FORMATS = ("terminal", "json", "markdown")

#: a --baseline with fewer invocations is too small to compare percentiles with
MIN_BASELINE_INVOCATIONS = 20

#: notes about the inputs shown on stderr (one per broken input; a flood is cut short)
MAX_NOTES = 20


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="report bottlenecks and failure causes",
        description=(
            "Join Lambda's log lines and lambda-trace records into invocations and report slow "
            "dependencies, timeouts, memory, permission and code errors, cold starts and cost, "
            "each with advice. Exit codes: 0 ok, 1 a --fail-on/--max-* gate failed, "
            "2 usage or input error, 3 AWS error (credentials, access)."
        ),
    )
    add_source_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="terminal",
                     help="report format on stdout (default: terminal)")
    out.add_argument("-o", "--output", metavar="FILE",
                     help="write the report to FILE instead of stdout")
    out.add_argument("--html", metavar="FILE",
                     help="also write a self-contained HTML page with charts to FILE")
    out.add_argument("--top", type=_positive_int, default=20, metavar="N",
                     help="rows per table (default: 20)")
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument(
        "--baseline", metavar="FILE|SINCE..UNTIL",
        help="compare p95 latencies with a saved --format json report, a log file, or an "
             "earlier CloudWatch window of the same log group (e.g. 8d..1d)")
    analysis.add_argument("--n-plus-one", type=_positive_int, default=5, metavar="CALLS",
                          help="sequential calls to one operation that count as N+1 (default 5)")
    gate = parser.add_argument_group("CI gate (exit code 1 when it fails)")
    gate.add_argument("--fail-on", type=_kinds, default=(), metavar="KIND[,KIND]",
                      help="fail when a finding of these kinds is reported ('any' for all): "
                           + ", ".join(KINDS))
    gate.add_argument("--max-p95-ms", type=_non_negative, metavar="MS",
                      help="fail when the invocation duration p95 is above MS")
    gate.add_argument("--max-error-rate", type=_rate, metavar="RATE",
                      help="fail when (errors + timeouts) / invocations is above RATE "
                           "(0.05 or 5%%)")
    function_checks.add_arguments(parser)
    add_follow_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "follow", False):
        return _run_follow(args)
    if args.baseline:
        _check_baseline(args)  # before the (possibly long) main read
    source_stats = SourceStats()
    # Metrics and configuration (analyze --function): read first, they shape what logs to read.
    checks = function_checks.FunctionChecks.from_args(args) if not args.paths else None
    if checks is not None:
        checks.read_before_logs()
    events = (checks.open_sources(args, source_stats, open_sources) if checks is not None
              else open_sources(args, source_stats))
    analysis = analyze(events, n_plus_one=args.n_plus_one, expected=_asked_functions(args))
    fleet, agg = analysis.fleet, analysis.combined
    problem = not_a_log(source_stats, analysis.events_parsed)
    if problem is not None:
        raise CliError(problem)
    baseline = load_baseline(args) if args.baseline else None
    findings = find_fleet(fleet, usable_baseline(baseline, args.baseline), Thresholds())
    if checks is not None:
        findings = checks.findings(findings, source_stats, _max_memory_used(agg))
    report = build_report(
        agg, findings, join_stats=analysis.join_stats, source_stats=source_stats,
        parse_stats=analysis.parse_stats, baseline=baseline, top=args.top,
        functions=function_sections(fleet, findings),
    )
    if checks is not None:
        report.update(checks.report_sections(source_stats))
        for line in checks.remarks(source_stats):
            print(f"lambda-trace: {line}", file=sys.stderr)
    return _output(args, agg, report, source_stats)


def _run_follow(args: argparse.Namespace) -> int:
    check_follow(args)
    report, live = follow(args)
    return _output(args, live.agg, report, SourceStats())


def _output(args: argparse.Namespace, agg: Any, report: dict[str, Any],
            source_stats: SourceStats) -> int:
    _write(args.output, lambda f: render(report, args.format, f, top=args.top))
    if args.html:
        from lambda_trace.analyzer.render.html import chart_data, render_html

        page = render_html(report, chart_data(agg, report))
        _write(args.html, lambda f: f.write(page))
    to_stdout = args.output is None or args.output == "-"
    for line in input_remarks(report, source_stats,
                              footer_shown=to_stdout and args.format != "json"):
        print(f"lambda-trace: {line}", file=sys.stderr)
    failures = gate_failures(report, args.fail_on, args.max_p95_ms, args.max_error_rate)
    for failure in failures:
        print(f"lambda-trace: gate failed: {failure}", file=sys.stderr)
    return EXIT_GATE_FAILED if failures else EXIT_OK


def _max_memory_used(agg: Any) -> Optional[float]:
    peaks = [m.peak.max for m in agg.memory_sizes.values() if m.peak.count]
    return max(peaks) if peaks else None


def _asked_functions(args: argparse.Namespace) -> list[str]:
    """The functions named by --function (a name or an ARN), as their log groups name them."""
    names = []
    for function in getattr(args, "function", None) or ():
        name = function_of_group(function_log_group(function)[0])
        if name:
            names.append(name)
    return names


def usable_baseline(baseline: Optional[Baseline], spec: str) -> Optional[Baseline]:
    """The baseline to find regressions against; None (and a line on stderr) when it has too few
    invocations for its percentiles to mean anything."""
    if baseline is None or baseline.invocations >= MIN_BASELINE_INVOCATIONS:
        return baseline
    n = baseline.invocations
    print(f"lambda-trace: --baseline {spec} has {n} invocation{'' if n == 1 else 's'}; "
          f"at least {MIN_BASELINE_INVOCATIONS} are needed to compare latencies, so no "
          "latency_regression is reported", file=sys.stderr)
    return None


def render(report: dict[str, Any], fmt: str, file: TextIO, *, top: int = 20) -> None:
    if fmt == "json":
        render_json(report, file)
    elif fmt == "markdown":
        from lambda_trace.analyzer.render.markdown import render_markdown

        render_markdown(report, file, top=top)
    else:
        from lambda_trace.analyzer.render.terminal import render_terminal

        render_terminal(report, file, top=top)


def input_remarks(
    report: dict[str, Any], source_stats: SourceStats, *, footer_shown: bool
) -> list[str]:
    """What to tell on stderr about the input: the ``Skipped:`` footer and the sources' notes.

    The footer line is left out when the report on the terminal already ends with it; the notes
    (an input cut at the decompression limit, a broken gzip stream) are in no report format.
    """
    lines = [] if footer_shown else [
        line for line in footer_lines(report) if line.startswith("Skipped:")
    ]
    notes = source_stats.notes
    lines.extend(notes[:MAX_NOTES])
    if len(notes) > MAX_NOTES:
        lines.append(f"... and {len(notes) - MAX_NOTES:,} more notes about the inputs")
    return lines


def gate_failures(
    report: dict[str, Any], fail_on: Iterable[str], max_p95_ms: Optional[float],
    max_error_rate: Optional[float],
) -> list[str]:
    """Why the CI gate fails, one sentence per reason (empty: it passes)."""
    failures = []
    kinds = set(fail_on)
    for kind in KINDS:
        if "any" in kinds or kind in kinds:
            hits = [f for f in report["findings"] if f["kind"] == kind]
            if hits:
                subjects = ", ".join(sorted({str(f["subject"]) for f in hits}))[:200]
                failures.append(f"{len(hits)} {kind} finding(s): {subjects}")
    p95 = (report.get("duration_ms") or {}).get("p95")
    if max_p95_ms is not None and p95 is not None and p95 > max_p95_ms:
        failures.append(f"duration p95 {p95} ms is above --max-p95-ms {max_p95_ms:g}")
    rate = report.get("error_rate")
    if max_error_rate is not None and rate is not None and rate > max_error_rate:
        failures.append(
            f"error rate {rate:.2%} (errors + timeouts) is above --max-error-rate "
            f"{max_error_rate:.2%}"
        )
    return failures


def _check_baseline(args: argparse.Namespace) -> None:
    spec: str = args.baseline
    if os.path.exists(spec):
        return
    if ".." not in spec:
        raise CliError(f"--baseline {spec!r}: no such file, and not a window like 8d..1d")
    if not (getattr(args, "function", None) or getattr(args, "log_group", None)):
        raise CliError("a --baseline window needs --function or --log-group")


def load_baseline(args: argparse.Namespace) -> Baseline:
    """The ``--baseline``: a saved JSON report, a log file, or an earlier CloudWatch window."""
    _check_baseline(args)
    spec: str = args.baseline
    if os.path.exists(spec):
        report = _read_json_report(spec)
        if report is not None:
            try:
                return Baseline.from_report(report, label=spec)
            except ValueError:
                pass
        base_args = _copy_args(args, paths=[spec], function=None, log_group=None,
                               since=None, until=None, insights=False)
    else:
        since, _, until = spec.partition("..")
        base_args = _copy_args(args, paths=[], since=since or None, until=until or None)
    analysis = analyze(open_sources(base_args, SourceStats()), n_plus_one=args.n_plus_one)
    return Baseline.from_aggregate(analysis.combined, label=spec)


def _read_json_report(path: str) -> Optional[Any]:
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
            if not head.startswith(b"{"):
                return None
            f.seek(0)
            return json.load(f)
    except (OSError, ValueError):
        return None


def _copy_args(args: argparse.Namespace, **changes: Any) -> argparse.Namespace:
    copy = argparse.Namespace(**vars(args))
    for key, value in changes.items():
        setattr(copy, key, value)
    return copy


def _write(path: Optional[str], write: Any) -> None:
    if path is None or path == "-":
        write(sys.stdout)
        sys.stdout.flush()
        return
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            write(f)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS and k != "any"]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown finding kind {', '.join(unknown) or text!r}; choose from any, "
            + ", ".join(KINDS)
        )
    return kinds


def _rate(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a rate: {text!r} (use 0.05 or 5%)") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1 (or 0% and 100%): {text!r}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value
