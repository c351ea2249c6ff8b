"""Import guarantees of the command line: ``--help`` loads only the shell, a command's ``--help``
loads only its own argument module, and ``analyze`` never loads the local runner.

Each case runs ``lambda_trace.cli.main`` in a fresh interpreter and lists what is in
``sys.modules`` afterwards (the style of test_runtime_import.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_support import python
from test_cmd_analyze import write_log

from lambda_trace.cli.shell import COMMANDS

#: the shell every command line loads
SHELL = {
    "lambda_trace",
    "lambda_trace.errors",
    "lambda_trace.cli",
    "lambda_trace.cli.shell",
    "lambda_trace.cli.exits",
}
#: what a command's argument module may share with others
SHARED = {"lambda_trace.cli.argtypes", "lambda_trace.cli.choices", "lambda_trace.cli.sources",
          "lambda_trace.finding_kinds"}  # the finding kinds' one declaration, a tuple
THIRD_PARTY = ("rich", "boto3", "botocore", "orjson", "moto", "yaml", "awslambdaric")


def loaded_by(*argv: str) -> tuple[int, list[str]]:
    """The exit code of ``lambda-trace ARGV`` and the lambda_trace/third-party modules it loaded."""
    result = python(
        f"""
        import io, json, sys
        from contextlib import redirect_stdout
        from lambda_trace.cli import main
        with redirect_stdout(io.StringIO()):
            try:
                code = main({list(argv)!r})
            except SystemExit as exc:
                code = exc.code
        names = sorted(m for m in sys.modules
                       if m.split(".")[0] in {("lambda_trace", *THIRD_PARTY)!r})
        print(json.dumps([code, names]))
        """
    )
    assert result.returncode == 0, result.stderr
    code, names = json.loads(result.stdout.strip().splitlines()[-1])
    return code, names


def test_top_level_help_loads_only_the_shell() -> None:
    code, loaded = loaded_by("--help")
    assert code == 0
    assert set(loaded) == SHELL


def test_version_loads_only_the_shell() -> None:
    code, loaded = loaded_by("--version")
    assert code == 0
    assert set(loaded) == SHELL


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_commands_help_loads_its_argument_module_only(command: str) -> None:
    code, loaded = loaded_by(command, "--help")
    assert code == 0
    own = COMMANDS[command].module
    assert own in loaded
    assert set(loaded) <= SHELL | SHARED | {own}, "loaded more than the command's arguments"
    others = {entry.module for name, entry in COMMANDS.items() if name != command}
    assert not others & set(loaded)


def test_analyze_of_a_file_never_loads_the_local_runner(tmp_path: Path) -> None:
    log = write_log(tmp_path / "f.log")
    code, loaded = loaded_by("analyze", "--no-progress", "--format", "json", str(log))
    assert code == 0
    assert "lambda_trace.analyzer.cmd_analyze" in loaded  # it did run
    assert not [m for m in loaded if m.startswith("lambda_trace.local")]
    # --function's metrics and configuration (and their AWS modules) wait for --function
    assert "lambda_trace.analyzer.function_checks" not in loaded
    assert not [m for m in loaded if m.startswith("lambda_trace.cli.") and m.split(".")[2] in
                set(COMMANDS) - {"analyze"}]


def test_the_local_runner_imports_no_analyzer() -> None:
    """``LogEvent`` and ``CliError`` live below both halves: invoke's modules need no analyzer."""
    result = python(
        """
        import sys
        import lambda_trace.local.cmd_invoke, lambda_trace.local.runner, lambda_trace.local.logsink
        import lambda_trace.local.cmd_demo
        print(sorted(m for m in sys.modules if m.startswith("lambda_trace.analyzer")))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
