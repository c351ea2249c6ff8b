"""``cli.exits``: every user-facing failure is one line on stderr and an exit code; bugs keep
their traceback."""

from __future__ import annotations

import io
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import pytest

from lambda_trace.cli.exits import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    OPTIONAL_DEPENDENCIES,
    exit_code,
    missing_extra,
)
from lambda_trace.errors import CliError

ROOT = Path(__file__).resolve().parent.parent


def raising(exc: BaseException):  # type: ignore[no-untyped-def]
    def run() -> NoReturn:
        raise exc

    return run


def test_the_code_run_returns_is_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(lambda: 0) == 0
    assert exit_code(lambda: 1) == 1
    assert capsys.readouterr().err == ""


def test_a_cli_error_is_its_message_and_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(raising(CliError("no such log group: /aws/lambda/x"))) == 2
    assert exit_code(raising(CliError("findings at or above high", exit_code=1))) == 1
    assert capsys.readouterr().err == (
        "lambda-trace: error: no such log group: /aws/lambda/x\n"
        "lambda-trace: error: findings at or above high\n")


def test_a_missing_optional_dependency_names_its_extra(capsys: pytest.CaptureFixture[str]) -> None:
    code = exit_code(raising(ModuleNotFoundError("No module named 'rich.console'",
                                                 name="rich.console")))
    assert code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "lambda-trace: error: rich is not installed (an optional dependency): "
        "pip install 'lambda-trace[analyzer]'\n")


def test_any_other_import_error_is_a_bug_and_keeps_its_traceback() -> None:
    with pytest.raises(ImportError, match="cannot import name"):
        exit_code(raising(ImportError("cannot import name 'x' from 'lambda_trace'",
                                      name="lambda_trace")))
    assert missing_extra(ImportError("no name at all")) is None


def test_ctrl_c_is_130_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(raising(KeyboardInterrupt())) == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == "lambda-trace: interrupted\n"


def test_a_closed_pipe_is_success_and_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """``lambda-trace events ... | head``: the reader left. stderr is closed so the interpreter's
    own flush at exit cannot complain about the pipe either."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert exit_code(raising(BrokenPipeError())) == 0
    assert stderr.closed


def test_other_exceptions_propagate() -> None:
    with pytest.raises(ZeroDivisionError):
        exit_code(lambda: 1 // 0)


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


@pytest.mark.parametrize(("module", "extra"), sorted(OPTIONAL_DEPENDENCIES.items()))
def test_each_extra_named_installs_the_module(module: str, extra: str) -> None:
    """The advice must work: the extra exists and lists the module's distribution (or one that
    requires it, as boto3 requires botocore)."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    listed = requirement_names(extras[extra])
    providers = {d.lower().replace("_", "-")
                 for d in metadata.packages_distributions().get(module, [])}
    assert providers, f"{module} is not installed here, so this cannot be checked"
    brought = set(listed)
    for name in listed:  # the dev install has every extra: a listed one missing is a failure
        brought |= requirement_names(
            [r for r in metadata.requires(name) or [] if "extra ==" not in r])
    assert providers & brought, f"pip install 'lambda-trace[{extra}]' does not install {module}"
