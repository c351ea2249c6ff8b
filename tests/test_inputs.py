"""Inputs are opened safely and decoded as lines, with gzip, bad bytes and huge lines bounded."""

from __future__ import annotations

import gzip
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from lambda_trace.analyzer.errors import CliError
from lambda_trace.analyzer.inputs import (
    MAX_LINE_CHARS,
    Input,
    LongLine,
    check_inputs,
    decode_lines,
    read_chunks,
    read_lines,
)
from lambda_trace.analyzer.sourcestats import SourceStats


def lines_of(path: Path, stats: SourceStats, **kwargs: object) -> list[object]:
    return list(read_lines(check_inputs([str(path)])[0], stats, **kwargs))  # type: ignore[arg-type]


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    """A path that does not exist fails before anything is read, naming the path."""
    missing = tmp_path / "nope.log"
    with pytest.raises(CliError, match=rf"cannot read {missing}: no such file"):
        check_inputs([str(missing)])


def test_a_directory_is_one_clear_error(tmp_path: Path) -> None:
    """A directory is refused with a hint, not read as an empty file."""
    with pytest.raises(CliError, match="is a directory"):
        check_inputs([str(tmp_path)])


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    """A file without read permission gives 'permission denied' (checked as a non-root user)."""
    secret = tmp_path / "secret.log"
    secret.write_text("START RequestId: x Version: $LATEST\n")
    secret.chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(CliError, match="permission denied"):
            check_inputs([str(secret)])
        return
    # root reads anything: check in a child process that has dropped to an ordinary user.
    tmp_path.chmod(0o755)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            check_inputs([str(secret)])
            message = "no error"
        except CliError as exc:
            message = str(exc)
        except BaseException as exc:
            message = f"unexpected {exc!r}"
        os.write(write_end, message.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    assert message == f"cannot read {secret}: permission denied"


def test_stdin_may_be_named_only_once() -> None:
    """'-' twice would read standard input twice; it is refused."""
    with pytest.raises(CliError, match="more than once"):
        check_inputs(["-", "-"])


def test_gzip_is_detected_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    """Compressed data is decompressed whatever the name; plain data named .gz is read as is."""
    packed = tmp_path / "events.log"
    packed.write_bytes(gzip.compress(b"START RequestId: a Version: $LATEST\nEND RequestId: a\n"))
    plain = tmp_path / "plain.gz"
    plain.write_bytes(b"REPORT RequestId: b\tDuration: 1.00 ms\n")
    stats = SourceStats()
    assert lines_of(packed, stats) == ["START RequestId: a Version: $LATEST", "END RequestId: a"]
    assert lines_of(plain, stats) == ["REPORT RequestId: b\tDuration: 1.00 ms"]


def test_a_gzip_bomb_stops_at_the_decompression_limit(tmp_path: Path) -> None:
    """50 MB of log text in a small .gz is read only up to the limit, with a note saying so."""
    line = b"INFO the same line again and again, as a bomb would have it\n"
    bomb = tmp_path / "bomb.gz"
    bomb.write_bytes(gzip.compress(line * (50_000_000 // len(line)), compresslevel=9))
    assert bomb.stat().st_size < 1_000_000
    stats = SourceStats()
    lines = lines_of(bomb, stats, max_decompressed=1_000_000)
    assert stats.bytes_read == 1_000_000
    assert stats.capped_inputs == 1
    assert len(lines) == 1_000_000 // len(line) + 1  # the cut line is kept, shortened
    assert "--max-decompressed" in stats.notes[0]


def test_a_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    """A partial download yields its complete lines, then a note; it does not fail the run."""
    data = b"".join(b"line %d of a log that was cut\n" % i for i in range(20_000))
    packed = gzip.compress(data)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    stats = SourceStats()
    lines = lines_of(cut, stats)
    assert 1000 < len(lines) < 20_000
    assert lines[0] == "line 0 of a log that was cut"
    assert lines[-2] == f"line {len(lines) - 2} of a log that was cut"
    assert stats.malformed == 1
    assert "gzip data ends or breaks" in stats.notes[0]


def test_invalid_utf8_is_replaced_and_counted_per_line(tmp_path: Path) -> None:
    """Bad bytes become U+FFFD; good lines around them are untouched; each bad line counts once."""
    path = tmp_path / "mixed.log"
    path.write_bytes(b"good \xc3\xa9\nbad \xff\xfe here\nalso bad \xc3\ngood again\n")
    stats = SourceStats()
    assert lines_of(path, stats) == [
        "good é",
        "bad \ufffd\ufffd here",
        "also bad \ufffd",
        "good again",
    ]
    assert stats.undecodable_lines == 2


def test_a_huge_line_arrives_in_pieces_without_being_held_whole(tmp_path: Path) -> None:
    """A 24 MB line comes as LongLine pieces of at most the line limit, in bounded memory."""
    path = tmp_path / "huge.log"
    with open(path, "wb") as fh:
        fh.write(b"START RequestId: a Version: $LATEST\n")
        fh.write(b"x" * 24_000_000 + b"\n")
        fh.write(b"END RequestId: a\n")
    stats = SourceStats()
    tracemalloc.start()
    try:
        pieces = 0
        kinds = []
        for line in read_lines(check_inputs([str(path)])[0], stats):
            if isinstance(line, LongLine):
                pieces += 1
                assert len(line.text) <= MAX_LINE_CHARS + 256 * 1024
                kinds.append(("long", line.first, line.last))
            else:
                kinds.append(line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds[0] == "START RequestId: a Version: $LATEST"
    assert kinds[1] == ("long", True, False)
    assert kinds[-2] == ("long", False, True)
    assert kinds[-1] == "END RequestId: a"
    assert pieces >= 20
    assert peak < 8_000_000


def test_crlf_files_lose_the_cr_of_each_line_end_only() -> None:
    """Windows line ends are removed; a CR inside a line (Python's multi-line events) stays."""
    data = b'first\r\nLAMBDA_WARNING: x\r{"a": 1}\r\nlast\r\n'
    stats = SourceStats()
    assert list(decode_lines(iter([data]), stats)) == [
        "first",
        'LAMBDA_WARNING: x\r{"a": 1}',
        "last",
    ]


def test_a_lone_cr_at_a_line_end_is_kept_in_lf_files() -> None:
    """In an LF file a CR before the newline belongs to the message (the LAMBDA_WARNING literal)."""
    data = b"START\nLAMBDA_WARNING: see the docs\r\nEND\n"
    assert list(decode_lines(iter([data]), SourceStats()))[1] == "LAMBDA_WARNING: see the docs\r"


def test_a_byte_order_mark_is_dropped_and_a_missing_final_newline_is_fine() -> None:
    """An editor's BOM is not part of the first message; the last line needs no newline."""
    data = "\ufeffSTART RequestId: a\nEND RequestId: a".encode()
    assert list(decode_lines(iter([data]), SourceStats())) == [
        "START RequestId: a",
        "END RequestId: a",
    ]


def test_lines_split_across_chunks_are_joined() -> None:
    """Chunk boundaries fall anywhere, even inside a UTF-8 character; lines come out whole."""
    text = "".join(f"ligne {i} — é\n" for i in range(500)).encode()
    chunks = [text[i : i + 7] for i in range(0, len(text), 7)]
    stats = SourceStats()
    assert list(decode_lines(iter(chunks), stats)) == [f"ligne {i} — é" for i in range(500)]
    assert stats.undecodable_lines == 0
    assert stats.bytes_read == len(text)


def test_s3_export_folders_name_the_log_stream() -> None:
    """<prefix>/<task>/<log stream>/000000.gz gives the stream; other paths give none."""
    exported = Input(
        "x", "exports/abc123/2024/06/17/[$LATEST]0123456789abcdef0123456789abcdef/000000.gz"
    )
    assert exported.log_stream == "2024/06/17/[$LATEST]0123456789abcdef0123456789abcdef"
    assert Input("y", "logs/today.log").log_stream is None
    assert Input("<stdin>", None).log_stream is None


def test_progress_is_reported_in_compressed_bytes(tmp_path: Path) -> None:
    """The progress callback gets positions in the file on disk, ending at its size."""
    path = tmp_path / "p.log"
    path.write_bytes(b"a line of log text\n" * 100_000)
    seen: list[int] = []
    stats = SourceStats()
    with open(path, "rb") as fh:
        for _ in read_chunks(io.BufferedReader(fh), "p", stats, on_progress=seen.append):
            pass
    assert seen == sorted(seen)
    assert seen[-1] == path.stat().st_size
