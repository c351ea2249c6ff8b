"""``--env-vars`` takes SAM CLI's file and gives each function what ``sam local invoke`` would.

The reference below is SAM CLI's own rule, restated from its source
(https://github.com/aws/aws-sam-cli/blob/develop/samcli/commands/local/lib/local_lambda.py,
``_make_env_vars``, and samcli/local/lambdafn/env_vars.py, ``EnvironmentVariables.resolve``):
``Parameters`` first, then the function's own entry (logical id, else function name); only
variables the template declares are overridden; values stringified (bools as true/false,
objects/lists/null as ""). The same file, checked against SAM's documented schema, must give
the same variables through lambda-trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lambda_trace.local import envvars
from lambda_trace.local.intrinsics import TemplateError
from lambda_trace.local.template import FunctionSpec, load

DATA = Path(__file__).resolve().parent / "data" / "local"


def sam_cli_environment(
    declared: dict[str, str], logical_id: str, name: str, env_file: dict[str, Any]
) -> dict[str, str]:
    """What SAM CLI sets for the template's declared variables, given this env-vars file."""
    overrides: dict[str, Any] = {}
    overrides.update(env_file.get("Parameters", {}))
    overrides.update(env_file.get(logical_id) or env_file.get(name) or {})
    out = {}
    for key, value in declared.items():
        value = overrides.get(key, value)
        if isinstance(value, (dict, list, tuple)) or value is None:
            value = ""
        elif value is True:
            value = "true"
        elif value is False:
            value = "false"
        out[key] = str(value)
    return out


def lambda_trace_environment(spec: FunctionSpec, env_file: dict[str, Any]) -> dict[str, str]:
    return {**spec.environment, **envvars.for_function(spec, env_file, {}).variables}


def test_the_same_file_round_trips_through_sams_schema_and_our_runner(tmp_path: Path):
    """tests/data/local/env.json is valid for SAM CLI and gives identical variables here;
    so does a file keyed by function name with non-string values, after a JSON round trip."""
    schema = json.loads((DATA / "sam_env_vars.schema.json").read_text())
    spec = load(DATA / "user_template.yaml").function("OrdersFunction")
    files = [
        json.loads((DATA / "env.json").read_text()),
        {
            "Parameters": {"STAGE": "ignored-by-function-entry", "FIRST_AZ": None},
            "orders-dev": {"STAGE": 7, "LOG_LEVEL": False, "GREETING": {"not": "a string"}},
        },
    ]
    for i, env_file in enumerate(files):
        jsonschema.validate(env_file, schema)
        path = tmp_path / f"env{i}.json"
        path.write_text(json.dumps(env_file))
        read_back = envvars.read_file(path)
        assert read_back == env_file
        expected = sam_cli_environment(spec.environment, spec.logical_id, spec.name, read_back)
        assert lambda_trace_environment(spec, read_back) == expected
    # The second file's values, as SAM CLI writes them:
    got = lambda_trace_environment(spec, files[1])
    assert (got["STAGE"], got["LOG_LEVEL"], got["GREETING"], got["FIRST_AZ"]) == (
        "7",
        "false",
        "",
        "",
    )


def test_sams_schema_refuses_what_our_reader_refuses(tmp_path: Path):
    """A top-level value that is not an object fails SAM's schema and our reader alike."""
    schema = json.loads((DATA / "sam_env_vars.schema.json").read_text())
    bad = {"OrdersFunction": "LOG_LEVEL=INFO"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    path = tmp_path / "env.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(TemplateError, match="'OrdersFunction' must be an object"):
        envvars.read_file(path)


def test_only_lambda_trace_variables_come_from_the_shell():
    """LAMBDA_TRACE_* pass (declared or not); HOME, AWS keys and the rest do not; the file
    wins over the shell; an undeclared name in the file is reported as ignored."""
    spec = load(DATA / "user_template.yaml").function("OrdersFunction")
    shell = {
        "LAMBDA_TRACE_CALL_LINES": "none",
        "LAMBDA_TRACE_SAMPLE_RATE": "0.5",
        "HOME": "/root",
        "AWS_SECRET_ACCESS_KEY": "from-the-shell",
        "GREETING": "shell values do not override the template",
    }
    env_file = {"Parameters": {"LAMBDA_TRACE_CALL_LINES": "all", "UNDECLARED": "x"}}
    overrides = envvars.for_function(spec, env_file, shell)
    assert overrides.variables == {
        "LAMBDA_TRACE_CALL_LINES": "all",
        "LAMBDA_TRACE_SAMPLE_RATE": "0.5",
    }
    assert overrides.ignored == ("UNDECLARED",)
