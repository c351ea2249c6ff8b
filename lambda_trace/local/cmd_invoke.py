"""``lambda-trace invoke``: run a template's function locally, the way Lambda runs it.

The function's log lines go to stdout (as Lambda's console shows them) and, on request, to a
JSON-lines file or to CloudWatch Logs; one summary line per invocation goes to stderr. Exit
codes: 0 every invocation succeeded, 1 at least one failed (error, timeout, out of memory,
crash), 2 bad usage or input, 3 CloudWatch Logs did not store every log event (--cloudwatch).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

from lambda_trace.errors import CliError
from lambda_trace.local import envvars
from lambda_trace.local.events import generate
from lambda_trace.local.intrinsics import TemplateError
from lambda_trace.local.logsink import (
    LOGS_LOST_EXIT_CODE,
    CloudWatchSink,
    JsonLinesSink,
    LogSink,
    StreamSink,
    lost_events,
)
from lambda_trace.local.resources import Provisioned
from lambda_trace.local.runner import InvokeResult

EXIT_OK, EXIT_FAILED = 0, 1


def run(args: argparse.Namespace) -> int:
    from lambda_trace.local.template import load
    from lambda_trace.local.world import LocalWorld

    if args.event is not None and args.generate_event:
        raise CliError("give --event or --generate-event, not both")
    event = _read_event(args.event)
    client_context = _json_option("--client-context", args.client_context)
    parameters = _parameters(args.parameter)
    template = Path(args.template)
    if args.function is None:
        if not args.generate_event:
            raise CliError("--function is required (or --generate-event KIND to print an event)")
        return _print_event(args.generate_event, template, parameters)
    if not template.is_file():
        raise CliError(f"no template at {template} (pass --template)")
    if args.provision and not args.endpoint_url:
        raise CliError(
            "--provision only applies with --endpoint-url (an embedded moto is always provisioned)"
        )
    if args.seed and not Path(args.seed).is_file():
        raise CliError(f"no seed file at {args.seed}")
    sinks: list[LogSink] = []
    try:
        env_file = envvars.read_file(Path(args.env_vars)) if args.env_vars else {}
        declared = load(template, parameters=parameters)
        declared.function(args.function)  # fail before starting moto
        if args.generate_event:
            event = generate(args.generate_event, declared)
        with LocalWorld(
            template,
            parameters=parameters,
            endpoint_url=args.endpoint_url,
            provision=True if args.provision else None,
            enforce_iam=False if args.no_iam else None,
            seed_file=Path(args.seed) if args.seed else None,
        ) as world:
            assert world.template is not None
            spec = world.template.function(args.function)
            overrides = envvars.for_function(spec, env_file, os.environ)
            _notices(world.provisioned, spec.logical_id, overrides)
            if not args.quiet:
                sinks.append(StreamSink())
            if args.log_file:
                sinks.append(JsonLinesSink(Path(args.log_file)))
            if args.cloudwatch:
                sinks.append(CloudWatchSink(world.client("logs")))
            failed = 0
            with world.runner(
                spec.logical_id, sinks=sinks, extra_env=overrides.variables
            ) as runner:
                for i in range(1, args.times + 1):
                    result = runner.invoke(event, client_context=client_context)
                    failed += result.outcome != "success"
                    print(
                        summary(spec.logical_id, i, args.times, result, spec.memory_mb),
                        file=sys.stderr,
                    )
    except TemplateError as exc:
        raise CliError(str(exc)) from exc
    except ImportError as exc:
        raise CliError(
            f"{exc.name or exc} is not installed: pip install 'lambda-trace[local,samples]'"
        ) from exc
    except OSError as exc:
        raise CliError(str(exc)) from exc
    finally:
        for sink in sinks:
            sink.close()  # a CloudWatch sink says on stderr what it could not store
    if lost_events(sinks):
        return LOGS_LOST_EXIT_CODE
    return EXIT_FAILED if failed else EXIT_OK


def _notices(
    provisioned: Optional[Provisioned], function: str, overrides: envvars.Overrides
) -> None:
    """One stderr line each: what was not provisioned, which --env-vars names were ignored."""
    if provisioned is not None and provisioned.skipped:
        print(f"lambda-trace: {provisioned.skipped_line()}", file=sys.stderr)
    if overrides.ignored:
        print(
            f"lambda-trace: --env-vars: {', '.join(overrides.ignored)} ignored: not in "
            f"{function}'s Environment in the template (sam local invoke ignores them too)",
            file=sys.stderr,
        )


def _print_event(kind: str, template: Path, parameters: dict[str, str]) -> int:
    """``--generate-event`` alone: the event on stdout, named after the template's resources."""
    from lambda_trace.local.template import load

    declared = None
    if template.is_file():
        try:
            declared = load(template, parameters=parameters)
        except TemplateError as exc:
            raise CliError(str(exc)) from exc
    print(json.dumps(generate(kind, declared), indent=2))
    return EXIT_OK


def summary(name: str, i: int, times: int, result: InvokeResult, memory_mb: int) -> str:
    """One line per invocation: outcome, duration, cold start, memory, response."""
    start = (
        f"cold start, init {result.init_duration_ms:.2f} ms"
        if result.init_duration_ms
        else ("cold start" if result.cold_start else "warm")
    )
    outcome = result.outcome if not result.error_type else f"{result.outcome} ({result.error_type})"
    payload = result.payload.decode("utf-8", errors="replace")
    if len(payload) > 300:
        payload = payload[:297] + "..."
    line = (
        f"lambda-trace: {name} {i}/{times}: {outcome} in {result.duration_ms:.2f} ms "
        f"({start}), max memory {result.max_memory_used_mb}/{memory_mb} MB"
    )
    return line + (f"; response: {payload}" if payload else "")


def _read_event(path: Optional[str]) -> Any:
    if path is None:
        return {}
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read event file {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"event file {path} is not JSON: {exc}") from exc


def _json_option(name: str, text: Optional[str]) -> Optional[dict[str, Any]]:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CliError(f"{name} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CliError(f"{name} must be a JSON object")
    return value


#: sam deploy/local's long form: ParameterKey=Stage,ParameterValue=prod
_SAM_PARAMETER = re.compile(r"ParameterKey=(?P<key>[^,]+),ParameterValue=(?P<value>.*)")


def _parameters(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        sam_form = _SAM_PARAMETER.fullmatch(item)
        if sam_form:
            out[sam_form["key"]] = sam_form["value"]
            continue
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CliError(f"--parameter {item!r}: expected KEY=VALUE")
        out[key] = value
    return out
