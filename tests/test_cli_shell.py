"""The shell: which command a command line names, and the copies its help lists."""

from __future__ import annotations

import pytest

from lambda_trace.cli import choices
from lambda_trace.cli.shell import chosen_command


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["analyze", "x.log"], "analyze"),
        (["--help"], None),
        (["--version", "events"], "events"),
        (["show", "analyze"], "show"),
        (["nosuch", "analyze"], None),
        ([], None),
    ],
)
def test_the_chosen_command_is_the_first_word_that_is_not_an_option(
    argv: list[str], command: str | None
) -> None:
    assert chosen_command(argv) == command


def test_the_help_copies_equal_their_owners() -> None:
    """``choices`` repeats names so that --help imports nothing; each must match its owner."""
    from lambda_trace.analyzer import cloudwatch, inputs, insights_queries, sources
    from lambda_trace.analyzer.model import EVENT_KEYS
    from lambda_trace.analyzer.timewindow import HELP
    from lambda_trace.local import events

    assert set(EVENT_KEYS) == choices.EVENT_TYPES
    assert tuple(q.key for q in insights_queries.QUERIES) == choices.QUERY_KEYS
    assert choices.SAMPLE_EVENTS == events.KINDS
    assert choices.TIME_HELP == HELP
    assert choices.DEFAULT_CLOUDWATCH_SINCE == sources.DEFAULT_CLOUDWATCH_SINCE
    assert choices.DEFAULT_MAX_DECOMPRESSED == inputs.DEFAULT_MAX_DECOMPRESSED
    assert choices.DEFAULT_CLOUDWATCH_FETCHERS == cloudwatch.FETCHERS
