"""``_safety.report``: an internal failure is one redacted stderr line per place, never raised."""

from __future__ import annotations

import pytest

from lambda_trace._safety import report


def test_one_line_per_place_however_often_it_fails(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(3):
        report("emf flush", RuntimeError("disk full"))
    report("sink write", OSError("broken pipe"))
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "lambda-trace: internal error in emf flush (RuntimeError: disk full); tracing carries on,"
        " further errors here are not reported",
        "lambda-trace: internal error in sink write (OSError: broken pipe); tracing carries on,"
        " further errors here are not reported",
    ]


def test_a_secret_in_the_message_is_withheld(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    report("patch", ValueError(f"https://user:{secret}@db.example.com/?token={secret}"))
    err = capsys.readouterr().err
    assert "internal error in patch (ValueError: " in err
    assert secret not in err


def test_a_long_message_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    report("encode", RuntimeError("x" * 5000))
    err = capsys.readouterr().err
    assert "x" * 200 in err and "x" * 201 not in err


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def test_an_exception_whose_str_raises_is_named_only(capsys: pytest.CaptureFixture[str]) -> None:
    report("segment", Unprintable())
    assert "internal error in segment (Unprintable); tracing" in capsys.readouterr().err


def test_a_closed_stderr_does_not_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    class Closed:
        def write(self, text: str) -> int:
            raise ValueError("I/O operation on closed file")

        def flush(self) -> None:
            raise ValueError("I/O operation on closed file")

    monkeypatch.setattr("sys.stderr", Closed())
    report("watchdog", KeyboardInterrupt())  # a BaseException, too
