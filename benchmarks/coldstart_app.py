"""One cold start: import and set up one variant, make one invocation, report memory, exit.

Run as ``python coldstart_app.py VARIANT REPLY_FD``. It imports nothing itself beyond what the
interpreter has already loaded (sys, os), so the bare variant is the interpreter's own floor;
annotations stay strings (no ``typing`` import, which would cost the bare baseline ~5 ms).

``VARIANT`` is ``base+extra+...``: extras ``boto3`` (import boto3 and make a client) and ``pt``
(import Powertools Metrics) are the handler's *own* imports. The in-process figure is the time
from after them to the end of the first invocation: the tool's import, set-up and first call.
Just before it starts, ``gc.collect()``: boto3 leaves the collector one allocation burst short of
a full collection (≈60k objects, 20-50 ms here), which then lands on whichever code allocates
next; that cost belongs to the function's heap, not to the tool that happens to trigger it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # the typing import is for type checkers only: it would cost the bare run ~5 ms
    from typing import Callable


class Context:
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    function_name = "bench-fn"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-fn"
    memory_limit_in_mb = "512"
    log_group_name = "/aws/lambda/bench-fn"
    log_stream_name = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
    identity = None
    client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return 30000


EVENT = {"path": "/orders/42", "httpMethod": "GET", "headers": {"Accept": "application/json"}}


def work(event: dict, context: object) -> dict:
    return {"statusCode": 200}


def with_boto3() -> object:
    import boto3

    return boto3.client("dynamodb")


def prepare(variant: str) -> None:
    """The handler's own imports (before the in-process clock starts)."""
    extras = variant.split("+")[1:]
    if "boto3" in extras:
        with_boto3()
    if "pt" in extras:
        import aws_lambda_powertools.metrics  # noqa: F401


def build(variant: str) -> Callable[[dict, object], object]:
    """The handler of ``variant``: what a function's module does at init."""
    base = variant.split("+")[0]
    if base == "bare":
        return work
    if base == "lambda_trace":
        from lambda_trace import trace

        return trace(work)
    if base == "powertools_metrics_lambda_trace":  # both on one handler, @trace outermost
        from aws_lambda_powertools import Metrics

        from lambda_trace import trace

        both = Metrics()

        def served(event: dict, context: object) -> dict:
            both.add_metric(name="OrdersServed", unit="Count", value=1)
            return work(event, context)

        return trace(both.log_metrics(served))
    if base == "powertools_metrics":
        from aws_lambda_powertools import Metrics

        metrics = Metrics()

        def handler(event: dict, context: object) -> dict:
            metrics.add_metric(name="OrdersServed", unit="Count", value=1)
            return work(event, context)

        return metrics.log_metrics(handler)
    if base == "powertools_logger":
        from aws_lambda_powertools import Logger

        logger = Logger()

        def handler(event: dict, context: object) -> dict:
            logger.info("order served")
            return work(event, context)

        return logger.inject_lambda_context(handler)
    if base == "powertools_tracer":
        from aws_lambda_powertools import Tracer

        return Tracer().capture_lambda_handler(work)
    if base == "xray":
        from aws_xray_sdk.core import patch_all

        patch_all()
        return work
    if base == "otel":
        from opentelemetry import trace as otel_trace
        from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
        from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        otel_trace.set_tracer_provider(provider)
        BotocoreInstrumentor().instrument()
        AwsLambdaInstrumentor().instrument(tracer_provider=provider)
        return sys.modules[__name__].work
    if base == "datadog":
        from datadog_lambda.wrapper import datadog_lambda_wrapper

        return datadog_lambda_wrapper(work)
    if base == "lumigo":
        from lumigo_tracer import lumigo_tracer

        return lumigo_tracer()(work)
    raise SystemExit(f"unknown variant {variant}")


def memory() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(line.split()[1])
    return out


if __name__ == "__main__":
    variant, reply_fd = sys.argv[1], int(sys.argv[2])
    sys.modules.setdefault("coldstart_app", sys.modules[__name__])
    prepare(variant)
    import gc
    from time import perf_counter_ns

    gc.collect()
    start = perf_counter_ns()
    build(variant)(EVENT, Context())
    in_process_ns = perf_counter_ns() - start
    mem = memory()
    os.write(reply_fd, f"{mem.get('VmHWM', 0)} {mem.get('VmRSS', 0)} {in_process_ns}\n".encode())
