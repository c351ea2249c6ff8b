"""``invoke --generate-event KIND``: sample events in ``sam local generate-event``'s shapes.

The shapes are SAM CLI's templates (``samcli/lib/generated_sample_events/events``: ``s3/S3Put``,
``apigateway/HttpApi``, ``sqs/Sqs``, ``cloudwatch/ScheduledEvent``) with their default values,
except that a bucket, queue or rule is the template's own when it declares exactly one, so a
first run reads from a resource that exists.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Callable, Optional

from lambda_trace.local.intrinsics import LOCAL_ACCOUNT, LOCAL_REGION
from lambda_trace.local.template import Template

KINDS = ("s3-put", "apigateway-v2", "sqs", "eventbridge")


def generate(kind: str, template: Optional[Template] = None) -> dict[str, Any]:
    """The sample event of this kind (one of ``KINDS``)."""
    builders: dict[str, Callable[[Optional[Template]], dict[str, Any]]] = {
        "s3-put": _s3_put,
        "apigateway-v2": _http_api,
        "sqs": _sqs,
        "eventbridge": _scheduled,
    }
    return builders[kind](template)


def _only(template: Optional[Template], type_: str) -> Optional[str]:
    """The name of the template's one resource of this type, if it has exactly one."""
    if template is None:
        return None
    resolver = template.resolver()
    names = [
        resolver.physical_name(logical_id)
        for logical_id, resource in template.cloudformation["Resources"].items()
        if isinstance(resource, dict) and resource.get("Type") == type_
        and resolver.active(logical_id)
    ]  # fmt: skip
    return names[0] if len(names) == 1 else None


def _s3_put(template: Optional[Template]) -> dict[str, Any]:
    bucket = _only(template, "AWS::S3::Bucket") or "example-bucket"
    return {
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "aws:s3",
                "awsRegion": LOCAL_REGION,
                "eventTime": "1970-01-01T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "EXAMPLE"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": "EXAMPLE123456789",
                    "x-amz-id-2": (
                        "EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH"
                    ),
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "testConfigRule",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "EXAMPLE"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": "test/key",
                        "size": 1024,
                        "eTag": "0123456789abcdef0123456789abcdef",
                        "sequencer": "0A1B2C3D4E5F678901",
                    },
                },
            }
        ]
    }


def _http_api(template: Optional[Template]) -> dict[str, Any]:
    body = '{"test":"body"}'
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/path/to/resource",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["cookie1", "cookie2"],
        "headers": {"Header1": "value1", "Header2": "value1,value2"},
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "api-id",
            "authentication": {
                "clientCert": {
                    "clientCertPem": "CERT_CONTENT",
                    "subjectDN": "www.example.com",
                    "issuerDN": "Example issuer",
                    "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
                    "validity": {
                        "notBefore": "May 28 12:30:02 2019 GMT",
                        "notAfter": "Aug  5 09:36:04 2021 GMT",
                    },
                }
            },
            "authorizer": {
                "jwt": {
                    "claims": {"claim1": "value1", "claim2": "value2"},
                    "scopes": ["scope1", "scope2"],
                }
            },
            "domainName": f"id.execute-api.{LOCAL_REGION}.amazonaws.com",
            "domainPrefix": "id",
            "http": {
                "method": "POST",
                "path": "/path/to/resource",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.168.0.1/32",
                "userAgent": "agent",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "body": base64.b64encode(body.encode()).decode(),
        "pathParameters": {"parameter1": "value1"},
        "isBase64Encoded": True,
        "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"},
    }


def _sqs(template: Optional[Template]) -> dict[str, Any]:
    queue = _only(template, "AWS::SQS::Queue") or "MyQueue"
    body = "Hello from SQS!"
    return {
        "Records": [
            {
                "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78",
                "receiptHandle": "MessageReceiptHandle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1523232000000",
                    "SenderId": LOCAL_ACCOUNT,
                    "ApproximateFirstReceiveTimestamp": "1523232000001",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # SQS's own body checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{queue}",
                "awsRegion": LOCAL_REGION,
            }
        ]
    }


def _scheduled(template: Optional[Template]) -> dict[str, Any]:
    rule = _only(template, "AWS::Events::Rule") or "ExampleRule"
    return {
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": "1970-01-01T00:00:00Z",
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/{rule}"],
        "detail": {},
    }
