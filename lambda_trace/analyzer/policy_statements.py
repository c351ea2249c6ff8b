"""IAM policy statements: read from a policy document, and matched against an action, a
resource, or a service invoking a function from a source ARN.

Identity policies (the execution role's) are evaluated by ``allowed``; resource policies (who
may invoke the function) by ``allows_invoke`` and ``allows_api``. Conditions are read only for
their source ARN, never evaluated.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import unquote


def parse_statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):  # IAM returns URL-encoded JSON; boto3 usually decodes it
        try:
            document = json.loads(unquote(document))
        except ValueError:
            return []
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements if isinstance(s, dict)]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def allowed(statements: list[tuple[str, dict[str, Any]]], action: str, resource: str) -> bool:
    """Whether identity policy statements allow ``action`` on ``resource`` (an explicit Deny
    wins). Conditions are not evaluated, so a conditional Allow counts as an allow."""
    def matches(stmt: dict[str, Any]) -> bool:
        if "NotAction" in stmt:
            acts = any(fnmatch.fnmatchcase(action.lower(), a.lower())
                       for a in _as_list(stmt["NotAction"]))
            if acts:
                return False
        elif not any(fnmatch.fnmatchcase(action.lower(), a.lower())
                     for a in _as_list(stmt.get("Action"))):
            return False
        if "NotResource" in stmt:
            return not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(stmt["NotResource"]))
        return any(fnmatch.fnmatchcase(resource, r) for r in _as_list(stmt.get("Resource")))

    found = False
    for _, stmt in statements:
        if not matches(stmt):
            continue
        if str(stmt.get("Effect", "")).lower() == "deny":
            return False
        found = True
    return found


# -- resource policies ---------------------------------------------------------------------------


def _principal_services(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return _as_list(principal.get("Service")) + (
            ["*"] if principal.get("AWS") == "*" else []
        )
    return []


def _source_arns(statement: dict[str, Any]) -> list[str]:
    out = []
    for operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
        block = (statement.get("Condition") or {}).get(operator) or {}
        for key, value in block.items():
            if key.lower() == "aws:sourcearn":
                out.extend(_as_list(value))
    return out


def policy_source_arns(statements: list[dict[str, Any]], service: str) -> list[str]:
    return [arn for s in statements if str(s.get("Effect", "Allow")) == "Allow"
            and service in _principal_services(s) for arn in _source_arns(s)]


def policy_buckets(statements: list[dict[str, Any]]) -> list[str]:
    return [arn.split(":::", 1)[1].split("/", 1)[0]
            for arn in policy_source_arns(statements, "s3.amazonaws.com") if ":::" in arn]


def allows_invoke(statements: list[dict[str, Any]], service: str, source_arn: str) -> bool:
    """Whether the resource policy lets ``service`` invoke the function from ``source_arn``."""
    for s in statements:
        if str(s.get("Effect", "Allow")) != "Allow":
            continue
        actions = _as_list(s.get("Action"))
        if not any(fnmatch.fnmatchcase("lambda:InvokeFunction", a) for a in actions):
            continue
        services = _principal_services(s)
        if service not in services and "*" not in services:
            continue
        arns = _source_arns(s)
        if not arns or any(fnmatch.fnmatchcase(source_arn, a) for a in arns):
            return True
    return False


def allows_api(statements: list[dict[str, Any]], api_arn: str, route: str) -> bool:
    """Whether the policy lets API Gateway invoke for ``api_arn``
    (``arn:aws:execute-api:REGION:ACCOUNT:API_ID``) and ``route`` (``GET/orders/x``), in any
    stage: the source ARN is ``API_ARN/STAGE/METHOD/PATH``."""
    for s in statements:
        if str(s.get("Effect", "Allow")) != "Allow":
            continue
        if not any(fnmatch.fnmatchcase("lambda:InvokeFunction", a)
                   for a in _as_list(s.get("Action"))):
            continue
        services = _principal_services(s)
        if "apigateway.amazonaws.com" not in services and "*" not in services:
            continue
        arns = _source_arns(s)
        if not arns:
            return True
        for pattern in arns:
            head, _, rest = pattern.partition("/")
            _stage, _, pattern_route = rest.partition("/")
            if fnmatch.fnmatchcase(api_arn, head) and fnmatch.fnmatchcase(
                route, pattern_route or "*"
            ):
                return True
    return False


def statement_summary(statement: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": statement.get("Sid"),
        "effect": statement.get("Effect"),
        "action": statement.get("Action"),
        "principal": _principal_services(statement) or statement.get("Principal"),
        "source_arn": _source_arns(statement) or None,
    }
