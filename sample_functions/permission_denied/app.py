"""ReceiptArchiver: copies each uploaded receipt into the archive bucket.

The planted problem is in template.yaml, not here: the function's role has S3ReadPolicy on the
archive bucket where it needs S3CrudPolicy, so every PutObject fails with AccessDenied. The fix
is one line in the template's Policies.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote_plus

import boto3

from lambda_trace import trace

s3 = boto3.client("s3")
ARCHIVE_BUCKET = os.environ["ARCHIVE_BUCKET"]


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    archived = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        receipt = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=ARCHIVE_BUCKET, Key=f"archive/{key}", Body=receipt)
        archived.append(key)
    return {"archived": archived}
