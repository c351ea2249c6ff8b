"""The environment variables Lambda sets for a Python runtime, and the runtime's version."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from typing import Optional

from lambda_trace.local.template import FunctionSpec

RUNTIME_VERSION = f"python:{sys.version_info.major}.{sys.version_info.minor}.local"


def runtime_version_arn(region: str) -> str:
    digest = hashlib.sha256(RUNTIME_VERSION.encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def environment_variables(
    spec: FunctionSpec,
    api_address: str,
    stream: str,
    *,
    endpoint_url: Optional[str],
    credentials: Mapping[str, str],
    extra_env: Mapping[str, str],
) -> dict[str, str]:
    """The variables Lambda sets for a Python runtime, plus the function's own.

    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": str(spec.code_dir),
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "LAMBDA_RUNTIME_DIR": os.path.dirname(awslambdaric_dir()),
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_FORMAT": spec.log_format,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    }
    if spec.application_log_level:
        env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    env.update(credentials)
    env.update(spec.environment)
    env.update(extra_env)
    return env


def awslambdaric_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("awslambdaric")
    if spec is None or spec.origin is None:
        raise RuntimeError("awslambdaric is not installed: pip install 'lambda-trace[local]'")
    return os.path.dirname(spec.origin)
