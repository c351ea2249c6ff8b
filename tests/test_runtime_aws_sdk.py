"""botocore calls over HTTP to a real moto server: names, targets, errors, IAM, threads."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError
from runtime_support import assert_all_valid, run

from lambda_trace import trace
from lambda_trace.schema import aws_service_operation
from lambda_trace.testing import FakeContext, capture

# These tests read call lines: every call gets one (the default writes them tail-based).
pytestmark = pytest.mark.usefixtures("every_call_line")

BUCKET = "lt-test-bucket"
TABLE = "lt-orders"
SECRET_VALUE = "do-not-log-4111"


@pytest.fixture
def aws(moto):
    """Clients for the moto server, with a bucket, a table (one item) and a queue."""
    s3 = moto.client("s3")
    ddb = moto.client("dynamodb")
    sqs = moto.client("sqs")
    s3.create_bucket(Bucket=BUCKET)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"id": {"S": "o-1"}, "card": {"S": SECRET_VALUE}})
    queue_url = sqs.create_queue(QueueName="lt-jobs")["QueueUrl"]
    return {"s3": s3, "ddb": ddb, "sqs": sqs, "queue_url": queue_url, "moto": moto}


def test_s3_dynamodb_sqs_calls_are_named_and_targeted(aws):
    @trace
    def handler(event, context):
        aws["s3"].put_object(Bucket=BUCKET, Key="users/7.json", Body=SECRET_VALUE.encode())
        body = aws["s3"].get_object(Bucket=BUCKET, Key="users/7.json")["Body"].read()
        item = aws["ddb"].get_item(TableName=TABLE, Key={"id": {"S": "o-1"}})["Item"]
        aws["sqs"].send_message(QueueUrl=aws["queue_url"], MessageBody=SECRET_VALUE)
        return body, item

    cap, (body, item) = run(handler)
    assert body == SECRET_VALUE.encode() and item["card"]["S"] == SECRET_VALUE
    calls = cap.calls
    assert [c["name"] for c in calls] == [
        "s3.PutObject",
        "s3.GetObject",
        "dynamodb.GetItem",
        "sqs.SendMessage",
    ]
    assert [c["target"] for c in calls] == [BUCKET, BUCKET, TABLE, "lt-jobs"]
    for call in calls:
        assert call["kind"] == "aws" and call["status"] == "ok"
        assert call["http_status"] == 200 and call["retries"] == 0
        assert call["aws_request_id"]
        # v2: the name holds the AWS service and operation; `service` is the function's.
        assert aws_service_operation(call) == tuple(call["name"].split("."))
        assert call["service"] == cap.invocations[0]["service"] and "operation" not in call
    # Never values: not the body, the item, the message or the object key.
    assert SECRET_VALUE not in "\n".join(cap.lines)
    assert "users/7.json" not in "\n".join(cap.lines)
    summary = cap.invocations[0]["calls"]
    assert summary["s3.PutObject"]["n"] == 1 and summary["dynamodb.GetItem"].get("err", 0) == 0


def test_aws_calls_are_not_counted_again_as_http(aws):
    """botocore sends through urllib3 and http.client: still one call each."""

    @trace
    def handler(event, context):
        aws["s3"].list_objects_v2(Bucket=BUCKET)

    cap, _ = run(handler)
    assert [c["kind"] for c in cap.calls] == ["aws"]
    assert set(cap.invocations[0]["calls"]) == {"s3.ListObjectsV2"}


def test_no_such_key_is_not_found(aws):
    @trace
    def handler(event, context):
        with pytest.raises(ClientError):
            aws["s3"].get_object(Bucket=BUCKET, Key="missing")

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["status"] == "error" and call["error_class"] == "not_found"
    assert call["error_code"] == "NoSuchKey" and call["http_status"] == 404
    assert call["aws_request_id"]
    assert cap.invocations[0]["calls"]["s3.GetObject"].get("err", 0) == 1


def test_handler_raising_a_client_error_is_described(aws):
    @trace
    def handler(event, context):
        aws["ddb"].get_item(TableName="no-such-table", Key={"id": {"S": SECRET_VALUE}})

    with capture() as cap, pytest.raises(ClientError):
        handler({}, FakeContext())
    record = cap.invocations[0]
    assert record["status"] == "error" and record["error_class"] == "not_found"
    assert record["error_type"] == "ResourceNotFoundException"
    assert SECRET_VALUE not in "\n".join(cap.lines)
    assert_all_valid(cap)


def _set_auth(moto, count: str) -> None:
    request = urllib.request.Request(
        f"{moto.endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture
def denied(aws):
    """Clients of an IAM user with no policy, with moto's IAM enforcement switched on."""
    moto = aws["moto"]
    iam = moto.client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        aws_session_token=None,
        region_name="us-east-1",
    )
    _set_auth(moto, "0")
    try:
        yield {
            name: session.client(name, endpoint_url=moto.endpoint) for name in ("s3", "dynamodb")
        }
    finally:
        _set_auth(moto, "inf")  # moto's default: no enforcement (reset does not restore it)


def test_s3_access_denied_derives_the_action(denied):
    """S3 says only 'Access Denied': the action is derived from the operation and flagged."""

    @trace
    def handler(event, context):
        with pytest.raises(ClientError):
            denied["s3"].put_object(Bucket=BUCKET, Key="k", Body=b"x")

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["error_class"] == "permission_denied" and call["error_code"] == "AccessDenied"
    assert call["action"] == "s3:PutObject" and call["action_inferred"] is True
    assert call["http_status"] == 403


def test_dynamodb_access_denied_action_from_the_message(denied):
    @trace
    def handler(event, context):
        with pytest.raises(ClientError) as info:
            denied["dynamodb"].get_item(TableName=TABLE, Key={"id": {"S": "o-1"}})
        return info.value.response["Error"]["Message"]

    cap, message = run(handler)
    [call] = cap.calls
    assert call["error_class"] == "permission_denied"
    assert "is not authorized to perform: dynamodb:GetItem" in message
    assert call["action"] == "dynamodb:GetItem" and "action_inferred" not in call


def test_endpoint_connection_error_is_network():
    client = boto3.client(
        "sqs",
        endpoint_url="http://127.0.0.1:9",  # discard port: nothing listens
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )

    @trace
    def handler(event, context):
        with pytest.raises(EndpointConnectionError):
            client.list_queues()

    cap, _ = run(handler)
    [call] = cap.calls
    assert call["error_class"] == "network" and call["error_code"] == "EndpointConnectionError"


def test_thread_pool_calls_belong_to_the_invocation(aws):
    @trace
    def handler(event, context):
        with ThreadPoolExecutor(max_workers=4) as pool:
            keys = [{"id": {"S": "o-1"}}] * 8
            list(pool.map(lambda k: aws["ddb"].get_item(TableName=TABLE, Key=k), keys))

    cap, _ = run(handler)
    assert len(cap.calls) == 8
    assert {c["request_id"] for c in cap.calls} == {cap.invocations[0]["request_id"]}
    assert cap.invocations[0]["calls"]["dynamodb.GetItem"]["n"] == 8


def test_s3_transfer_manager_threads_belong_to_the_invocation(aws, tmp_path):
    """upload_file of a multipart-sized file: parts uploaded from worker threads are counted."""
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (11 * 1024 * 1024))
    config = TransferConfig(
        multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=3
    )

    @trace
    def handler(event, context):
        aws["s3"].upload_file(str(big), BUCKET, "big.bin", Config=config)

    cap, _ = run(handler)
    summary = cap.invocations[0]["calls"]
    assert summary["s3.CreateMultipartUpload"]["n"] == 1
    assert summary["s3.UploadPart"]["n"] == 3
    assert summary["s3.CompleteMultipartUpload"]["n"] == 1
    record = cap.invocations[0]
    # Parallel parts overlap: downstream time is their union, never more than the duration.
    assert 0 <= record["self_ms"] <= record["duration_ms"]


def test_downstream_metrics_by_service_and_operation(aws):
    @trace
    def handler(event, context):
        aws["ddb"].get_item(TableName=TABLE, Key={"id": {"S": "o-1"}})
        aws["ddb"].get_item(TableName=TABLE, Key={"id": {"S": "o-1"}})

    cap, _ = run(handler)
    [doc] = [d for d in cap.emf if d.get("Operation") == "GetItem"]
    # Only the latency, whose sample count is the number of calls (fewer metric series).
    assert doc["Service"] == "dynamodb" and len(doc["DownstreamLatency"]) == 2
    assert "DownstreamCalls" not in doc and "DownstreamErrors" not in doc
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["service", "Service", "Operation"]]


def test_request_metadata_shape_is_read_defensively(aws):
    """A call whose response lacks ResponseMetadata (an event hook replaced it) still records."""
    client = aws["s3"]

    def strip_metadata(parsed, **kwargs):
        parsed.pop("ResponseMetadata", None)

    client.meta.events.register("after-call.s3.ListBuckets", strip_metadata)

    @trace
    def handler(event, context):
        return client.list_buckets()

    cap, response = run(handler)
    assert "ResponseMetadata" not in response
    [call] = cap.calls
    assert call["name"] == "s3.ListBuckets" and "http_status" not in call
    json.dumps(call)


@pytest.mark.parametrize("outcome", ["raise", "ordinary"])
def test_buffered_calls_get_the_same_fields_as_lines_written_at_once(aws, monkeypatch, outcome):
    """Mode ``slow`` reads an ordinary call's target and metadata at its end but builds its
    fields' text only if the invocation turns out to matter: that text is the same as mode
    ``all`` writes at once; an ordinary invocation writes none of them."""

    def lines(mode):
        monkeypatch.setenv("LAMBDA_TRACE_CALL_LINES", mode)
        # neither slowness on a busy machine nor the test process's RSS against FakeContext's
        # memory limit may make the invocation matter: only its outcome decides
        monkeypatch.setenv("LAMBDA_TRACE_SLOW_MS", "600000")
        monkeypatch.setenv("LAMBDA_TRACE_MEMORY_WARNING", "0")

        @trace
        def handler(event, context):
            aws["ddb"].get_item(TableName=TABLE, Key={"id": {"S": "o-1"}})
            aws["s3"].put_object(Bucket=BUCKET, Key="k.txt", Body=b"x")
            if outcome == "raise":
                raise ValueError("after the calls")

        with capture() as cap, contextlib.suppress(ValueError):
            handler({}, FakeContext())
        assert_all_valid(cap)
        return [{k: v for k, v in r.items() if k not in ("start_ms", "duration_ms", "request_id",
                                                          "aws_request_id")}
                | {"has_aws_request_id": bool(r.get("aws_request_id"))}
                for r in cap.records if r["type"] == "call"]

    at_once, buffered = lines("all"), lines("slow")
    assert [c["target"] for c in at_once] == [TABLE, BUCKET]
    assert all(c["http_status"] == 200 and c["has_aws_request_id"] for c in at_once)
    assert buffered == (at_once if outcome == "raise" else [])
