"""A user's own template (not the samples) runs through ``lambda-trace invoke`` against moto.

``tests/data/local/user_template.yaml`` declares an orders function with a DynamoDB table (GSI,
stream), S3, SQS with a DLQ, SNS with an SQS subscription, two Secrets Manager secrets (one
generated, one given), an SSM parameter, a KMS key and alias, an EventBridge bus and rule, and
an HTTP payment API; its handler uses every one of them with IAM enforced. Everything is
checked twice: by what the function saw, and by asking the services afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambda_trace.analyzer.cli import main

DATA = Path(__file__).resolve().parent / "data" / "local"
TEMPLATE = str(DATA / "user_template.yaml")
TABLE = "lambda-trace-orders-dev"


@dataclass
class Run:
    status: int
    out: str
    err: str

    @property
    def result(self) -> dict[str, Any]:
        """What the handler printed about its invocation (its ``order_result`` line)."""
        for line in self.out.splitlines():
            if line.startswith('{"order_result"'):
                return dict(json.loads(line)["order_result"])
        raise AssertionError(f"no order_result line in:\n{self.out}\n{self.err}")


def invoke(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["invoke", "-t", TEMPLATE, "-f", "OrdersFunction", *args])
    return Run(status, out.getvalue(), err.getvalue())


@dataclass
class Provisioned:
    """One run at the session's moto server, and what the services hold right after it."""

    run: Run
    state: dict[str, Any]
    payment_requests: list[dict[str, str]]


def _snapshot(client: Any) -> dict[str, Any]:
    """Everything the assertions need, read before another test can reset moto."""
    dynamodb, s3, sqs = client("dynamodb"), client("s3"), client("sqs")
    secrets, ssm, kms, events = (
        client("secretsmanager"),
        client("ssm"),
        client("kms"),
        client("events"),
    )
    queues = {url.rsplit("/", 1)[-1]: url for url in sqs.list_queues()["QueueUrls"]}
    state: dict[str, Any] = {"queues": {}}
    for name, url in queues.items():
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        state["queues"][name] = {
            "attributes": attributes,
            "bodies": [m["Body"] for m in messages.get("Messages", [])],
        }
    state["table"] = dynamodb.describe_table(TableName=TABLE)["Table"]
    state["items"] = dynamodb.scan(TableName=TABLE)["Items"]
    state["buckets"] = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    receipts = s3.list_objects_v2(Bucket="lambda-trace-receiptsbucket").get("Contents", [])
    state["receipts"] = {
        o["Key"]: s3.get_object(Bucket="lambda-trace-receiptsbucket", Key=o["Key"])["Body"].read()
        for o in receipts
    }
    state["plaintexts"] = {
        key: kms.decrypt(CiphertextBlob=blob)["Plaintext"].decode()
        for key, blob in state["receipts"].items()
    }
    state["secrets"] = {
        s["Name"]: (s["ARN"], secrets.get_secret_value(SecretId=s["ARN"])["SecretString"])
        for s in secrets.list_secrets()["SecretList"]
    }
    state["parameter"] = ssm.get_parameter(Name="orders-dev-currency")["Parameter"]
    state["aliases"] = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    state["keys"] = {
        k["KeyId"]: kms.get_key_rotation_status(KeyId=k["KeyId"])["KeyRotationEnabled"]
        for k in kms.list_keys()["Keys"]
    }
    state["bus"] = events.describe_event_bus(Name="orders-dev")
    state["rules"] = events.list_rules(EventBusName="orders-dev")["Rules"]
    return state


@pytest.fixture(scope="module")
def provisioned(moto_server, tmp_path_factory) -> Iterator[Provisioned]:
    """``invoke --endpoint-url … --provision`` with --seed, --env-vars and a shell variable."""
    seen: list[dict[str, str]] = []

    class Payments(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen.append({"path": self.path, "body": self.rfile.read(length).decode()})
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Payments)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    moto_server.reset()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAMBDA_TRACE_CALL_LINES", "none")  # lambda-trace's own: passes through
        patch.setenv("NOT_IN_TEMPLATE", "from the shell")  # anything else: does not
        run = invoke(
            "-e", str(DATA / "order_event.json"),
            "-p", f"PaymentApiUrl=http://127.0.0.1:{server.server_address[1]}",
            "--endpoint-url", moto_server.endpoint, "--provision",
            "--seed", str(DATA / "seed_orders.py"),
            "--env-vars", str(DATA / "env.json"),
        )  # fmt: skip
    try:
        yield Provisioned(run, _snapshot(moto_server.client), seen)
    finally:
        server.shutdown()
        server.server_close()


def test_the_invocation_succeeds_with_iam_enforced(provisioned: Provisioned):
    """Exit 0: every call the handler made was allowed by the role the template gives it."""
    assert provisioned.run.status == 0, provisioned.run.err
    assert "OrdersFunction 1/1: success" in provisioned.run.err
    assert "AccessDenied" not in provisioned.run.out


def test_what_cannot_be_provisioned_is_named_in_one_line(provisioned: Provisioned):
    """The HttpApi event's API Gateway resources are listed once, before the invocation."""
    lines = [x for x in provisioned.run.err.splitlines() if "not provisioned locally" in x]
    assert lines == [
        "lambda-trace: not provisioned locally: ServerlessHttpApi (AWS::ApiGatewayV2::Api), "
        "ServerlessHttpApiApiGatewayDefaultStage (AWS::ApiGatewayV2::Stage)"
    ]


def test_dynamodb_table_has_its_key_schema_index_and_stream(provisioned: Provisioned):
    """TableName honoured; GSI and stream created; GetAtt StreamArn is the table's real one."""
    table = provisioned.state["table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["ByCustomer"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert provisioned.run.result["env"]["TABLE_STREAM_ARN"] == table["LatestStreamArn"]
    # The seed file's customer was read; the function's order was written.
    assert provisioned.run.result["customer"] == "Ada"
    order = provisioned.run.result["orderId"]
    written = {
        "pk": {"S": f"ORDER#{order}"},
        "sk": {"S": "DETAIL"},
        "customerId": {"S": "c-1"},
        "currency": {"S": "EUR"},
    }
    assert written in provisioned.state["items"]


def test_s3_bucket_and_kms_key_hold_the_encrypted_receipt(provisioned: Provisioned):
    """The receipt the function encrypted with the template's key decrypts to the order id."""
    order = provisioned.run.result["orderId"]
    assert provisioned.state["plaintexts"] == {f"receipts/{order}.bin": order}
    assert "lambda-trace-receiptsbucket" in provisioned.state["buckets"]
    # ArchiveBucket's condition (IsProd) is false for Stage=dev: not created.
    assert not any("archive" in b for b in provisioned.state["buckets"])
    (key_id,) = provisioned.state["keys"]
    assert provisioned.state["keys"][key_id] is True  # EnableKeyRotation
    assert provisioned.state["aliases"]["alias/orders-receipts-dev"] == key_id


def test_sqs_queue_has_its_dlq_redrive_and_attributes(provisioned: Provisioned):
    """QueueName honoured; RedrivePolicy names the DLQ's ARN; the seeded message came first."""
    queues = provisioned.state["queues"]
    fulfilment, dlq = queues["dev-fulfilment"], queues["lambda-trace-FulfilmentDLQ"]
    redrive = json.loads(fulfilment["attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["attributes"]["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == 3
    assert fulfilment["attributes"]["VisibilityTimeout"] == "60"
    assert dlq["attributes"]["MessageRetentionPeriod"] == "1209600"
    assert provisioned.run.result["env"]["DLQ_ARN"] == dlq["attributes"]["QueueArn"]
    order = provisioned.run.result["orderId"]
    assert sorted(fulfilment["bodies"]) == sorted(
        ['{"orderId": "o-seeded"}', json.dumps({"orderId": order})]
    )


def test_sns_subscription_and_eventbridge_rule_deliver_to_the_audit_queue(
    provisioned: Provisioned,
):
    """Publish reaches the audit queue raw (RawMessageDelivery); PutEvents through the rule."""
    order = provisioned.run.result["orderId"]
    bodies = provisioned.state["queues"]["lambda-trace-AuditQueue"]["bodies"]
    assert json.dumps({"placed": order}) in bodies
    events = [json.loads(b) for b in bodies if '"detail-type"' in b]
    assert [(e["source"], e["detail"]) for e in events] == [("orders", {"orderId": order})]
    assert provisioned.state["bus"]["Name"] == "orders-dev"
    assert [r["Name"] for r in provisioned.state["rules"]] == ["lambda-trace-OrderPlacedToAudit"]


def test_secrets_are_created_generated_or_given(provisioned: Provisioned):
    """Name honoured; GenerateSecretString fills the template's key; Ref gave the full ARN."""
    secrets = provisioned.state["secrets"]
    arn, value = secrets["dev/orders/payment-api"]
    document = json.loads(value)
    assert document["username"] == "orders"
    assert len(document["password"]) == 24 and document["password"].isalnum()
    assert arn.startswith(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:dev/orders/payment-api-"
    )
    assert json.loads(secrets["lambda-trace-WebhookSecret"][1]) == {"signingKey": "local-test-key"}
    result = provisioned.run.result
    assert (result["paymentUser"], result["paymentPasswordLength"]) == ("orders", 24)
    assert result["webhookKeyLength"] == len("local-test-key")


def test_ssm_parameter_and_the_http_dependency(provisioned: Provisioned):
    """The parameter's value reached the function; the payment API got the charge."""
    assert provisioned.state["parameter"]["Value"] == "EUR"
    assert provisioned.run.result["currency"] == "EUR"
    order = provisioned.run.result["orderId"]
    assert provisioned.payment_requests == [
        {"path": "/charge", "body": json.dumps({"orderId": order, "amount": 42})}
    ]
    assert provisioned.run.result["charged"] == 200


def test_intrinsics_in_the_environment(provisioned: Provisioned):
    """Fn::Join of pseudo parameters, Fn::Select of Fn::GetAZs, Fn::If on a condition."""
    env = provisioned.run.result["env"]
    assert env["REGION_AND_ACCOUNT"] == "us-east-1:123456789012"
    assert env["FIRST_AZ"] == "us-east-1a"
    assert env["STAGE"] == "dev"


def test_env_vars_file_and_shell_variables(provisioned: Provisioned):
    """env.json overrides declared variables (its function entry over Parameters); an
    undeclared one is ignored with a note; of the shell only LAMBDA_TRACE_* passes."""
    env = provisioned.run.result["env"]
    assert env["GREETING"] == "hello from env.json"  # Parameters
    assert env["LOG_LEVEL"] == "INFO"  # OrdersFunction's entry; the template says DEBUG
    assert env["NOT_IN_TEMPLATE"] is None  # neither from the file nor from the shell
    assert env["HOME"] is None
    assert env["LAMBDA_TRACE_CALL_LINES"] == "none"
    assert '"type":"call"' not in provisioned.run.out  # and the runtime obeyed it
    assert '"type":"invocation"' in provisioned.run.out
    assert (
        "lambda-trace: --env-vars: NOT_IN_TEMPLATE ignored: not in OrdersFunction's Environment"
        in provisioned.run.err
    )


def test_the_embedded_moto_runs_it_with_a_generated_event(moto, tmp_path: Path, http_server):
    """Without --endpoint-url: the embedded moto is provisioned the same way; an API Gateway
    v2 event from --generate-event (base64 body) is a valid first input.

    (``moto`` only empties the process's moto state, which the embedded server shares.)"""
    run = invoke(
        "--generate-event", "apigateway-v2",
        "-p", f"PaymentApiUrl={http_server.url}", "-p", "Stage=prod",
        "--seed", str(DATA / "seed_orders.py"), "-q",
    )  # fmt: skip
    assert run.status == 2  # the seed file names the dev table; in prod it is another
    assert run.err.count("\n") == 1
    assert "seed_orders.py at line 5 failed: ResourceNotFoundException" in run.err
    seed = tmp_path / "seed.py"
    seed.write_text(
        "def seed(session):\n"
        "    session.resource('dynamodb').Table('lambda-trace-orders-prod').put_item(\n"
        "        Item={'pk': 'CUSTOMER#c-1', 'sk': 'PROFILE', 'name': 'Grace'})\n"
    )
    run = invoke(
        "--generate-event", "apigateway-v2",
        "-p", f"PaymentApiUrl={http_server.url}", "-p", "Stage=prod", "--seed", str(seed),
    )  # fmt: skip
    assert run.status == 0, run.err
    assert run.result["customer"] == "Grace"
    assert run.result["env"]["LOG_LEVEL"] == "WARNING"  # Fn::If: IsProd is true now
    assert '"type":"invocation"' in run.out  # @trace ran: its summary line is written
    assert [r["path"] for r in http_server.requests] == ["/charge"]


def test_the_generated_api_event_decodes_to_sams_body():
    """The apigateway-v2 body is SAM's default, base64-encoded as SAM encodes it."""
    from lambda_trace.local.events import generate

    event = generate("apigateway-v2")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"test":"body"}'
