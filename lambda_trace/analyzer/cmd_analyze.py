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
from typing import TYPE_CHECKING, Any, Optional, TextIO

from lambda_trace.analyzer.cloudwatch import function_log_group
from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.findings import KINDS, Baseline, Thresholds
from lambda_trace.analyzer.fleet import find_fleet, function_of_group
from lambda_trace.analyzer.follow import check_follow, follow
from lambda_trace.analyzer.inputs import not_a_log
from lambda_trace.analyzer.pipeline import Analysis, analyze
from lambda_trace.analyzer.render.common import footer_lines
from lambda_trace.analyzer.render.json_report import render_json
from lambda_trace.analyzer.report import Report, build_report, report_from_json
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
    # Metrics and configuration (analyze --function): read first, they shape what logs to read.
    checks = _function_checks(args) if not args.paths else None
    if checks is not None:
        checks.read_before_logs()
    analysis = _parallel(args, source_stats) if checks is None else None
    if analysis is None:
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
        analysis, findings, source_stats=source_stats, baseline=baseline, top=args.top,
        sections=checks.report_sections(source_stats) if checks is not None else None,
    )
    if checks is not None:
        for line in checks.remarks(source_stats):
            print(f"lambda-trace: {line}", file=sys.stderr)
    return _output(args, report, source_stats)


def _parallel(args: argparse.Namespace, source_stats: SourceStats) -> Optional[Analysis]:
    """``--jobs N``: the same analysis from N processes, or None to read serially."""
    jobs = getattr(args, "jobs", 1) or 1
    if jobs <= 1:
        return None
    from lambda_trace.analyzer import parallel

    analysis, how = parallel.analyze_file(args, source_stats, jobs, n_plus_one=args.n_plus_one,
                                          expected=_asked_functions(args))
    if analysis is None:
        parallel.note(f"{how}; reading serially")
    return analysis


def _function_checks(args: argparse.Namespace) -> Optional[FunctionChecks]:
    """``analyze --function``'s metrics and configuration reader (imported only for it: the
    AWS modules behind it cost a run on files ~10 ms of start-up)."""
    from lambda_trace.analyzer.function_checks import FunctionChecks

    return FunctionChecks.from_args(args)


def _run_follow(args: argparse.Namespace) -> int:
    check_follow(args)
    report, _ = follow(args)
    return _output(args, report, SourceStats())


def _output(args: argparse.Namespace, report: Report, source_stats: SourceStats) -> int:
    _write(args.output, lambda f: f.write(render(report, args.format, f, top=args.top)))
    if args.html:
        from lambda_trace.analyzer.render.html import render_html

        page = render_html(report)
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


def render(report: Report, fmt: str, file: TextIO, *, top: int = 20) -> str:
    """The report as text in ``fmt``; the terminal's colours and width are those of ``file``."""
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        from lambda_trace.analyzer.render.markdown import render_markdown

        return render_markdown(report, top=top)
    from lambda_trace.analyzer.render.terminal import render_terminal, terminal_width, wants_color

    return render_terminal(report, color=wants_color(file), width=terminal_width(file), top=top)


def input_remarks(
    report: Report, source_stats: SourceStats, *, footer_shown: bool
) -> list[str]:
    """What to tell on stderr about the input: the ``Skipped:`` footer and the sources' notes.

    The footer line is left out when the report on the terminal already ends with it; the notes
    (an input cut at the decompression limit, a broken gzip stream) are in no report format.
    """
    lines = [] if footer_shown else [
        line for line in footer_lines(report.document) if line.startswith("Skipped:")
    ]
    notes = source_stats.notes
    lines.extend(notes[:MAX_NOTES])
    if len(notes) > MAX_NOTES:
        lines.append(f"... and {len(notes) - MAX_NOTES:,} more notes about the inputs")
    return lines


def gate_failures(
    report: Report, fail_on: Iterable[str], max_p95_ms: Optional[float],
    max_error_rate: Optional[float],
) -> list[str]:
    """Why the CI gate fails, one sentence per reason (empty: it passes)."""
    failures = []
    kinds = set(fail_on)
    document = report.document
    for kind in KINDS:
        if "any" in kinds or kind in kinds:
            hits = [f for f in document["findings"] if f["kind"] == kind]
            if hits:
                subjects = ", ".join(sorted({str(f["subject"]) for f in hits}))[:200]
                failures.append(f"{len(hits)} {kind} finding(s): {subjects}")
    p95 = document["duration_ms"]["p95"]
    if max_p95_ms is not None and p95 is not None and p95 > max_p95_ms:
        failures.append(f"duration p95 {p95} ms is above --max-p95-ms {max_p95_ms:g}")
    rate = document["error_rate"]
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
        data = _read_json_report(spec)
        if data is not None:
            try:
                return Baseline.from_report(report_from_json(data), label=spec)
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
