"""The environment a local runtime starts with: the variables Lambda sets, then the function's."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from lambda_trace.local.runtime_variables import (
    RUNTIME_VERSION,
    awslambdaric_dir,
    environment_variables,
    runtime_version_arn,
)
from lambda_trace.local.template import FunctionSpec


def spec(tmp_path: Path, **kwargs: object) -> FunctionSpec:
    settings: dict[str, object] = dict(
        logical_id="Fn", name="orders", handler="app.handler", code_dir=tmp_path,
        runtime="python3.12", memory_mb=256, timeout_s=3.0, log_group="/aws/lambda/orders",
    )  # fmt: skip
    settings.update(kwargs)
    return FunctionSpec(**settings)  # type: ignore[arg-type]


def test_lambdas_own_variables_describe_the_function_and_its_stream(tmp_path: Path) -> None:
    env = environment_variables(spec(tmp_path), "127.0.0.1:9001", "2026/01/01/[$LATEST]ab",
                                endpoint_url=None, credentials={}, extra_env={})  # fmt: skip
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert {k: env[k] for k in (
        "AWS_LAMBDA_RUNTIME_API", "_HANDLER", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_LOG_FORMAT",
        "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "TZ",
    )} == {
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "_HANDLER": "app.handler",
        "AWS_LAMBDA_FUNCTION_NAME": "orders", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/orders",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]ab", "AWS_LAMBDA_LOG_FORMAT": "Text",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}", "LAMBDA_TASK_ROOT": str(tmp_path),
        "TZ": ":UTC",
    }  # fmt: skip
    assert env["LAMBDA_RUNTIME_DIR"] == os.path.dirname(awslambdaric_dir())
    # Optional ones only when there is something to say.
    assert "AWS_LAMBDA_LOG_LEVEL" not in env and "AWS_ENDPOINT_URL" not in env


def test_the_shell_environment_stays_out_but_for_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOME_SHELL_SECRET", "x")
    env = environment_variables(spec(tmp_path), "a", "s", endpoint_url=None, credentials={},
                                extra_env={})  # fmt: skip
    assert "SOME_SHELL_SECRET" not in env
    assert env["PATH"] == os.environ["PATH"]


def test_the_functions_variables_override_credentials_and_extra_env_overrides_both(
    tmp_path: Path,
) -> None:
    function = spec(tmp_path, environment={"AWS_REGION": "eu-west-1", "MODE": "template"},
                    application_log_level="DEBUG")  # fmt: skip
    env = environment_variables(
        function, "a", "s", endpoint_url="http://127.0.0.1:5000",
        credentials={"AWS_ACCESS_KEY_ID": "AKIDLOCAL", "MODE": "credentials"},
        extra_env={"MODE": "override"},
    )  # fmt: skip
    assert env["AWS_REGION"] == "eu-west-1"  # the function's variable wins over Lambda's
    assert env["MODE"] == "override"
    assert env["AWS_ACCESS_KEY_ID"] == "AKIDLOCAL"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"


def test_the_runtime_version_arn_is_stable_per_region() -> None:
    assert RUNTIME_VERSION.startswith("python:") and RUNTIME_VERSION.endswith(".local")
    arn = runtime_version_arn("us-east-1")
    assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", arn)
    assert arn == runtime_version_arn("us-east-1")
    assert runtime_version_arn("eu-west-1").startswith("arn:aws:lambda:eu-west-1::runtime:")
