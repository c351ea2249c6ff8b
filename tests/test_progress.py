"""``progress``: a bar on stderr only for a person at a terminal; off, it does nothing at all."""

from __future__ import annotations

import io
import sys

import pytest

from lambda_trace.analyzer.progress import Progress, wanted


class Terminal(io.StringIO):
    """A stream that says it is a terminal (and, closed, raises as real streams do)."""

    def isatty(self) -> bool:
        super().isatty()  # ValueError once closed
        return True


def test_wanted_only_on_a_terminal_without_no_progress() -> None:
    assert wanted(False, Terminal())
    assert not wanted(True, Terminal())
    assert not wanted(False, io.StringIO())  # a pipe or a file
    closed = Terminal()
    closed.close()
    assert not wanted(False, closed)  # isatty on a closed stream raises ValueError

    class NoIsatty:
        pass

    assert not wanted(False, NoIsatty())  # type: ignore[arg-type]


def test_wanted_looks_at_stderr_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert wanted(False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not wanted(False)


def test_disabled_writes_nothing_and_loads_no_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    stream = Terminal()
    progress = Progress(False, stream)
    task = progress.task("reading", total=10)
    task.update(completed=5, detail="half")
    task.progress_callback()(7)
    progress.stop()
    assert stream.getvalue() == ""
    assert "rich" not in sys.modules


def test_enabled_draws_on_the_stream_given_and_clears_when_stopped() -> None:
    stream = Terminal()
    progress = Progress(True, stream)
    task = progress.task("reading app.log", total=100)
    task.update(completed=40, detail="40 lines")
    task.progress_callback()(100)
    rich = progress._rich
    assert rich is not None
    (state,) = rich.tasks
    assert (state.completed, state.total, state.fields["detail"]) == (100, 100, "40 lines")
    progress.stop()
    assert progress._rich is None
    assert "reading app.log" in stream.getvalue()
    progress.stop()  # twice is harmless
    task.update(completed=1)  # so is a task updated after the display stopped
