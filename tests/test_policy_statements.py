"""IAM policy statements: read from documents, and matched against actions, resources and the
services (with their source ARNs) that invoke a function."""

from __future__ import annotations

import json
from urllib.parse import quote

from lambda_trace.analyzer.policy_statements import (
    allowed,
    allows_api,
    allows_invoke,
    parse_statements,
    policy_buckets,
    policy_source_arns,
    statement_summary,
)

LOGS = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
API = "arn:aws:execute-api:us-east-1:123456789012:abc123"


def invoke_statement(service: str, *source_arns: str, effect: str = "Allow") -> dict[str, object]:
    statement: dict[str, object] = {"Effect": effect, "Action": "lambda:InvokeFunction",
                                    "Principal": {"Service": service}}
    if source_arns:
        statement["Condition"] = {"ArnLike": {"AWS:SourceArn": list(source_arns)}}
    return statement


def test_statements_are_read_from_a_document_a_url_encoded_text_or_a_single_statement() -> None:
    assert parse_statements({"Statement": [LOGS]}) == [LOGS]
    assert parse_statements(quote(json.dumps({"Statement": [LOGS]}))) == [LOGS]
    assert parse_statements({"Version": "2012-10-17", "Statement": LOGS}) == [LOGS]
    assert parse_statements({"Statement": [LOGS, "not a statement", 3]}) == [LOGS]


def test_a_document_that_is_not_one_has_no_statements() -> None:
    assert parse_statements("{not json") == []
    assert parse_statements(None) == []
    assert parse_statements(["a list"]) == []
    assert parse_statements({"Version": "2012-10-17"}) == []


def test_identity_policies_are_evaluated_with_wildcards_and_deny() -> None:
    stream = "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:log-stream:x"
    allow = ("p", {"Effect": "Allow", "Action": "logs:*", "Resource": "arn:aws:logs:*:*:*"})
    assert allowed([allow], "logs:PutLogEvents", stream)
    assert not allowed([allow], "s3:GetObject", "arn:aws:s3:::b/k")
    deny = ("d", {"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"})
    assert not allowed([allow, deny], "logs:PutLogEvents", stream)
    scoped = ("s", {"Effect": "Allow", "Action": ["logs:PutLogEvents"],
                    "Resource": "arn:aws:logs:us-east-1:1:log-group:/other:*"})
    assert not allowed([scoped], "logs:PutLogEvents", stream)
    not_action = ("n", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert allowed([not_action], "logs:PutLogEvents", stream)


def test_resource_policy_statements_say_who_may_invoke() -> None:
    statements = [{"Effect": "Allow", "Action": "lambda:InvokeFunction",
                   "Principal": {"Service": "s3.amazonaws.com"},
                   "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::photos"}}}]
    assert allows_invoke(statements, "s3.amazonaws.com", "arn:aws:s3:::photos")
    assert not allows_invoke(statements, "s3.amazonaws.com", "arn:aws:s3:::other")
    assert not allows_invoke(statements, "events.amazonaws.com", "arn:aws:s3:::photos")
    assert policy_buckets(statements) == ["photos"]


def test_not_resource_excludes_the_resources_it_names() -> None:
    stream = "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:log-stream:x"
    except_f = ("n", {"Effect": "Allow", "Action": "logs:*",
                      "NotResource": "arn:aws:logs:*:*:log-group:/aws/lambda/f:*"})
    assert not allowed([except_f], "logs:PutLogEvents", stream)
    assert allowed([except_f], "logs:PutLogEvents", stream.replace("/f:", "/g:"))
    assert not allowed([], "logs:PutLogEvents", stream)


def test_actions_match_without_regard_to_case() -> None:
    upper = ("u", {"Effect": "Allow", "Action": "LOGS:putlogevents", "Resource": "*"})
    assert allowed([upper], "logs:PutLogEvents", "arn:aws:logs:us-east-1:1:log-group:g")


def test_an_invoke_statement_without_a_source_arn_or_for_everyone_allows_any_source() -> None:
    assert allows_invoke([invoke_statement("s3.amazonaws.com")], "s3.amazonaws.com",
                         "arn:aws:s3:::any")
    anyone = {"Effect": "Allow", "Action": "lambda:*", "Principal": "*"}
    assert allows_invoke([anyone], "events.amazonaws.com", "arn:aws:events:us-east-1:1:rule/r")
    denied = invoke_statement("s3.amazonaws.com", effect="Deny")
    assert not allows_invoke([denied], "s3.amazonaws.com", "arn:aws:s3:::any")
    other_action = {**invoke_statement("s3.amazonaws.com"), "Action": "lambda:GetFunction"}
    assert not allows_invoke([other_action], "s3.amazonaws.com", "arn:aws:s3:::any")


def test_source_arns_are_read_from_every_arn_and_string_condition() -> None:
    rule = "arn:aws:events:us-east-1:1:rule/nightly"
    statements = [
        invoke_statement("events.amazonaws.com", rule),
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Condition": {"StringEquals": {"aws:sourcearn": rule + "-2"}}},
        invoke_statement("events.amazonaws.com", rule + "-denied", effect="Deny"),
        invoke_statement("s3.amazonaws.com", "arn:aws:s3:::bucket"),
    ]
    assert policy_source_arns(statements, "events.amazonaws.com") == [rule, rule + "-2"]
    assert policy_buckets(statements) == ["bucket"]


def test_bucket_names_come_from_s3_source_arns_with_or_without_a_key() -> None:
    statements = [invoke_statement("s3.amazonaws.com", "arn:aws:s3:::a/prefix/*", "arn:aws:s3:::b",
                                   "not-an-s3-arn")]
    assert policy_buckets(statements) == ["a", "b"]


def test_an_api_route_is_allowed_in_any_stage_by_method_and_path() -> None:
    routes = [invoke_statement("apigateway.amazonaws.com", f"{API}/*/GET/orders/*")]
    assert allows_api(routes, API, "GET/orders/42")
    assert not allows_api(routes, API, "POST/orders/42")
    assert not allows_api(routes, API.replace("abc123", "other"), "GET/orders/42")
    whole_api = [invoke_statement("apigateway.amazonaws.com", f"{API}")]
    assert allows_api(whole_api, API, "DELETE/anything")


def test_an_api_needs_an_allow_to_api_gateway() -> None:
    assert allows_api([invoke_statement("apigateway.amazonaws.com")], API, "GET/x")
    assert not allows_api([invoke_statement("s3.amazonaws.com")], API, "GET/x")
    deny = invoke_statement("apigateway.amazonaws.com", effect="Deny")
    assert not allows_api([deny], API, "GET/x")
    assert not allows_api([], API, "GET/x")


def test_a_statement_is_summarized_for_the_report() -> None:
    statement = {"Sid": "s3", **invoke_statement("s3.amazonaws.com", "arn:aws:s3:::photos")}
    assert statement_summary(statement) == {
        "sid": "s3", "effect": "Allow", "action": "lambda:InvokeFunction",
        "principal": ["s3.amazonaws.com"], "source_arn": ["arn:aws:s3:::photos"],
    }
    account = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}}
    assert statement_summary(account) == {
        "sid": None, "effect": "Allow", "action": None,
        "principal": {"AWS": "arn:aws:iam::1:root"}, "source_arn": None,
    }
