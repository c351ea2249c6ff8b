"""Import guarantees: importing and decorating load none of the heavy or analyzer modules."""

from __future__ import annotations

import json

import pytest
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
    "_ctypes",  # ≈1.2 ms: loaded at the second arming (_thread_timer), then _libc uses it
    "lambda_trace._libc",
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


def test_an_invocation_without_boto3_loads_nothing_more():
    """The first flush builds its EMF without importing Powertools (≈12-25 ms of cold start)."""
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
    assert loaded == []  # no aws_lambda_powertools, no botocore


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
from lambda_trace._patches._wrap import is_wrapped
print(is_wrapped(botocore.client.BaseClient, "_make_api_call"))
print(is_wrapped(urllib3.connectionpool.HTTPConnectionPool, "urlopen"))
print(is_wrapped(http.client.HTTPConnection, "getresponse"))
print(hasattr(http.client.HTTPConnection.__dict__["getresponse"], "__wrapped__"))
print(botocore.client.__loader__.__class__.__name__)
# plain methods get plain wrappers: wrapt is not needed for these (≈1.8 ms of cold start)
print("wrapt" in sys.modules)
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "SourceFileLoader", "False"]


def test_botocore_imported_before_decoration_is_patched_at_decoration():
    result = python(
        """
import botocore.client
from lambda_trace import trace

@trace
def handler(event, context):
    return 1

from lambda_trace._patches._wrap import is_wrapped
print(is_wrapped(botocore.client.BaseClient, "_make_api_call"))
"""
    )
    assert result.stdout.split() == ["True"], result.stderr


def test_switching_aws_off_leaves_botocore_alone():
    result = python(
        """
from lambda_trace import trace

@trace(aws=False)
def handler(event, context):
    return 1

import botocore.client, urllib3.connectionpool
from lambda_trace._patches._wrap import is_wrapped
print(is_wrapped(botocore.client.BaseClient, "_make_api_call"))
print(is_wrapped(urllib3.connectionpool.HTTPConnectionPool, "urlopen"))
"""
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_import_of_the_package_loads_no_runtime_module():
    """`import lambda_trace` is nearly free: the public names load on first use (PEP 562)."""
    result = python(
        """
import sys
import lambda_trace
print(sorted(m for m in sys.modules if m.startswith("lambda_trace.")))
print(sorted(m for m in ("dataclasses", "inspect", "json") if m in sys.modules))
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]


def test_the_public_names_load_lazily_and_stay_the_same_objects():
    import lambda_trace
    from lambda_trace import _config, _decorator, _segment, _user

    assert lambda_trace.trace is _decorator.trace
    assert lambda_trace.segment is _segment.segment
    assert (lambda_trace.metric, lambda_trace.annotate) == (_user.metric, _user.annotate)
    assert (lambda_trace.Settings, lambda_trace.Sink) == (_config.Settings, _config.Sink)
    assert set(lambda_trace.__all__) <= set(dir(lambda_trace))


def test_an_unknown_name_is_an_attribute_error():
    import lambda_trace

    with pytest.raises(AttributeError, match="no_such_name"):
        lambda_trace.no_such_name  # noqa: B018


def test_trace_loads_neither_dataclasses_nor_inspect():
    """Settings is a hand-written frozen class; async detection needs no inspect."""
    loaded = python(
        """
import sys
from lambda_trace import trace, segment, metric, annotate

@trace
def handler(event, context):
    return 1

print(sorted(m for m in ("dataclasses", "inspect") if m in sys.modules))
"""
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_the_analyzer_and_the_local_runner_never_load_the_runtime():
    result = python(
        """
import sys
import lambda_trace.analyzer.cli, lambda_trace.local
runtime = ("lambda_trace._decorator", "lambda_trace._invocation", "lambda_trace._lifecycle",
           "lambda_trace._patches")
print(sorted(m for m in runtime if m in sys.modules))
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_patching_botocore_and_http_loads_no_error_classifier():
    """The patches import `_errors` (and `re`) only once a call fails: not at cold start."""
    result = python(
        """
import sys, json, http.client
import botocore.client
from lambda_trace import trace
from lambda_trace._patches import aws_sdk, http_clients

@trace
def handler(event, context):
    return 1

from lambda_trace.testing import FakeContext, capture
with capture():
    handler({}, FakeContext())
print(json.dumps({"patched": hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__"),
                  "errors": "lambda_trace._errors" in sys.modules}))
"""
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"patched": True, "errors": False}


def test_a_database_patch_loads_no_typing():
    """sqlite3 and psycopg2 import no ``typing``; neither do their patches (≈5 ms of cold start
    for a function whose only client is its database)."""
    result = python(
        "from lambda_trace import trace\nimport sqlite3, psycopg2\n"
        "from lambda_trace._patches import pg_psycopg2, sqlite\n"  # the hooks ran
        "import sys\nprint('typing' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
