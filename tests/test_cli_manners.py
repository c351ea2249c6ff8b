"""CLI manners: --version, a missing optional dependency names its extra (exit 2, no traceback),
and a --baseline too small to compare says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cmd_analyze import write_log

import lambda_trace
from lambda_trace.analyzer.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"lambda-trace {lambda_trace.__version__}\n"


def without(tmp_path: Path, module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI where ``module`` cannot be imported (a stand-in that fails like a missing
    package: ModuleNotFoundError with its name)."""
    blocked = tmp_path / "blocked"
    blocked.mkdir(exist_ok=True)
    (blocked / f"{module}.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "lambda_trace", *argv], capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def test_missing_rich_names_the_extra(tmp_path: Path) -> None:
    log = write_log(tmp_path / "f.log")
    done = without(tmp_path, "rich", "analyze", "--no-progress", str(log))
    assert done.returncode == 2, done.stderr
    assert done.stderr == ("lambda-trace: error: rich is not installed (an optional dependency): "
                           "pip install 'lambda-trace[analyzer]'\n")
    # the JSON report needs no rich
    done = without(tmp_path, "rich", "analyze", "--no-progress", "--format", "json", str(log))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["invocations"] == 20


def test_missing_boto3_names_the_extra(tmp_path: Path) -> None:
    done = without(tmp_path, "boto3", "analyze", "--no-progress", "--function", "orders",
                   "--endpoint-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr == ("lambda-trace: error: boto3 is not installed (an optional "
                           "dependency): pip install 'lambda-trace[analyzer]'\n")


def test_a_command_whose_module_cannot_import_says_which_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command module that imports a missing package at import time stays listed, and says
    which extra to install when it is run (whatever arguments it gets, --help too)."""
    from lambda_trace.cli import shell

    (tmp_path / "needs_moto_cmd.py").write_text("import moto_is_missing_here\n")
    (tmp_path / "moto_is_missing_here.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'moto'\", name='moto')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(shell.COMMANDS, "fake", shell.Command("needs_moto_cmd", "a fake command"))
    missing = ("lambda-trace: error: moto is not installed (an optional dependency): "
               "pip install 'lambda-trace[local]'\n")
    assert main(["fake", "--any", "thing"]) == 2
    assert capsys.readouterr().err == missing
    assert main(["fake", "--help"]) == 2
    assert capsys.readouterr().err == missing
    # The top-level help lists it from the static table, without importing it.
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "a fake command" in capsys.readouterr().out


def test_a_baseline_with_too_few_invocations_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = write_log(tmp_path / "before.log", get_item_ms=2.0, n=3)
    now = write_log(tmp_path / "now.log", get_item_ms=20.0)
    code = main(["analyze", "--no-progress", "--format", "json", "--baseline", str(before),
                 "--fail-on", "latency_regression", str(now)])
    out, err = capsys.readouterr()
    assert code == 0  # no regression is claimed from 3 invocations
    assert (f"lambda-trace: --baseline {before} has 3 invocations; at least 20 are needed to "
            "compare latencies, so no latency_regression is reported\n") in err
    report = json.loads(out)
    assert report["baseline"]["invocations"] == 3  # the comparison is still shown
    assert not [f for f in report["findings"] if f["kind"] == "latency_regression"]
