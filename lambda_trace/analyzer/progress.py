"""A progress bar on stderr while reading, only for a person watching a terminal."""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional, TextIO


def wanted(no_progress: bool, stream: Optional[TextIO] = None) -> bool:
    """Shown only when stderr is a terminal and ``--no-progress`` was not given."""
    stream = sys.stderr if stream is None else stream
    if no_progress:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class Task:
    """One line of the display; updating a disabled task does nothing."""

    def __init__(self, owner: Optional[Progress], task_id: Any) -> None:
        self._owner = owner
        self._id = task_id

    def update(self, *, completed: Optional[float] = None, detail: Optional[str] = None) -> None:
        if self._owner is None or self._owner._rich is None:
            return
        fields: dict[str, Any] = {}
        if completed is not None:
            fields["completed"] = completed
        if detail is not None:
            fields["detail"] = detail
        self._owner._rich.update(self._id, **fields)

    def progress_callback(self) -> Callable[[int], None]:
        """A function that sets how much is done (for readers that report a position)."""
        return lambda done: self.update(completed=done)


class Progress:
    """rich's progress display (imported only when enabled), transient: it clears when done."""

    def __init__(self, enabled: bool, stream: Optional[TextIO] = None) -> None:
        self._rich: Any = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._rich = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=Console(file=stream if stream is not None else sys.stderr),
            transient=True,
            refresh_per_second=4,
        )
        self._rich.start()

    def task(self, description: str, total: Optional[float]) -> Task:
        if self._rich is None:
            return Task(None, None)
        return Task(self, self._rich.add_task(description, total=total, detail=""))

    def stop(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
