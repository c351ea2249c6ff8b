"""Import guarantees: importing and decorating load none of the heavy or analyzer modules."""

from __future__ import annotations

import json

from runtime_support import python

HEAVY = [
    "botocore",
    "boto3",
    "urllib3",
    "requests",
    "aws_lambda_powertools",
    "wrapt",
    "rich",
    "lambda_trace.analyzer",
    "lambda_trace.local",
    "asyncio",
    "orjson",
    "lambda_trace.schema",  # the runtime needs only _contract's constants, not the dataclasses
]


def loaded_after(code: str) -> list[str]:
    result = python(
        code
        + "\nimport sys, json\n"
        + f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_loads_nothing_heavy():
    """`import lambda_trace`: no AWS SDK, HTTP library, wrapt, Powertools, rich or analyzer."""
    assert loaded_after("import lambda_trace") == []


def test_decorating_loads_nothing_heavy():
    """wrapt waits for a patch target; Powertools waits for the first metrics flush."""
    assert (
        loaded_after(
            """
from lambda_trace import trace, segment, metric, annotate

@trace
def handler(event, context):
    return 1
"""
        )
        == []
    )


def test_an_invocation_without_boto3_loads_only_powertools():
    """The first flush imports Powertools (which imports top-level botocore if installed)."""
    loaded = loaded_after(
        """
from lambda_trace import trace
from lambda_trace.testing import FakeContext, capture

@trace
def handler(event, context):
    return 1

with capture():
    handler({}, FakeContext())
"""
    )
    loaded.remove("lambda_trace.schema")  # imported by lambda_trace.testing, used here
    assert set(loaded) <= {"aws_lambda_powertools", "botocore"}  # Powertools' own imports
    assert "boto3" not in loaded and "urllib3" not in loaded and "wrapt" not in loaded


def test_metrics_off_never_imports_powertools():
    loaded = loaded_after(
        """
from lambda_trace import trace
from lambda_trace.testing import FakeContext, capture

@trace(metrics=False)
def handler(event, context):
    return 1

with capture():
    handler({}, FakeContext())
"""
    )
    assert loaded == ["lambda_trace.schema"]  # imported by lambda_trace.testing only


def test_botocore_imported_after_decoration_is_patched_on_import():
    """The post-import hook fires when the user's code imports boto3 later (lazily)."""
    result = python(
        """
from lambda_trace import trace

@trace
def handler(event, context):
    return 1

import sys
assert "wrapt" not in sys.modules
import boto3, botocore.client, urllib3.connectionpool, http.client
print(type(botocore.client.BaseClient.__dict__["_make_api_call"]).__name__)
print(type(urllib3.connectionpool.HTTPConnectionPool.__dict__["urlopen"]).__name__)
print(type(http.client.HTTPConnection.__dict__["getresponse"]).__name__)
print(botocore.client.__loader__.__class__.__name__)
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "FunctionWrapper",
        "FunctionWrapper",
        "FunctionWrapper",
        "SourceFileLoader",
    ]


def test_botocore_imported_before_decoration_is_patched_at_decoration():
    result = python(
        """
import botocore.client
from lambda_trace import trace

@trace
def handler(event, context):
    return 1

print(type(botocore.client.BaseClient.__dict__["_make_api_call"]).__name__)
"""
    )
    assert result.stdout.split() == ["FunctionWrapper"], result.stderr


def test_switching_aws_off_leaves_botocore_alone():
    result = python(
        """
from lambda_trace import trace

@trace(aws=False)
def handler(event, context):
    return 1

import botocore.client, urllib3.connectionpool
print(type(botocore.client.BaseClient.__dict__["_make_api_call"]).__name__)
print(type(urllib3.connectionpool.HTTPConnectionPool.__dict__["urlopen"]).__name__)
"""
    )
    assert result.stdout.split() == ["function", "FunctionWrapper"], result.stderr
