"""The environment a function gets beyond its template: ``--env-vars FILE`` and the shell.

``--env-vars`` takes SAM CLI's file, so one file serves ``sam local invoke`` and
``lambda-trace invoke``: a JSON object whose ``"Parameters"`` entry applies to every function
and whose other entries are keyed by a function's logical id (or its function name), each an
object of variable -> value; a function's own entry wins over ``Parameters``
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-invoke.html).
As in SAM CLI, a file's value only overrides a variable the template declares for the function;
values become strings the way SAM CLI makes them (``true``/``false``, numbers as written,
objects and lists as an empty string).

From the shell, only ``LAMBDA_TRACE_*`` variables reach the function (lambda-trace's own
settings, e.g. ``LAMBDA_TRACE_CALL_LINES=none``), whether or not the template declares them;
everything else stays out, as in Lambda. Order, later wins: template, shell ``LAMBDA_TRACE_*``,
``--env-vars``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_trace.local.intrinsics import TemplateError
from lambda_trace.local.template import FunctionSpec

SHELL_PREFIX = "LAMBDA_TRACE_"
GLOBAL_KEY = "Parameters"


@dataclass(frozen=True)
class Overrides:
    """The variables to set for one function, and the file's names it had to ignore."""

    variables: dict[str, str] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


def read_file(path: Path) -> dict[str, dict[str, Any]]:
    """An ``--env-vars`` file, checked for SAM CLI's shape."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read --env-vars file {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise TemplateError(f"--env-vars file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TemplateError(f"--env-vars file {path} must hold a JSON object")
    for key, value in data.items():
        # SAM CLI refuses the same ("Environment variables ... in incorrect format").
        if not isinstance(value, dict):
            raise TemplateError(
                f"--env-vars file {path}: {key!r} must be an object of variable: value"
            )
    return data


def for_function(
    spec: FunctionSpec, env_file: Mapping[str, Mapping[str, Any]], shell: Mapping[str, str]
) -> Overrides:
    """What to add to ``spec``'s template environment for this invocation."""
    out = {key: value for key, value in shell.items() if key.startswith(SHELL_PREFIX)}
    from_file: dict[str, Any] = dict(env_file.get(GLOBAL_KEY) or {})
    own = env_file.get(spec.logical_id) or env_file.get(spec.name)
    from_file.update(own or {})
    ignored = []
    for key, value in from_file.items():
        if key in spec.environment or key.startswith(SHELL_PREFIX):
            out[key] = stringify(value)
        else:
            ignored.append(key)
    return Overrides(out, tuple(sorted(ignored)))


def stringify(value: Any) -> str:
    """An environment value as SAM CLI writes it."""
    if isinstance(value, (dict, list, tuple)) or value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)
