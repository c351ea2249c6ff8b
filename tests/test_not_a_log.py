"""Binary input is not a log: one line on stderr, exit 2, for analyze and events (issue 11, 5)."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from lambda_trace.analyzer.inputs import binary_kind


def png() -> bytes:
    """A valid 1x1 PNG (signature, IHDR, IDAT, IEND chunks with their CRCs)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def run(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "lambda_trace.analyzer.cli", *argv],
                          input=stdin, capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("command", ["analyze", "events"])
def test_a_picture_is_not_a_log(tmp_path: Path, command: str) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(png())
    done = run(command, str(picture))
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert lines == [f"lambda-trace: error: {picture}: not a log (a PNG image); give a text, "
                     "JSON or gzip file of log lines"]


def test_gzipped_binary_and_binary_on_stdin_are_not_logs(tmp_path: Path) -> None:
    packed = tmp_path / "picture.png.gz"
    packed.write_bytes(gzip.compress(png()))
    assert run("analyze", str(packed)).returncode == 2
    done = run("analyze", "-", stdin=bytes(range(256)) * 8)
    assert done.returncode == 2 and b"not a log (binary data)" in done.stderr


def test_text_with_a_few_broken_bytes_is_still_a_log(tmp_path: Path) -> None:
    log = tmp_path / "copy.log"
    log.write_bytes(b"START RequestId: 8e4fda21-3939-4a20-8d52-8eb18debcd13 Version: $LATEST\n"
                    b"caf\xe9 \x1b[31mred\x1b[0m\n")
    assert run("analyze", str(log)).returncode == 0


def test_binary_kind_names_what_it_sees() -> None:
    assert binary_kind(png()) == "a PNG image"
    assert binary_kind(b"%PDF-1.7\n") == "a PDF document"
    assert binary_kind(b"REPORT RequestId: x\tDuration: 1.00 ms\n") is None
    assert binary_kind(b"\xff\xfeR\x00E\x00") == "UTF-16 text (convert it to UTF-8)"
