"""A user's order handler: every AWS service of user_template.yaml plus a payment API over HTTP."""

import base64
import json
import os
import urllib.request
import uuid

import boto3

from lambda_trace import trace

secrets = boto3.client("secretsmanager")
ssm = boto3.client("ssm")
kms = boto3.client("kms")
dynamodb = boto3.client("dynamodb")
s3 = boto3.client("s3")
sqs = boto3.client("sqs")
sns = boto3.client("sns")
events = boto3.client("events")


@trace
def handler(event, context):
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    order = json.loads(body) if "body" in event else event
    customer_id = order.get("customerId", "c-1")
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    env = os.environ

    payment = json.loads(
        secrets.get_secret_value(SecretId=env["PAYMENT_SECRET_ARN"])["SecretString"]
    )
    webhook = json.loads(
        secrets.get_secret_value(SecretId=env["WEBHOOK_SECRET_ARN"])["SecretString"]
    )
    currency = ssm.get_parameter(Name=env["CURRENCY_PARAMETER"])["Parameter"]["Value"]
    customer = dynamodb.get_item(
        TableName=env["TABLE_NAME"],
        Key={"pk": {"S": f"CUSTOMER#{customer_id}"}, "sk": {"S": "PROFILE"}},
    ).get("Item", {})

    charge = urllib.request.Request(
        env["PAYMENT_API_URL"] + "/charge",
        data=json.dumps({"orderId": order_id, "amount": order.get("amount", 10)}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(charge, timeout=5) as response:
        charged = response.status

    receipt = kms.encrypt(KeyId=env["RECEIPTS_KEY_ID"], Plaintext=order_id.encode())[
        "CiphertextBlob"
    ]
    kms.encrypt(KeyId=env["RECEIPTS_KEY_ALIAS"], Plaintext=b"via alias")
    s3.put_object(Bucket=env["RECEIPTS_BUCKET"], Key=f"receipts/{order_id}.bin", Body=receipt)
    dynamodb.put_item(
        TableName=env["TABLE_NAME"],
        Item={
            "pk": {"S": f"ORDER#{order_id}"},
            "sk": {"S": "DETAIL"},
            "customerId": {"S": customer_id},
            "currency": {"S": currency},
        },
    )
    sqs.send_message(QueueUrl=env["QUEUE_URL"], MessageBody=json.dumps({"orderId": order_id}))
    sns.publish(TopicArn=env["TOPIC_ARN"], Message=json.dumps({"placed": order_id}))
    events.put_events(
        Entries=[
            {
                "Source": "orders",
                "DetailType": "OrderPlaced",
                "Detail": json.dumps({"orderId": order_id}),
                "EventBusName": env["BUS_NAME"],
            }
        ]
    )
    result = {
        "orderId": order_id,
        "customer": customer.get("name", {}).get("S"),
        "currency": currency,
        "charged": charged,
        "paymentUser": payment["username"],
        "paymentPasswordLength": len(payment["password"]),
        "webhookKeyLength": len(webhook["signingKey"]),
        "env": {
            key: env.get(key)
            for key in (
                "STAGE",
                "LOG_LEVEL",
                "GREETING",
                "REGION_AND_ACCOUNT",
                "FIRST_AZ",
                "TABLE_STREAM_ARN",
                "DLQ_ARN",
                "LAMBDA_TRACE_CALL_LINES",
                "NOT_IN_TEMPLATE",
                "HOME",
            )
        },
    }
    print(json.dumps({"order_result": result}))
    return {"statusCode": 201, "body": json.dumps({"orderId": order_id})}
