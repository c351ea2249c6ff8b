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
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional, TextIO

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.findings import KINDS, Baseline, Thresholds
from lambda_trace.analyzer.fleet import (
    aggregate_fleet,
    find_fleet,
    function_of_group,
    function_sections,
)
from lambda_trace.analyzer.follow import check_follow, follow
from lambda_trace.analyzer.inputs import not_a_log
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser
from lambda_trace.analyzer.render.common import footer_lines
from lambda_trace.analyzer.render.json_report import build_report, render_json
from lambda_trace.analyzer.sources import SourceStats, open_sources

if TYPE_CHECKING:
    from lambda_trace.analyzer.function_checks import FunctionChecks

EXIT_OK, EXIT_GATE_FAILED = 0, 1

#: a --baseline with fewer invocations is too small to compare percentiles with
MIN_BASELINE_INVOCATIONS = 20

#: notes about the inputs shown on stderr (one per broken input; a flood is cut short)
MAX_NOTES = 20


def run(args: argparse.Namespace) -> int:
    if getattr(args, "follow", False):
        return _run_follow(args)
    if args.baseline:
        _check_baseline(args)  # before the (possibly long) main read
    source_stats = SourceStats()
    parser = Parser()
    # Metrics and configuration (analyze --function): read first, they shape what logs to read.
    checks = _function_checks(args) if not args.paths else None
    if checks is not None:
        checks.read_before_logs()
    events = (checks.open_sources(args, source_stats, open_sources) if checks is not None
              else open_sources(args, source_stats))
    fleet, join_stats = aggregate_fleet(
        events, parser, n_plus_one=args.n_plus_one, expected=_asked_functions(args),
    )
    agg = fleet.combined
    problem = not_a_log(source_stats, sum(parser.stats.events.values()))
    if problem is not None:
        raise CliError(problem)
    baseline = load_baseline(args) if args.baseline else None
    findings = find_fleet(fleet, usable_baseline(baseline, args.baseline), Thresholds())
    if checks is not None:
        findings = checks.findings(findings, source_stats, _max_memory_used(agg))
    report = build_report(
        agg, findings, join_stats=join_stats, source_stats=source_stats,
        parse_stats=getattr(parser, "stats", None), baseline=baseline, top=args.top,
        functions=function_sections(fleet, findings),
    )
    if checks is not None:
        report.update(checks.report_sections(source_stats))
        for line in checks.remarks(source_stats):
            print(f"lambda-trace: {line}", file=sys.stderr)
    return _output(args, agg, report, source_stats)


def _function_checks(args: argparse.Namespace) -> Optional[FunctionChecks]:
    """``analyze --function``'s metrics and configuration reader (imported only for it: the
    AWS modules behind it cost a run on files ~10 ms of start-up)."""
    from lambda_trace.analyzer.function_checks import FunctionChecks

    return FunctionChecks.from_args(args)


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


def parse_events(log_events: Iterable[LogEvent], parser: Parser) -> Iterator[Event]:
    """Each event once it is final (the parser may complete an event from a later line)."""
    return parser.iter_events(log_events)


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
    agg, _ = aggregate_events(parse_events(open_sources(base_args, SourceStats()), Parser()),
                              n_plus_one=args.n_plus_one)
    return Baseline.from_aggregate(agg, label=spec)


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
