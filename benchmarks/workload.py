"""What the workers run: a fake Lambda context and event, the handlers, and each variant's setup.

Imported only inside worker processes (the target Python), after the Lambda environment is set.
Each ``setup_*`` function instruments the process the way that tool's documentation says and
returns the handler to invoke; ``after_batch`` hooks release what a tool accumulates in memory.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from typing import Any, Callable, Optional

Handler = Callable[[dict, Any], Any]

#: calls each invocation of the per-call workload makes (set by the worker before setup)
CALLS_PER_INVOCATION = 0
#: the boto3 client the workload calls (created by the worker before setup)
CLIENT: Any = None
#: what releases the memory a tool accumulated; run between batches, outside the timing
after_batch: list[Callable[[], None]] = []


class FakeContext:
    """The attributes awslambdaric's LambdaContext has, with its quirks (memory limit is a str)."""

    def __init__(self, request_id: str, timeout_s: float = 900.0) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench-fn")
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = int(time.time() * 1000 + timeout_s * 1000)

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def contexts(count: int = 64) -> itertools.cycle:
    """A cycle of contexts with distinct request ids, made before the timing starts."""
    return itertools.cycle([FakeContext(str(uuid.UUID(int=i + 1))) for i in range(count)])


#: An API Gateway (REST) proxy event of ordinary size.
EVENT: dict[str, Any] = {
    "resource": "/orders/{id}",
    "path": "/orders/42",
    "httpMethod": "GET",
    "headers": {
        "Accept": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": "Root=1-6745a1b2-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    },
    "multiValueHeaders": {"Accept": ["application/json"]},
    "queryStringParameters": {"expand": "items"},
    "pathParameters": {"id": "42"},
    "stageVariables": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "httpMethod": "GET",
        "path": "/prod/orders/42",
        "protocol": "HTTP/1.1",
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "requestTimeEpoch": 1732683600000,
        "resourcePath": "/orders/{id}",
        "stage": "prod",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"},
    },
    "body": None,
    "isBase64Encoded": False,
}

GET_ITEM_PARAMS = {"TableName": "orders", "Key": {"id": {"S": "42"}}}
GET_ITEM_RESPONSE = {
    "Item": {"id": {"S": "42"}, "status": {"S": "shipped"}, "total": {"N": "19.90"}},
    # What botocore puts in every real response's metadata.
    "ResponseMetadata": {
        "RequestId": "Q1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7R8S9T0U1V2W3X4Y5Z6",
        "HTTPStatusCode": 200,
        "HTTPHeaders": {
            "server": "Server",
            "content-type": "application/x-amz-json-1.0",
            "content-length": "94",
            "connection": "keep-alive",
            "x-amzn-requestid": "Q1B2C3D4E5F6G7H8I9J0K1L2M3N4O5P6Q7R8S9T0U1V2W3X4Y5Z6",
            "x-amz-crc32": "2745614147",
        },
        "RetryAttempts": 0,
    },
}


def plain_handler(event: dict, context: Any) -> dict:
    """The workload: ``CALLS_PER_INVOCATION`` DynamoDB GetItem calls, then a small response."""
    client = CLIENT
    for _ in range(CALLS_PER_INVOCATION):
        client.get_item(**GET_ITEM_PARAMS)
    return {"statusCode": 200, "body": "ok"}


# ---------------------------------------------------------------- per-tool setups


def setup_bare() -> Handler:
    return plain_handler


def setup_floor() -> Handler:
    """The cheapest instrumentation imaginable: a wrapt wrapper, a perf_counter pair, one line."""
    import wrapt

    try:
        import orjson

        dumps: Callable[[Any], bytes] = orjson.dumps
    except ImportError:
        import json

        def dumps(obj: Any) -> bytes:
            return json.dumps(obj, separators=(",", ":")).encode()

    perf = time.perf_counter

    def timed(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        start = perf()
        try:
            return wrapped(*args, **kwargs)
        finally:
            line = {"name": args[0], "ms": (perf() - start) * 1000.0}
            os.write(1, dumps(line) + b"\n")

    wrapt.wrap_function_wrapper("botocore.client", "BaseClient._make_api_call", timed)
    return plain_handler


def setup_lambda_trace() -> Handler:
    from lambda_trace import trace

    return trace(plain_handler)


def setup_xray() -> Handler:
    """X-Ray SDK as its docs say for Lambda: patch_all(); the facade segment comes from Lambda."""
    from aws_xray_sdk.core import patch_all

    patch_all()
    return plain_handler


def setup_powertools_tracer() -> Handler:
    from aws_lambda_powertools import Tracer

    tracer = Tracer()
    return tracer.capture_lambda_handler(plain_handler)


def _otel_provider() -> Any:
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_trace.set_tracer_provider(provider)
    after_batch.append(exporter.clear)
    return provider


def setup_otel_botocore() -> Handler:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor

    _otel_provider()
    BotocoreInstrumentor().instrument()
    return plain_handler


def setup_otel_lambda() -> Handler:
    """AwsLambdaInstrumentor wraps the function named by ``_HANDLER`` (workload.plain_handler)."""
    import sys

    from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

    provider = _otel_provider()
    AwsLambdaInstrumentor().instrument(tracer_provider=provider)
    handler: Handler = sys.modules[__name__].plain_handler
    return handler


def setup_datadog() -> Handler:
    """datadog-lambda's wrapper (what the Datadog layer installs), which patches via ddtrace."""
    from datadog_lambda.wrapper import datadog_lambda_wrapper

    return datadog_lambda_wrapper(plain_handler)


def setup_ddtrace() -> Handler:
    """ddtrace alone: patch botocore, one root span per invocation as datadog-lambda opens."""
    import ddtrace
    from ddtrace.trace import tracer

    ddtrace.patch(botocore=True)

    def handler(event: dict, context: Any) -> Any:
        with tracer.trace("aws.lambda", service="bench", resource="bench-fn"):
            return plain_handler(event, context)

    return handler


def setup_powertools_logger() -> Handler:
    from aws_lambda_powertools import Logger

    logger = Logger()

    @logger.inject_lambda_context
    def handler(event: dict, context: Any) -> Any:
        logger.info("order served")
        return plain_handler(event, context)

    return handler


def setup_powertools_metrics() -> Handler:
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics()

    @metrics.log_metrics
    def handler(event: dict, context: Any) -> Any:
        metrics.add_metric(name="OrdersServed", unit=MetricUnit.Count, value=1)
        return plain_handler(event, context)

    return handler


def setup_powertools_all() -> Handler:
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.metrics import MetricUnit

    logger, metrics, tracer = Logger(), Metrics(), Tracer()

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context: Any) -> Any:
        logger.info("order served")
        metrics.add_metric(name="OrdersServed", unit=MetricUnit.Count, value=1)
        return plain_handler(event, context)

    return handler


SETUPS: dict[str, Callable[[], Handler]] = {
    "bare": setup_bare,
    "floor": setup_floor,
    "lambda_trace": setup_lambda_trace,
    "xray": setup_xray,
    "powertools_tracer": setup_powertools_tracer,
    "powertools_logger": setup_powertools_logger,
    "powertools_metrics": setup_powertools_metrics,
    "powertools_all": setup_powertools_all,
    "otel_botocore": setup_otel_botocore,
    "otel_lambda": setup_otel_lambda,
    "datadog": setup_datadog,
    "ddtrace": setup_ddtrace,
}


def setup(key: str) -> Handler:
    """Instrument this process as variant ``key`` and return the handler to invoke."""
    return SETUPS[key]()


def release() -> None:
    for hook in after_batch:
        hook()


def memory_kb() -> dict[str, Optional[int]]:
    """VmHWM and VmRSS of this process in kB (None where /proc is missing)."""
    out: dict[str, Optional[int]] = {"VmHWM": None, "VmRSS": None}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in out:
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out
