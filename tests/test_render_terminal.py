"""Specification of the terminal report: readable tables, colour only where it belongs."""

from __future__ import annotations

import io

import pytest
from join_builders import realistic_events

from lambda_trace.analyzer.aggregate import aggregate_events
from lambda_trace.analyzer.cmd_analyze import render
from lambda_trace.analyzer.findings import find_all
from lambda_trace.analyzer.render.terminal import render_terminal, wants_color
from lambda_trace.analyzer.report import Report, report_from_aggregate

ESC = "\x1b["


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def report(hostile: bool = False) -> Report:
    agg, join_stats = aggregate_events(realistic_events(hostile=hostile))
    return report_from_aggregate(agg, find_all(agg), join_stats=join_stats,
                                 parse_stats={"unparsed": 17, "malformed": 2})


def shown(report: Report, file: io.StringIO) -> str:
    """As ``analyze`` writes it to ``file``: its colours and width are the file's."""
    return render(report, "terminal", file, top=15)


def test_plain_output_when_not_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Piped output has no escape codes and shows the summary, dependencies and findings."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    text = shown(report(), io.StringIO())
    assert ESC not in text
    for expected in ("Invocations", "Dependencies (by total time)", "dynamodb.GetItem",
                     "s3.GetObject", "Findings", "n_plus_one", "BatchGetItem", "timeout"):
        assert expected in text, expected


def test_colour_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal gets colour."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = FakeTTY()
    assert wants_color(out)
    assert ESC in shown(report(), out)


def test_no_colour_on_a_tty_when_no_color_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR wins over a terminal (https://no-color.org)."""
    monkeypatch.setenv("NO_COLOR", "1")
    out = FakeTTY()
    assert not wants_color(out)
    assert ESC not in shown(report(), out)


def test_footer_shows_skipped_line_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown and malformed lines are counted in the footer."""
    text = shown(report(), io.StringIO())
    footer = " ".join(text.rsplit("Skipped:", 1)[1].split())
    assert "17 unrecognised lines" in footer and "2 malformed JSON lines" in footer


def test_log_content_cannot_inject_escapes_or_markup(monkeypatch: pytest.MonkeyPatch) -> None:
    """ANSI escapes, bidi overrides and rich markup in log lines are shown, not obeyed."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    text = render_terminal(report(hostile=True), color=wants_color(FakeTTY()), width=400)
    assert "\x1b[31mred" not in text and "\\x1b[31mred" in text
    assert "\u202e" not in text and "\\u202e" in text
    assert "[bold red]markup[/]" in text
