"""Sample data for the sample functions: photos and receipts to read, orders to list.

Seeded only when the template runs the sample functions (code under ``sample_functions/``), so
a user's own template is left alone even if it has an ``OrdersTable`` too; a user's own data
goes in with ``--seed FILE.py`` (see ``user_seed``).
"""

from __future__ import annotations

import functools
import io
import json
from typing import Any

from lambda_trace.local.provision import Account
from lambda_trace.local.template import Template

#: photo key -> (width, height): sizes of a phone photo and smaller ones
PHOTOS = {
    "photos/harbour.jpg": (2400, 1600),
    "photos/market.jpg": (1600, 1200),
    "photos/bridge.jpg": (3000, 2000),
    "photos/garden.jpg": (1200, 800),
}
RECEIPTS = 20
#: customers c-0001 .. c-0040; customer c-00NN has NN orders
CUSTOMERS = 40


def customer_id(n: int) -> str:
    return f"c-{n:04d}"


def applies_to(template: Template) -> bool:
    """True for a template whose functions include the sample functions."""
    return any(f.code_dir.parent.name == "sample_functions" for f in template.functions.values())


def seed(account: Account, template: Template) -> dict[str, int]:
    """Put the sample data where the template's UploadsBucket and OrdersTable are."""
    counts = {"photos": 0, "receipts": 0, "orders": 0}
    bucket = template.buckets.get("UploadsBucket")
    if bucket:
        s3 = account.client("s3")
        for key, size in PHOTOS.items():
            s3.put_object(Bucket=bucket, Key=key, Body=_photo(*size), ContentType="image/jpeg")
            counts["photos"] += 1
        for i in range(1, RECEIPTS + 1):
            receipt = {"receiptId": f"r-{i:04d}", "total": round(9.5 * i, 2), "currency": "EUR"}
            s3.put_object(Bucket=bucket, Key=f"receipts/r-{i:04d}.json", Body=json.dumps(receipt))
            counts["receipts"] += 1
    table = template.tables.get("OrdersTable")
    if table:
        counts["orders"] = _orders(account.client("dynamodb"), table["TableName"])
    return counts


def _orders(dynamodb: Any, table: str) -> int:
    items = []
    order = 0
    for n in range(1, CUSTOMERS + 1):
        for _ in range(n):
            order += 1
            order_id = f"o-{order:05d}"
            items.append(
                {"pk": {"S": f"CUSTOMER#{customer_id(n)}"}, "sk": {"S": f"ORDER#{order_id}"}}
            )
            items.append(
                {
                    "pk": {"S": f"ORDER#{order_id}"},
                    "sk": {"S": "DETAIL"},
                    "status": {"S": ("shipped", "packing", "delivered")[order % 3]},
                    "total": {"N": f"{(order * 37) % 500 + 4.99:.2f}"},
                }
            )
    for start in range(0, len(items), 25):  # BatchWriteItem takes 25 items per call
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={table: batch})
    return order


@functools.cache
def _photo(width: int, height: int) -> bytes:
    """A smooth synthetic photo (gradients), encoded as JPEG."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise RuntimeError(
            "the sample photos need Pillow: pip install 'lambda-trace[samples]'"
        ) from exc
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    blue = red.transpose(Image.Transpose.ROTATE_180)
    out = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(out, format="JPEG", quality=90)
    return out.getvalue()
