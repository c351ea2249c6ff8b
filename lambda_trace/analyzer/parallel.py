"""``analyze --jobs N``: one large plain log file parsed by N processes, joined in file order.

The file is cut into N byte ranges, each cut at a line that begins an execution environment's
log (``INIT_START …`` or a JSON ``platform.initStart`` record), where no invocation is open.
The parent reads, parses and joins the first range itself while forked workers read and parse
the others (reading and parsing look only a few lines back, the join looks at everything); the
workers' events come back pickled and go through the same join, in file order, so the report
is the serial one byte for byte.

A cut is only taken when the serial run would be in the same state there as a fresh reader and
parser: the cut line came out of the reader as an event of its own (no timestamp line before it,
no duplicate, no table, CSV, ``aws logs tail`` or JSON document around it) and the parser holds
nothing open that the line could continue (a pretty-printed document, an error, a console
timestamp). Where that does not hold, the range before it simply reads on through the next one,
and that worker's result is dropped. Anything else (stdin, CloudWatch, gzip, several inputs, a
time window, no cut found, no ``fork``) is read serially.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import mmap
import os
import pickle
import signal
import sys
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import Any, Callable, Optional

from lambda_trace.analyzer.inputs import (
    CHUNK_BYTES,
    DEFAULT_MAX_DECOMPRESSED,
    GZIP_MAGIC,
    Input,
    binary_kind,
    check_inputs,
    decode_lines,
)
from lambda_trace.analyzer.model import Event, LogEvent
from lambda_trace.analyzer.parse import Parser, ParseStats
from lambda_trace.analyzer.pipeline import Analysis, Pipeline
from lambda_trace.analyzer.sourcestats import SourceStats
from lambda_trace.analyzer.textreader import TextReader

__all__ = ["Cut", "analyze_file", "find_cuts"]

#: the parent's share of the file against a worker's 1: it also joins what the workers send
PARENT_SHARE = 0.6
#: below this many bytes a range is not worth a process
MIN_RANGE_BYTES = 4 << 20
#: a cut line longer than this is not taken (an INIT_START line is a few hundred bytes)
MAX_CUT_LINE = 64 * 1024

_TEXT_MARK = b"\nINIT_START "
_JSON_MARK = b'"type":"platform.initStart"'


@dataclass(frozen=True)
class Cut:
    """Where a range starts: the byte offset of its first line, that line and its byte size."""

    offset: int
    line: str
    size: int  # with its line break


def _cut_at(mm: mmap.mmap, start: int, crlf: bool) -> Optional[Cut]:
    """The cut at the line starting at ``start``, if that line begins an environment's log."""
    end = mm.find(b"\n", start, start + MAX_CUT_LINE)
    if end < 0:
        return None
    raw = mm[start:end]
    if raw.endswith(b"\r") != crlf:
        return None  # the range's reader would decide its line endings differently
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if crlf:
        text = text[:-1]
    if not text.startswith("INIT_START "):
        if not text.startswith("{"):
            return None
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        if not isinstance(obj, dict) or obj.get("type") != "platform.initStart":
            return None
    return Cut(start, text, end + 1 - start)


def _next_cut(mm: mmap.mmap, pos: int, crlf: bool) -> Optional[Cut]:
    """The first cut at or after byte ``pos`` (never at the file's first line)."""
    text_from = json_from = max(pos, 1)
    while True:
        found = mm.find(_TEXT_MARK, text_from - 1)
        text_at = found + 1 if found >= 0 else -1
        found = mm.find(_JSON_MARK, json_from)
        json_at = mm.rfind(b"\n", 0, found) + 1 if found >= 0 else -1
        if text_at < 0 and json_at < 0:
            return None
        if json_at >= 0 and (json_at < pos or json_at == 0):
            json_from = found + 1  # the mark is inside a line that starts before pos
            continue
        if text_at < 0 or (0 <= json_at < text_at):
            start, json_from = json_at, found + 1
        else:
            start, text_from = text_at, text_at + 1
        cut = _cut_at(mm, start, crlf)
        if cut is not None:
            return cut


def find_cuts(path: str, n: int, *, min_range: int = MIN_RANGE_BYTES) -> list[Cut]:
    """Up to ``n - 1`` cuts that split the file into ranges of about the planned sizes."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return []
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            first_end = mm.find(b"\n", 0, MAX_CUT_LINE)
            if first_end < 0:
                return []
            crlf = mm[first_end - 1:first_end] == b"\r"
            total = PARENT_SHARE + (n - 1)
            cuts: list[Cut] = []
            pos = 1
            for k in range(1, n):
                target = max(pos, int(size * (PARENT_SHARE + k - 1) / total))
                cut = _next_cut(mm, target, crlf)
                if cut is None:
                    break
                if cut.offset - (cuts[-1].offset if cuts else 0) >= min_range:
                    cuts.append(cut)
                pos = cut.offset + cut.size
    if cuts and size - cuts[-1].offset < min_range:
        cuts.pop()
    return cuts


class _Groups:
    """Tells which function each log stream belongs to, as ``pipeline`` does, dropping repeats."""

    def __init__(self, note: Callable[[Optional[str], Optional[str]], None]) -> None:
        self.note = note
        self.last: tuple[Optional[str], Optional[str]] = (None, None)

    def noting(self, log_events: Iterable[LogEvent]) -> Iterator[LogEvent]:
        for log_event in log_events:
            group = log_event.log_group
            if group is not None:
                key = (log_event.log_stream, group)
                if key != self.last:
                    self.note(*key)
                    self.last = key
            yield log_event


class _Range:
    """One range's log events: read from ``start``, stopping at the first clean cut after it."""

    def __init__(self, source: Input, start: int, cuts: list[Cut], first_index: int,
                 stats: SourceStats, parser: Parser) -> None:
        self.source = source
        self.start = start
        self.cuts = cuts  # the cuts after start; cuts[i] starts range first_index + i
        self.first_index = first_index
        self.stats = stats
        self.parser = parser
        #: the range the reading stopped at (None: it read to the end of the file)
        self.next_range: Optional[int] = None
        self._waiting: Optional[Cut] = None  # a cut line handed to the reader, not yet judged

    def _chunks(self) -> Iterator[bytes]:
        path = self.source.path
        assert path is not None
        with open(path, "rb", buffering=0) as f:
            f.seek(self.start)
            pos = self.start
            for cut in self.cuts:
                yield from _read(f, cut.offset - pos)
                self._waiting = cut
                yield from _read(f, cut.size)  # the cut line alone: judged before more is read
                self._waiting = None  # the reader asked on: the line was not an event alone
                pos = cut.offset + cut.size
            while True:
                chunk = f.read(CHUNK_BYTES)
                if not chunk:
                    return
                yield chunk

    def _clean(self, event: LogEvent, cut: Cut, reader: TextReader) -> bool:
        parser = self.parser
        return (
            event.message == cut.line
            and event.timestamp_ms is None
            and event.log_group is None
            and reader._table is None
            and parser._json_lines is None
            and parser._error is None
            and parser._console_ts is None
        )

    def log_events(self) -> Iterator[LogEvent]:
        source, stats = self.source, self.stats
        reader = TextReader(source.name, stats, log_stream=source.log_stream)
        events = reader.read(decode_lines(self._chunks(), stats))
        assert isinstance(events, Generator)
        for event in events:
            cut = self._waiting
            if cut is not None:
                if self._clean(event, cut, reader):
                    self.next_range = self.first_index + self.cuts.index(cut)
                    events.close()  # counts what it read; the cut line is the next range's
                    stats.events -= 1
                    stats.bytes_read -= cut.size
                    return
                if event.message[-1:] != "\t":  # (a line held back for a JSON value is not it)
                    self._waiting = None
            yield event


def _read(f: Any, n: int) -> Iterator[bytes]:
    while n > 0:
        chunk = f.read(min(n, CHUNK_BYTES))
        if not chunk:
            return
        n -= len(chunk)
        yield chunk


#: events per pickled batch: a worker and the parent hold one batch at a time, not a range
BATCH_EVENTS = 2_000

#: a batch: events, and where stream names came (events before it, stream, group)
_Batch = tuple[list[Event], list[tuple[int, Optional[str], Optional[str]]]]


@dataclass
class _Totals:
    """What a worker sends after its batches: its counts and where it stopped."""

    source_stats: SourceStats
    parse_stats: ParseStats
    next_range: Optional[int]


def _parse_range(source: Input, start: int, cuts: list[Cut], first_index: int,
                 send: Callable[[_Batch], None]) -> _Totals:
    """Read and parse one range, handing its events on in batches."""
    # As the pipeline's own parser: the join only counts EMF documents.
    stats, parser = SourceStats(), Parser(emf_detail=False)
    out: list[Event] = []
    notes: list[tuple[int, Optional[str], Optional[str]]] = []
    groups = _Groups(lambda stream, group: notes.append((len(out), stream, group)))
    rng = _Range(source, start, cuts, first_index, stats, parser)
    append = out.append
    for event in parser.iter_events(groups.noting(rng.log_events())):
        append(event)
        if len(out) >= BATCH_EVENTS:
            send((out, notes))
            out, notes = [], []
            append = out.append
    send((out, notes))
    return _Totals(stats, parser.stats, rng.next_range)


class _Worker:
    """A forked process parsing one range into an unlinked temporary file of pickled batches.

    A file rather than a pipe: the worker finishes while the parent is still busy with the
    ranges before its own, and neither side holds more than a batch in memory.
    """

    def __init__(self, source: Input, start: int, cuts: list[Cut], index: int) -> None:
        self.args = (source, start, cuts, index)
        self.file = tempfile.TemporaryFile(prefix="lambda-trace-jobs-")  # noqa: SIM115 (closed by events/stop)
        pid = os.fork()
        if pid == 0:  # the child: parse, write, and leave without running the parent's exit code
            code = 0
            try:
                gc.freeze()  # the parent's objects: no collection needs to walk them here
                with open(self.file.fileno(), "wb", closefd=False) as out:
                    def send(batch: _Batch) -> None:
                        # one pickle each: a shared memo would keep every batch alive
                        pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)

                    totals = _parse_range(*self.args, send)
                    pickle.dump(totals, out, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        self.pid: Optional[int] = pid

    def events(self, into: Callable[[_Totals], None], groups: _Groups) -> Iterator[Event]:
        """The range's events in order, then its counts to ``into``; the range is parsed here
        instead if the worker failed."""
        if self._reap() != 0:
            self.file.close()
            yield from self._here(into, groups)
            return
        f = self.file
        f.seek(0)
        enabled = gc.isenabled()
        try:
            while True:
                gc.disable()  # the collector would walk the batch once per 700 new objects
                try:
                    item = pickle.load(f)
                finally:
                    if enabled:
                        gc.enable()
                if isinstance(item, _Totals):
                    into(item)
                    return
                yield from _replay(item, groups)
        finally:
            f.close()

    def _here(self, into: Callable[[_Totals], None], groups: _Groups) -> Iterator[Event]:
        batches: list[_Batch] = []
        totals = _parse_range(*self.args, batches.append)
        into(totals)
        for batch in batches:
            yield from _replay(batch, groups)

    def _reap(self) -> int:
        pid, self.pid = self.pid, None
        if pid is None:
            return -1
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def stop(self) -> None:
        """Not needed after all (a range before it read on): end it."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self._reap()
        self.file.close()


def _add_counts(into: Any, other: Any) -> None:
    """Add one stats dataclass's counts to another's (lists and dicts in order)."""
    for f in fields(other):
        value = getattr(other, f.name)
        if isinstance(value, list):
            getattr(into, f.name).extend(value)
        elif isinstance(value, dict):
            mine = getattr(into, f.name)
            for key, n in value.items():
                mine[key] = mine.get(key, 0) + n
        else:
            setattr(into, f.name, getattr(into, f.name) + value)


def _replay(batch: _Batch, groups: _Groups) -> Iterator[Event]:
    """A batch's events, telling the fleet of its stream names where the serial run would."""
    events, notes = batch
    if not notes:
        yield from events
        return
    done = 0
    note = groups.note
    for position, stream, group in notes:
        yield from events[done:position]
        done = position
        if (stream, group) != groups.last:
            note(stream, group)
            groups.last = (stream, group)
    yield from events[done:]


def why_serial(args: argparse.Namespace) -> Optional[str]:
    """Why ``--jobs`` cannot split this input (None: it can try)."""
    if not hasattr(os, "fork"):
        return "this platform has no fork()"
    paths = list(getattr(args, "paths", None) or ())
    if getattr(args, "function", None) or getattr(args, "log_group", None):
        return "CloudWatch Logs are read serially"
    if len(paths) != 1 or paths[0] == "-":
        return "only one file (not standard input) is split"
    if getattr(args, "since", None) or getattr(args, "until", None):
        return "a time window is read serially"
    return None


def analyze_file(
    args: argparse.Namespace, source_stats: SourceStats, jobs: int, *,
    n_plus_one: int = 5, expected: Iterable[str] = (), min_range: Optional[int] = None,
) -> tuple[Optional[Analysis], str]:
    """The serial analysis of ``args``'s one file, computed by ``jobs`` processes.

    Returns (None, why) when the input cannot be split; the caller then reads it serially.
    Otherwise (analysis, how): ``how`` says how many ranges were parsed apart.
    """
    why = why_serial(args)
    if why is not None:
        return None, why
    source = check_inputs(list(args.paths))[0]
    assert source.path is not None and source.size is not None
    with open(source.path, "rb") as f:
        head = f.read(4096)
    if head[:2] == GZIP_MAGIC:
        return None, "a gzip file is read serially"
    if binary_kind(head) is not None:
        return None, "the file does not look like text"
    limit = getattr(args, "max_decompressed", DEFAULT_MAX_DECOMPRESSED)
    if limit and source.size > limit:
        return None, "the file is over --max-decompressed"
    cuts = find_cuts(source.path, jobs,
                     min_range=MIN_RANGE_BYTES if min_range is None else min_range)
    if not cuts:
        return None, "no place to cut the file between execution environments"
    workers: dict[int, _Worker] = {}
    try:
        for i, cut in enumerate(cuts, start=1):
            workers[i] = _Worker(source, cut.offset, cuts[i:], i + 1)
        pipeline = Pipeline(n_plus_one=n_plus_one, expected=expected)
        source_stats.inputs += 1
        used = [0]

        def every_event() -> Iterator[Event]:
            groups = _Groups(pipeline.fleet.note_group)
            first = _Range(source, 0, cuts, 1, source_stats, pipeline.parser)
            yield from pipeline.parser.iter_events(groups.noting(first.log_events()))
            index = first.next_range
            while index is not None:
                for skipped in [k for k in workers if k < index]:
                    workers.pop(skipped).stop()
                totals: list[_Totals] = []
                yield from workers.pop(index).events(totals.append, groups)
                used.append(index)
                _add_counts(source_stats, totals[0].source_stats)
                _add_counts(pipeline.parser.stats, totals[0].parse_stats)
                index = totals[0].next_range

        pipeline.feed_events(every_event())
        analysis = pipeline.finish()
    finally:
        for worker in workers.values():
            worker.stop()
    return analysis, f"{len(used)} of {len(cuts) + 1} ranges parsed apart"


def note(text: str) -> None:
    print(f"lambda-trace: --jobs: {text}", file=sys.stderr)
