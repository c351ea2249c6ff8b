"""Thumbnail: the AWS guide's S3 tutorial (S3 ObjectCreated -> GetObject -> resize -> PutObject).

https://docs.aws.amazon.com/lambda/latest/dg/with-s3-tutorial.html
The resize is CPU-bound (its time scales with the image and the function's memory size, which
buys CPU); the two S3 calls are the downstream time. Pillow and boto3 load at init: a cold start.
"""

from __future__ import annotations

import io
import os
from typing import Any
from urllib.parse import unquote_plus

import boto3
from PIL import Image

from lambda_trace import annotate, segment, trace

s3 = boto3.client("s3")  # created once per execution environment, reused while warm
THUMBNAIL_BUCKET = os.environ["THUMBNAIL_BUCKET"]


@trace
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    written = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with segment("resize"):
            thumbnail, size = resize(original)
        target = "thumbnails/" + key.rsplit("/", 1)[-1]
        s3.put_object(Bucket=THUMBNAIL_BUCKET, Key=target, Body=thumbnail, ContentType="image/jpeg")
        annotate(source_kb=len(original) // 1024, width=size[0], height=size[1])
        written.append(target)
    return {"thumbnails": written}


def resize(data: bytes) -> tuple[bytes, tuple[int, int]]:
    """Half the width and height, as the tutorial does, re-encoded as JPEG."""
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(tuple(x // 2 for x in image.size))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=85)
        return out.getvalue(), image.size
