"""Bytes in, decoded lines out: files and stdin, gzip detected by its magic, memory bounded.

Files are read in binary with large buffers and decoded a block of whole lines at a time, which
never splits a UTF-8 character because ``\\n`` cannot occur inside one. A line longer than
``MAX_LINE_CHARS`` arrives as ``LongLine`` pieces instead of one string, so a 10 MB line costs at
most a couple of megabytes of memory: text readers keep the first piece, JSON readers join them.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Callable, Literal, Optional, Union

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.sourcestats import SourceStats

CHUNK_BYTES = 256 * 1024
#: CloudWatch's largest event is 1 MB (docs/formats.md §8): a longer text line cannot be one event.
MAX_LINE_CHARS = 1024 * 1024
#: Per-input limit on decompressed bytes (gzip bombs); ``--max-decompressed`` changes it.
DEFAULT_MAX_DECOMPRESSED = 8 * 1024**3
GZIP_MAGIC = b"\x1f\x8b"

#: S3 exports keep each log stream in its own folder: <prefix>/<task id>/<log stream>/000000.gz
_STREAM_IN_PATH = re.compile(r"(\d{4}/\d\d/\d\d/\[[^\]/]*\][0-9A-Za-z]+)/[^/]+$")


class LongLine:
    """A piece of a line longer than ``MAX_LINE_CHARS``; false in a boolean test, like a blank."""

    __slots__ = ("first", "last", "text")

    def __init__(self, text: str, *, first: bool, last: bool) -> None:
        self.text = text
        self.first = first
        self.last = last

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return f"LongLine({len(self.text)} chars, first={self.first}, last={self.last})"


Line = Union[str, LongLine]


@dataclass(frozen=True)
class Input:
    """One input named on the command line: a path, or ``-`` for standard input."""

    name: str
    path: Optional[str]
    size: Optional[int] = None

    @property
    def log_stream(self) -> Optional[str]:
        """The log stream an S3 export's folder names, if the path has that shape."""
        if self.path is None:
            return None
        match = _STREAM_IN_PATH.search(self.path.replace(os.sep, "/"))
        return match.group(1) if match else None


def _os_error_text(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EISDIR:
        return "is a directory (give the log files inside it)"
    return exc.strerror or str(exc)


def check_inputs(paths: list[str]) -> list[Input]:
    """Every path checked before anything is read, so a typo fails fast with one line."""
    inputs: list[Input] = []
    for path in paths:
        if path == "-":
            if any(i.path is None for i in inputs):
                raise CliError("'-' (standard input) is given more than once")
            inputs.append(Input("<stdin>", None))
            continue
        try:
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "is a directory", path)
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
        except OSError as exc:
            raise CliError(f"cannot read {path}: {_os_error_text(exc)}") from None
        inputs.append(Input(path, path, size))
    return inputs


def open_input(source: Input) -> BinaryIO:
    """A buffered binary stream (one that supports ``peek``) for the input."""
    if source.path is None:
        return sys.stdin.buffer
    try:
        return open(source.path, "rb", buffering=CHUNK_BYTES)
    except OSError as exc:
        raise CliError(f"cannot read {source.path}: {_os_error_text(exc)}") from None


def _peek(stream: BinaryIO, n: int) -> bytes:
    peek = getattr(stream, "peek", None)
    return peek(n)[:n] if peek is not None else b""


def read_chunks(
    stream: BinaryIO,
    origin: str,
    stats: SourceStats,
    *,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    on_progress: Optional[Callable[[int], None]] = None,
    close: bool = False,
) -> Iterator[bytes]:
    """The input's bytes, gunzipped when they start with the gzip magic, up to the limit.

    A corrupt or truncated gzip stream ends the input with a note (what was read is kept), as
    does reaching ``max_decompressed``. ``on_progress`` gets the compressed bytes consumed so far;
    ``close`` closes the stream at the end.
    """
    raw = stream
    compressed = _peek(stream, 2) == GZIP_MAGIC
    source = _gunzip(stream) if compressed else iter(lambda: stream.read(CHUNK_BYTES), b"")
    total = 0
    try:
        for chunk in source:
            if not total:
                _check_text(chunk, origin, stats)
            total += len(chunk)
            if max_decompressed and total > max_decompressed:
                keep = len(chunk) - (total - max_decompressed)
                if keep > 0:
                    yield chunk[:keep]
                stats.capped_inputs += 1
                stats.note(
                    origin,
                    f"stopped after {max_decompressed} bytes of log text (the decompression "
                    "limit; raise it with --max-decompressed)",
                )
                return
            yield chunk
            if on_progress is not None:
                try:
                    on_progress(raw.tell())
                except (OSError, ValueError):
                    on_progress(total)
    except GzipBroken as exc:
        stats.malformed += 1
        stats.note(
            origin,
            f"gzip data ends or breaks after {total} bytes of log text, at compressed byte "
            f"{exc.offset} ({exc.reason}); everything before it was read, the rest skipped",
        )
    except OSError as exc:
        stats.note(origin, f"read error after {total} bytes: {_os_error_text(exc)}; rest skipped")
    finally:
        if close:
            stream.close()


#: Leading bytes of common binary formats, for the "not a log" message.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x7fELF", "an executable"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"\xff\xfe", "UTF-16 text (convert it to UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (convert it to UTF-8)"),
)
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v\x1b")


NOT_A_LOG = "not a log ({what}); give a text, JSON or gzip file of log lines"


def _check_text(head: bytes, origin: str, stats: SourceStats) -> None:
    """A known binary format stops the run; bytes that only look binary are judged at the end
    (``not_a_log``): a log with garbage after its lines is still read."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise CliError(f"{origin}: " + NOT_A_LOG.format(what=kind))
    what = binary_kind(head)
    if what is not None:
        stats.binary_inputs.append(f"{origin}: " + NOT_A_LOG.format(what=what))


def not_a_log(stats: SourceStats, events_found: int) -> Optional[str]:
    """The error for a run whose inputs looked binary and held no event at all, else None."""
    if stats.binary_inputs and not events_found:
        return stats.binary_inputs[0]
    return None


def binary_kind(head: bytes) -> Optional[str]:
    """What the first bytes of an input are when they are not text, else None.

    A known file signature is binary. So is a sample (the first 4 KB) in which more than 10% of
    the bytes are control characters (NUL included) or broken UTF-8: log text may carry a stray
    NUL or escape sequence, but not that many.
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    sample = head[:4096]
    if not sample:
        return None
    controls = sum(1 for b in sample if b < 0x20 and b not in _TEXT_CONTROLS)
    # (a multi-byte character cut by the sample's end is not broken text)
    broken = sample[:_char_boundary(sample, len(sample))].decode("utf-8", "replace").count(
        "\ufffd")
    if (controls + broken) * 10 > len(sample):
        return "binary data"
    return None


class GzipBroken(Exception):
    """The gzip stream is cut short or corrupt at compressed byte ``offset``."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def _gunzip(stream: BinaryIO) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (of its members back to back), as they come.

    ``zlib.decompressobj`` rather than ``gzip.GzipFile``: GzipFile raises ``EOFError`` for a cut
    stream and drops what it had decompressed in that read (up to ``CHUNK_BYTES`` of text), while
    a decompressor hands out everything up to the last complete deflate block. Output is taken
    at most ``CHUNK_BYTES`` at a time, so a bomb never inflates in one call.
    """
    decoder = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer (RFC 1952)
    consumed = 0  # compressed bytes read so far
    pending = b""
    member_done = False
    while True:
        if not pending:
            pending = stream.read(CHUNK_BYTES)
            if not pending:
                if member_done:
                    return
                try:
                    rest = decoder.flush()  # output zlib still holds for input it has taken
                except zlib.error:
                    rest = b""
                if rest:
                    yield rest
                if decoder.eof:
                    return
                raise GzipBroken("the compressed data is cut short", consumed)
            consumed += len(pending)
        if member_done:  # another member follows (`cat a.gz b.gz`), or trailing junk
            if pending[:1] == b"\0" and not pending.strip(b"\0"):
                pending = b""  # zero padding after the last member (tape-style), as gzip allows
                continue
            if pending[:2] != GZIP_MAGIC[: len(pending[:2])]:
                raise GzipBroken("data after the gzip stream is not gzip", consumed - len(pending))
            decoder = zlib.decompressobj(wbits=31)
            member_done = False
        try:
            out = decoder.decompress(pending, CHUNK_BYTES)
        except zlib.error as exc:
            raise GzipBroken(str(exc), consumed - len(pending)) from None
        pending = decoder.unconsumed_tail or b""
        if decoder.eof:
            member_done = True
            pending = decoder.unused_data + pending
        if out:
            yield out


def decode_lines(
    chunks: Iterator[bytes],
    stats: SourceStats,
    *,
    max_line: int = MAX_LINE_CHARS,
) -> Iterator[Line]:
    """Lines (without their ``\\n``) from byte chunks; over-long lines come as ``LongLine`` pieces.

    Invalid UTF-8 is replaced by U+FFFD and counted per line. CRLF files (decided by their first
    line) lose the CR before each LF; a CR anywhere else is part of the message
    (docs/formats.md §0.1).
    """
    tail = b""
    in_long = False  # inside a line already being delivered as pieces
    crlf: Optional[bool] = None
    first = True
    for chunk in chunks:
        stats.bytes_read += len(chunk)
        data = tail + chunk if tail else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) < max_line:
                tail = data
                continue
            # A line longer than the limit: hand on a piece, keep a partial character back.
            keep = _char_boundary(data, len(data))
            yield LongLine(_decode(data[:keep], stats), first=not in_long, last=False)
            in_long = True
            tail = data[keep:]
            continue
        block, tail = data[:cut], data[cut + 1 :]
        if in_long:
            head, sep, block_rest = block.partition(b"\n")
            yield LongLine(_decode(head, stats), first=False, last=True)
            in_long = False
            if not sep:  # the long line ended at the block's last newline
                continue
            block = block_rest
        text = _decode(block, stats)
        if first:
            first = False
            if text.startswith("\ufeff"):
                text = text[1:]
            crlf = text.split("\n", 1)[0].endswith("\r")
        if crlf:
            text = text.replace("\r\n", "\n")
            if text.endswith("\r"):
                text = text[:-1]
        lines = text.split("\n")
        if len(text) > max_line:
            yield from _split_long(lines, max_line)
        else:
            yield from lines
    if in_long:
        yield LongLine(_decode(tail, stats), first=False, last=True)
    elif tail:
        text = _decode(tail, stats)
        if first and text.startswith("\ufeff"):
            text = text[1:]
        if crlf and text.endswith("\r"):
            text = text[:-1]
        if len(text) > max_line:
            yield LongLine(text, first=True, last=True)
        else:
            yield text


def _split_long(lines: list[str], max_line: int) -> Iterator[Line]:
    for line in lines:
        if len(line) > max_line:
            yield LongLine(line, first=True, last=True)
        else:
            yield line


def _char_boundary(data: bytes, end: int) -> int:
    """The largest index <= end that does not split a UTF-8 sequence."""
    i = end
    while i > 0 and end - i < 4 and (data[i - 1] & 0xC0) == 0x80:
        i -= 1
    if i > 0 and data[i - 1] >= 0xC0:  # a lead byte whose continuation is not all here
        return i - 1
    return end


def _decode(block: bytes, stats: SourceStats) -> str:
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = block.split(b"\n")
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            stats.undecodable_lines += 1
            out.append(line.decode("utf-8", "replace"))
    return "\n".join(out)


def read_lines(
    source: Input,
    stats: SourceStats,
    *,
    max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
    on_progress: Optional[Callable[[int], None]] = None,
) -> Iterator[Line]:
    """Decoded lines of one input; the file is closed when they are all read or abandoned."""
    stream = open_input(source)
    chunks = read_chunks(
        stream,
        source.name,
        stats,
        max_decompressed=max_decompressed,
        on_progress=on_progress,
        close=source.path is not None,
    )
    return decode_lines(chunks, stats)
