"""Hosts without credentials and paths reduced to route templates, for every HTTP client.

A recorded host or route becomes a call name, a summary key and an EMF ``Operation`` dimension
(which CloudWatch keeps for 15 months), so neither may carry data:

- ``host``: userinfo (``user:password@``, RFC 3986 §3.2.1) is cut off, whatever the client
  left in it (``http.client.HTTPConnection("user:pw@h")`` keeps it in ``.host``).
- ``route``: the path without query or fragment, each id-like segment (any segment with a digit
  but an API version like ``v1``: numbers, UUIDs, hex, dates; 24 characters or more; anything
  with ``@ = % + : , ;``) replaced by ``{id}``, and cut after three named segments, marked
  ``/*`` (``/v1/orders/{id}/items``). Object storage paths are keys, i.e. user data:
  a presigned URL (SigV4 ``X-Amz-Signature`` / SigV2 ``Signature`` in the query) or an S3
  request keeps the bucket only (``/{bucket}/{key}`` path style, ``/{key}`` virtual-hosted).
"""

from __future__ import annotations

MAX_ROUTE_CHARS = 200
#: named (non-placeholder) segments kept; placeholders and the cut marker do not count
MAX_NAMED_SEGMENTS = 3
MAX_SEGMENTS = 6
ID = "{id}"
KEY = "{key}"
_ID_CHARS = frozenset("@=%+:,;~!$&'()*")

#: path -> route, bounded (a warm container sees the same few paths again and again)
_routes: dict[str, str] = {}
MAX_CACHED_ROUTES = 1024


def strip_userinfo(host: str) -> str:
    """``host`` without any ``userinfo@`` prefix (the last ``@`` ends it, RFC 3986)."""
    at = host.rfind("@")
    return host[at + 1 :] if at >= 0 else host


def split_target(url: object) -> tuple[str, str]:
    """``(path, query)`` of an absolute or origin-form request target; no fragment."""
    text = url if isinstance(url, str) else str(url)
    if "://" in text[:16]:
        after = text.split("://", 1)[1]
        slash = after.find("/")
        question = after.find("?")
        if slash < 0 or (0 <= question < slash):
            text = "/" + after[question:] if question >= 0 else "/"
        else:
            text = after[slash:]
    hash_at = text.find("#")
    if hash_at >= 0:
        text = text[:hash_at]
    path, _, query = text.partition("?")
    return path or "/", query


def route(path: str) -> str:
    """The route template of a path (no query string): ``/v1/orders/{id}/items``."""
    found = _routes.get(path)
    if found is not None:
        return found
    out: list[str] = []
    named = 0
    cut = False
    for segment in path.split("/"):
        if not segment:
            continue
        if len(out) >= MAX_SEGMENTS or named >= MAX_NAMED_SEGMENTS:
            cut = True
            break
        if _id_like(segment):
            out.append(ID)
        else:
            out.append(segment)
            named += 1
    text = "/" + "/".join(out)
    if cut:
        text += "/*" if text != "/" else "*"
    text = text[:MAX_ROUTE_CHARS]
    if len(_routes) >= MAX_CACHED_ROUTES:
        _routes.clear()
    _routes[path] = text
    return text


def object_route(path: str, virtual_hosted: bool) -> str:
    """An object-storage path with the key withheld: ``/{bucket}/{key}`` or ``/{key}``."""
    segments = [s for s in path.split("/") if s]
    if virtual_hosted:
        return "/" + KEY if segments else "/"
    if not segments:
        return "/"
    bucket = segments[0] if not _id_like(segments[0]) else ID
    return f"/{bucket}/{KEY}" if len(segments) > 1 else f"/{bucket}"


def is_presigned(query: str) -> bool:
    """A presigned URL: its path is an object key (SigV4 or SigV2 query authentication)."""
    return "X-Amz-Signature=" in query or ("Signature=" in query and "AWSAccessKeyId=" in query)


def is_s3_host(host: str) -> tuple[bool, bool]:
    """``(is S3, virtual-hosted)`` for an AWS S3 endpoint name (``bkt.s3.us-east-1...``)."""
    host = host.lower()
    if not (host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")):
        return False, False
    if host.startswith(("s3.", "s3-")):
        return True, False
    return (".s3." in host or ".s3-" in host), True


def http_route(host: str, path: str, query: str, signed_for_s3: bool = False) -> str:
    """The route to record for a request: an object route for S3 traffic, else a template."""
    s3, virtual = is_s3_host(host)
    if s3 or signed_for_s3 or is_presigned(query):
        return object_route(path, virtual)
    return route(path)


def _id_like(segment: str) -> bool:
    if len(segment) >= 24 or any(c in _ID_CHARS for c in segment):
        return True  # tokens, emails, base64 and percent-encoded values
    if not any(c.isdigit() for c in segment):
        return False
    # a segment with a digit is an id (numbers, uuids, hex, dates, sku-1001), unless it is an
    # API version (v1, v2.1)
    return not (segment[0] in "vV" and segment[1:].replace(".", "").isdigit())
