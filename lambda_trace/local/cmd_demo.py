"""``lambda-trace demo``: invoke → log → analyze on a laptop, with no AWS account.

Starts an embedded moto server, creates and seeds the sample template's resources, invokes every
sample function many times through the local runner (each with its planted problem), writes all
logs into moto's CloudWatch Logs, then runs ``lambda-trace analyze`` against those log groups,
the same code path as a real account. Writes the report as HTML and JSON and the raw log events
as JSON lines (re-analyze offline with ``lambda-trace analyze <out>/logs.jsonl``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambda_trace.errors import CliError
from lambda_trace.local.intrinsics import TemplateError
from lambda_trace.local.provision import Credentials
from lambda_trace.local.runner import InvokeResult

if TYPE_CHECKING:
    from lambda_trace.local.demo import Plan
    from lambda_trace.local.demo_account import MetricsRecorder
    from lambda_trace.local.world import LocalWorld


def run(args: argparse.Namespace) -> int:
    from lambda_trace.local import demo
    from lambda_trace.local.world import LocalWorld

    template = Path(args.template)
    samples = template.resolve().parent / "sample_functions"
    if not template.is_file() or not samples.is_dir():
        raise CliError(
            f"no sample template at {template}: run from the lambda-trace repository "
            "or pass --template"
        )
    out = Path(args.out)
    try:
        (out / "functions").mkdir(parents=True, exist_ok=True)
        (out / "logs.jsonl").unlink(missing_ok=True)
    except OSError as exc:
        raise CliError(f"cannot write to {out}: {exc.strerror or exc}") from exc
    started = time.monotonic()
    try:
        with _orders_database(samples) as parameters:
            skip = frozenset() if parameters else demo.NEEDS_POSTGRES
            plans = demo.plans(samples, args.invocations, skip=skip)
            with LocalWorld(template, parameters=parameters) as world:
                recorder, lost = _invoke_all(world, plans, out, args, started)
                unwired = _register(world, recorder)
                status = _analyze(world, plans, out, unwired)
    except TemplateError as exc:
        raise CliError(str(exc)) from exc
    except ImportError as exc:
        raise CliError(
            f"{exc.name or exc} is not installed: pip install 'lambda-trace[local,samples]'"
        ) from exc
    if lost:
        from lambda_trace.local.logsink import LOGS_LOST_EXIT_CODE

        _say(f"{lost} log events did not reach CloudWatch Logs: the report lacks them")
        return LOGS_LOST_EXIT_CODE
    if status != 0:
        return status
    for plan in plans:
        report = json.loads((out / "functions" / f"{plan.function}.json").read_text())
        named, line = demo.check(plan.function, report)
        _say(f"{'ok' if named else 'MISSING':<7} {plan.function:<16} {line}")
    if unwired:
        from lambda_trace.local.demo_account import UNWIRED, check_unwired

        report = json.loads((out / "functions" / f"{UNWIRED}.json").read_text())
        named, line = check_unwired(report)
        _say(f"{'ok' if named else 'MISSING':<7} {UNWIRED:<16} {line}")
    _say(
        f"wrote {out / 'report.html'}, {out / 'report.json'}, {out / 'functions'}/*.json and "
        f"{out / 'logs.jsonl'} in {time.monotonic() - started:.0f} s"
    )
    return 0


@contextlib.contextmanager
def _orders_database(samples: Path) -> Iterator[dict[str, str]]:
    """OrdersPg's PostgreSQL for the length of the demo: the template parameters pointing the
    function at it, or nothing (and one line) when PostgreSQL or psycopg2 is missing."""
    from lambda_trace.local import demo, postgres

    stack = contextlib.ExitStack()
    try:
        server = stack.enter_context(postgres.running())
        sql = (samples / "orders_pg" / "schema.sql").read_text(encoding="utf-8")
        postgres.create_database(server, demo.ORDERS_PG_DATABASE, sql)
    except (postgres.PostgresUnavailable, ImportError) as exc:
        stack.close()
        reason = f"{exc.name} is not installed" if isinstance(exc, ImportError) else str(exc)
        _say(f"OrdersPg skipped: {reason}")
        yield {}
        return
    with stack:
        _say(f"PostgreSQL at {server.host}:{server.port} for OrdersPg "
             f"(database {demo.ORDERS_PG_DATABASE} from schema.sql)")
        yield {"OrdersDbHost": server.host, "OrdersDbPort": str(server.port),
               "OrdersDbName": demo.ORDERS_PG_DATABASE, "OrdersDbUser": server.user,
               "OrdersDbPassword": server.password}


def _invoke_all(
    world: LocalWorld, plans: list[Plan], out: Path, args: argparse.Namespace, started: float
) -> tuple[MetricsRecorder, int]:
    """Every plan through the runner; logs into CloudWatch Logs and out/logs.jsonl.

    Returns the metrics recorder and how many log events CloudWatch Logs did not store (the
    sink says why on stderr).
    """
    from lambda_trace.local import demo
    from lambda_trace.local.demo_account import MetricsRecorder
    from lambda_trace.local.logsink import CloudWatchSink, JsonLinesSink

    assert world.template is not None
    missing = [p.function for p in plans if p.function not in world.template.functions]
    if missing:
        raise CliError(f"{args.template} lacks the sample functions {', '.join(missing)}")
    _say(
        f"moto at {world.endpoint_url}; seeded {_counts(world.seeded)}; "
        f"IAM policies enforced; {args.invocations} invocations per function"
    )
    cloudwatch = CloudWatchSink(world.client("logs"))
    jsonl = JsonLinesSink(out / "logs.jsonl")
    recorder = MetricsRecorder()
    say_progress = _progress(args.invocations, started)

    def progress(function: str, i: int, result: InvokeResult) -> None:
        recorder.record(world.template.function(function).name, result)  # type: ignore[union-attr]
        say_progress(function, i, result)

    try:
        outcomes = demo.run(
            world,
            plans,
            [cloudwatch, jsonl],
            workers=args.workers,
            progress=progress,
        )
    finally:
        cloudwatch.close()
        jsonl.close()
    _say(
        f"{sum(sum(c.values()) for c in outcomes.values())} invocations, "
        f"{cloudwatch.events_sent} log events in CloudWatch Logs "
        f"({time.monotonic() - started:.0f} s); analyzing..."
    )
    return recorder, cloudwatch.events_lost


def _register(world: LocalWorld, recorder: MetricsRecorder) -> str:
    """Lambda's side of the account (functions, triggers, metrics); the unwired variant's name.

    The invocations are over, so IAM checks go off first: moto's Lambda API rejects every
    signed request while they are on.
    """
    from lambda_trace.local.demo_account import register

    assert world.account is not None and world.template is not None
    # moto answers GetMetricData's extended statistics (p99) with a 500 and logs a traceback;
    # the analyzer then asks without them and says so in one line: keep the traceback out.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    if world.account.iam_enforced:
        world.account.enforce_iam(False)
    unwired = register(world.account, world.template)
    values = recorder.publish(world.client("cloudwatch"))
    _say(f"registered {len(world.template.functions) + bool(unwired)} functions in moto's "
         f"Lambda API (with {unwired} missing its S3 invoke permission); {values} metric "
         "values in AWS/Lambda")
    return unwired


def _analyze(world: LocalWorld, plans: list[Plan], out: Path, unwired: str = "") -> int:
    """``lambda-trace analyze --function`` in moto (logs, metrics and configuration): all
    together, then one by one."""
    from lambda_trace.cli import main
    from lambda_trace.local.demo_account import UNWIRED

    assert world.template is not None and world.account is not None
    names = [(p.function, world.template.functions[p.function].name) for p in plans]
    if unwired:
        names.append((UNWIRED, unwired))
    base = ["analyze", "--endpoint-url", world.endpoint_url, "--region", world.account.region,
            "--no-progress"]  # fmt: skip
    every = base + [arg for _, name in names for arg in ("--function", name)]
    runs = [
        [*every, "--html", str(out / "report.html")],
        [*every, "--format", "json", "-o", str(out / "report.json")],
    ]
    # One report per function as well: each names its own planted problem.
    for logical_id, name in names:
        path = out / "functions" / f"{logical_id}.json"
        runs.append([*base, "--function", name, "--format", "json", "-o", str(path)])
    with _credentials(world.account.admin):
        for argv in runs:
            status = main(argv)
            if status != 0:
                return status
    return 0


@contextlib.contextmanager
def _credentials(creds: Credentials) -> Iterator[None]:
    """The analyzer reads credentials like any AWS tool does: from the environment."""
    names = (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_EC2_METADATA_DISABLED",
    )
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.pop(name, None)
    os.environ.update(creds.env())
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _progress(total: int, started: float) -> Any:
    counts: dict[str, dict[str, int]] = {}

    def report(function: str, i: int, result: InvokeResult) -> None:
        seen = counts.setdefault(function, {})
        seen[result.outcome] = seen.get(result.outcome, 0) + 1
        if i == total:
            summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(seen.items()))
            _say(f"{function:<16} {summary} ({time.monotonic() - started:.0f} s)")

    return report


def _counts(seeded: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in seeded.items()) or "nothing"


def _say(message: str) -> None:
    print(f"demo: {message}", file=sys.stderr, flush=True)
