"""Whole processes, like a Lambda environment: init-time connections, and no sentinel anywhere.

Module-level connections (made once per environment, the usual Lambda pattern) are traced when
``lambda_trace`` is imported first; a psycopg2 or sqlite3 connection opened before it cannot be
(documented in docs/runtime.md). Sentinels planted in SQL literals, bound parameters, Redis keys
and values, URL queries, paths and userinfo appear nowhere in stdout, stderr or EMF.
"""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest
from runtime_support import python

from lambda_trace.testing import validate_record

# These tests read the lines of ordinary calls: write every one (the default keeps only
# those of the invocations that matter).
pytestmark = pytest.mark.usefixtures("every_call_line")


SENTINEL = "SENTINELq7w8e9"


def records(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"lambda_trace"' in line:
            out.append(validate_record(json.loads(line)))
    return out


def summary_names(stdout: str) -> list[set[str]]:
    return [set(r["calls"]) for r in records(stdout) if r["type"] == "invocation"]


def servers_env(postgres_server, mariadb_server, redis_server) -> dict[str, str]:
    return {
        "PG": json.dumps(vars(postgres_server)),
        "MY": json.dumps(vars(mariadb_server)),
        "RD": json.dumps(vars(redis_server)),
    }


PRELUDE = """
import json, os
PG, MY, RD = (json.loads(os.environ[k]) for k in ("PG", "MY", "RD"))
def pg_connect(psycopg2):
    return psycopg2.connect(host=PG["host"], port=PG["port"], user=PG["user"],
                            password=PG["password"], dbname="postgres")
"""


def test_init_time_connections_are_traced_when_lambda_trace_comes_first(
    postgres_server, mariadb_server, redis_server, tmp_path
):
    code = PRELUDE + f"""
from lambda_trace import trace          # first: the import-order rule
from lambda_trace.testing import FakeContext
import psycopg2, pymysql, redis, sqlite3

PG_CONN = pg_connect(psycopg2)          # init: once per environment
MY_CONN = pymysql.connect(host=MY["host"], port=MY["port"], user=MY["user"],
                          password=MY["password"], database=MY["database"])
REDIS = redis.Redis(host=RD["host"], port=RD["port"], password=RD["password"])
REDIS.ping()
LITE = sqlite3.connect({str(tmp_path / "init.db")!r})

@trace
def handler(event, context):
    with PG_CONN.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_class")
    with MY_CONN.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.tables LIMIT 1")
    REDIS.get("k")
    LITE.execute("SELECT 1 FROM sqlite_master")
    fresh = pg_connect(psycopg2)         # in the handler: a CONNECT call of its own
    fresh.cursor().execute("SELECT 1")
    fresh.close()

handler({{}}, FakeContext())
handler({{}}, FakeContext())
"""
    result = python(code, env=servers_env(postgres_server, mariadb_server, redis_server))
    assert result.returncode == 0, result.stderr
    first, second = summary_names(result.stdout)
    expected = {
        "postgresql SELECT pg_class", "mysql SELECT information_schema.tables", "redis GET",
        "sqlite SELECT sqlite_master", "postgresql CONNECT", "postgresql SELECT",
    }
    assert first == second == expected
    # The init-time connects ran outside any invocation: part of init, not of a call.
    assert not any(r.get("request_id") is None for r in records(result.stdout))


def test_connections_opened_before_lambda_trace_follow_the_documented_rule(
    postgres_server, mariadb_server, redis_server, tmp_path
):
    """psycopg2 and sqlite3 (C connection types) need the patch first; the others do not."""
    code = PRELUDE + f"""
import psycopg2, pymysql, redis, sqlite3
PG_CONN = pg_connect(psycopg2)          # before lambda_trace: not traceable
LITE = sqlite3.connect({str(tmp_path / "early.db")!r})
MY_CONN = pymysql.connect(host=MY["host"], port=MY["port"], user=MY["user"],
                          password=MY["password"], database=MY["database"])
REDIS = redis.Redis(host=RD["host"], port=RD["port"], password=RD["password"])

from lambda_trace import trace
from lambda_trace.testing import FakeContext

@trace
def handler(event, context):
    PG_CONN.cursor().execute("SELECT 1")
    LITE.execute("SELECT 1")
    MY_CONN.cursor().execute("SELECT 2")
    REDIS.get("k")

handler({{}}, FakeContext())
"""
    result = python(code, env=servers_env(postgres_server, mariadb_server, redis_server))
    assert result.returncode == 0, result.stderr
    [names] = summary_names(result.stdout)
    assert names == {"mysql SELECT", "redis GET", "redis CONNECT"}


def test_sentinels_appear_nowhere_in_stdout_stderr_or_emf(
    postgres_server, mariadb_server, redis_server, http_server, tmp_path
):
    s = SENTINEL
    code = PRELUDE + f"""
from lambda_trace import trace
from lambda_trace.testing import FakeContext
import asyncio, http.client, sqlite3, urllib.request
import psycopg2, psycopg, pg8000.native, pymysql, redis, redis.asyncio, httpx, aiohttp, requests
S = {s!r}
URL = {http_server.url!r}
PORT = {http_server.port}

async def async_part():
    r = redis.asyncio.Redis(host=RD["host"], port=RD["port"], password=RD["password"])
    await r.set("a:" + S, S)
    await r.aclose()
    async with httpx.AsyncClient() as client:
        await client.get(f"{{URL}}/q/{{S}}?token={{S}}")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://u:{{S}}@127.0.0.1:{{PORT}}/{{S}}?k={{S}}") as resp:
            await resp.read()

@trace
def handler(event, context):
    conn = pg_connect(psycopg2)
    cur = conn.cursor()
    cur.execute(f"SELECT '{{S}}' AS x WHERE %s = %s", (S, S))
    try:
        cur.execute("INSERT INTO no_table_here VALUES (%s)", (S,))
    except psycopg2.Error:
        conn.rollback()
    with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"],
                         password=PG["password"], dbname="postgres") as c3:
        c3.execute("SELECT %s::text", (S,))
    native = pg8000.native.Connection(PG["user"], host=PG["host"], port=PG["port"],
                                      password=PG["password"], database="postgres")
    native.run(f"SELECT '{{S}}', :v::text", v=S)
    native.close()
    my = pymysql.connect(host=MY["host"], port=MY["port"], user=MY["user"],
                         password=MY["password"], database=MY["database"])
    my.cursor().execute(f"SELECT '{{S}}', %s", (S,))
    rd = redis.Redis(host=RD["host"], port=RD["port"], password=RD["password"])
    rd.set("key:" + S, S)
    rd.hset("h:" + S, S, S)
    pipe = rd.pipeline()
    pipe.get("key:" + S).lpush("l:" + S, S)
    pipe.execute()
    lite = sqlite3.connect({str(tmp_path / (s + ".db"))!r})
    lite.execute(f"CREATE TABLE t (v TEXT DEFAULT '{{S}}')")
    lite.execute("INSERT INTO t VALUES (?)", (S,))
    requests.get(f"{{URL}}/users/{{S}}?token={{S}}", auth=("user", S))
    urllib.request.urlopen(f"{{URL}}/search?q={{S}}").read()
    try:
        http.client.HTTPConnection(f"user:{{S}}@127.0.0.1:{{PORT}}", timeout=1).request("GET", "/")
    except OSError:
        pass
    asyncio.run(async_part())
    # finally the handler fails with a driver error that quotes the value
    cur = conn.cursor()
    cur.execute("CREATE TEMP TABLE emails (e text PRIMARY KEY)")
    cur.execute("INSERT INTO emails VALUES (%s)", (S,))
    cur.execute("INSERT INTO emails VALUES (%s)", (S,))

try:
    handler({{}}, FakeContext())
except psycopg2.errors.UniqueViolation:
    print("raised as expected", flush=True)
"""
    result = python(code, env=servers_env(postgres_server, mariadb_server, redis_server))
    assert result.returncode == 0, result.stderr
    assert "raised as expected" in result.stdout
    out = records(result.stdout)
    [inv] = [r for r in out if r["type"] == "invocation"]
    assert inv["error_type"] == "UniqueViolation" and inv["error_class"] == "conflict"
    kinds = {r["kind"] for r in out if r["type"] == "call"}
    assert kinds == {"db", "http"}
    assert len(inv["calls"]) >= 15
    text = result.stdout + result.stderr
    basic = base64.b64encode(f"user:{s}".encode()).decode()
    for form in (s, s.lower(), urllib.parse.quote(s), basic):
        assert form not in text, f"{form!r} leaked"
