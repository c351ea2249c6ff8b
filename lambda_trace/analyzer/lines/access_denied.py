"""AccessDenied messages of any AWS service, in any SDK's shape, as ``access_denied`` events."""

from __future__ import annotations

import re
from typing import Optional

from lambda_trace.analyzer.lines.ids import LINE_BREAK
from lambda_trace.analyzer.model import Event, make_event

_AD_CALL = re.compile(
    r"An error occurred \(([^)]*)\) when calling the (\w+) operation"
    r"(?: \(reached max retries: \d+\))?"
)
_AD_API_ERROR = re.compile(r"api error (\w+):")  # AWS SDK for Go v2
_AD_CODE = re.compile(r"([A-Za-z.]*AccessDenied(?:Exception)?)")
_AD_PRINCIPAL = re.compile(
    r"User(?::|[\t ]+with accountId:)[\t ]*(\S+?)[\t ]+is not authorized to perform"
)
_AD_ACTION = re.compile(r"not authorized to perform:?[\t ]*([\w.-]+:[\w*.-]+)")
_AD_POLICY_ACTION = re.compile(r"allows the ([\w.-]+:[\w*.-]+) action")
_AD_RESOURCE = re.compile(r"on resource:?[\t ]*\"?([^\s\"]+)")
_AD_STARTS = ("An error occurred (", "User: ", "User with accountId", "Access Denied")
_TRAILING_JUNK = " \t\",.;'"


def has_access_denied(text: str) -> bool:
    """Cheap test for text worth handing to ``access_denied_event``."""
    return "AccessDenied" in text or "not authorized to perform" in text or "Access Denied" in text


def access_denied_event(
    text: str,
    request_id: Optional[str],
    ts: Optional[int],
    stream: Optional[str],
    code: Optional[str] = None,
) -> Optional[Event]:
    """An ``access_denied`` event from an AWS error message, or None when it is not one.

    Recognised: botocore's ``An error occurred (<Code>) when calling the <Op> operation: ...``,
    IAM's ``User: <arn> is not authorized to perform: <action> on resource: <arn> because ...``,
    S3's ``Access Denied``, the JS SDK's ``AccessDenied: User: ...`` and the Go SDK's ``api error
    <Code>: ...``. ``action`` is the IAM action only when the message names one (S3's bare
    "Access Denied" names none, and ``PutObject`` alone is not an IAM action: its service is not in
    the message); the API operation is kept in ``operation``. ``code`` is a hint from a
    surrounding JSON error document.
    """
    text = LINE_BREAK.split(text, 1)[0] if ("\r" in text or "\n" in text) else text
    call = _AD_CALL.search(text)
    principal = _AD_PRINCIPAL.search(text)
    action = _AD_ACTION.search(text)
    if call is None and principal is None and action is None and "AccessDenied" not in text \
            and "Access Denied" not in text and not (code and "AccessDenied" in code):
        return None
    operation = call.group(2) if call else None
    if call and call.group(1):
        code = call.group(1)
    elif code is None or "Denied" not in code:
        api = _AD_API_ERROR.search(text)
        token = _AD_CODE.search(text)
        code = api.group(1) if api else (token.group(1) if token else code)
    iam_action = action.group(1) if action else None
    if iam_action is None:
        policy = _AD_POLICY_ACTION.search(text)
        iam_action = policy.group(1) if policy else None
    resource = _AD_RESOURCE.search(text)
    starts = [at for at in (text.find(s) for s in _AD_STARTS) if at >= 0]
    message_start = min(starts) if starts else 0
    return make_event(
        "access_denied",
        request_id=request_id,
        timestamp_ms=ts,
        log_stream=stream,
        code=code or None,
        principal=principal.group(1) if principal else None,
        action=iam_action,
        resource=resource.group(1).rstrip(_TRAILING_JUNK) if resource else None,
        message=text[message_start:].strip().rstrip(_TRAILING_JUNK) or None,
        operation=operation,
    )
