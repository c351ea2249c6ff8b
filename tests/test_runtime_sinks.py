"""Sinks: whole lines on a file descriptor, even from concurrent threads; a replaceable default."""

from __future__ import annotations

import os
import threading

from lambda_trace.sinks import LINES_ATTR, fd_sink, get_default_sink, set_default_sink, stdout_sink


def test_concurrent_long_lines_arrive_whole(tmp_path):
    """Lines longer than PIPE_BUF written from several threads never interleave."""
    read_fd, write_fd = os.pipe()
    sink = fd_sink(write_fd)
    chunks: list[bytes] = []
    reader = threading.Thread(
        target=lambda: chunks.extend(iter(lambda: os.read(read_fd, 65536), b""))
    )
    reader.start()

    def writer(letter: str) -> None:
        for _ in range(10):
            sink(letter * 20_000)

    threads = [threading.Thread(target=writer, args=(c,)) for c in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    os.close(write_fd)
    reader.join()
    os.close(read_fd)
    lines = b"".join(chunks).decode().splitlines()
    assert len(lines) == 40
    assert all(line == line[0] * 20_000 for line in lines)


def test_default_sink_can_be_replaced_and_restored():
    seen: list[str] = []
    previous = set_default_sink(seen.append)
    try:
        get_default_sink()("x")
    finally:
        set_default_sink(None)
    assert previous is stdout_sink and seen == ["x"] and get_default_sink() is stdout_sink


def test_fd_sink_writes_several_lines_in_one_call():
    """An fd sink's ``write_lines`` writes each line plus a newline, in order, in one write."""
    read_fd, write_fd = os.pipe()
    try:
        sink = fd_sink(write_fd)
        getattr(sink, LINES_ATTR)(['{"a":1}', '{"b":"é"}'])
        sink('{"c":3}')
        os.close(write_fd)
        data = os.read(read_fd, 65536)
    finally:
        os.close(read_fd)
    assert data.decode() == '{"a":1}\n{"b":"é"}\n{"c":3}\n'
