"""The OrdersPg sample against a real PostgreSQL, then ``lambda-trace analyze`` on its logs.

The sample runs in its own process like a Lambda environment (init-time connection, then warm
invocations for 20 customers); the report must name its N+1 query and its slow query.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from runtime_support import ROOT, python

from lambda_trace.analyzer.cli import main

SAMPLE = ROOT / "sample_functions" / "orders_pg"


@pytest.fixture
def orders_database(postgres_server):
    import psycopg2

    name = f"orders_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=postgres_server.host, port=postgres_server.port,
                             user=postgres_server.user, password=postgres_server.password,
                             dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    conn = psycopg2.connect(host=postgres_server.host, port=postgres_server.port,
                            user=postgres_server.user, password=postgres_server.password,
                            dbname=name)
    with conn, conn.cursor() as cur:
        cur.execute((SAMPLE / "schema.sql").read_text())
    conn.close()
    yield {"PGHOST": postgres_server.host, "PGPORT": str(postgres_server.port),
           "PGUSER": postgres_server.user, "PGPASSWORD": postgres_server.password,
           "PGDATABASE": name}
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


RUN_SAMPLE = f"""
import importlib.util, json, math, sys
spec = importlib.util.spec_from_file_location("orders_pg_app", {str(SAMPLE / "app.py")!r})
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)      # init: imports lambda_trace, then connects
from lambda_trace.testing import FakeContext, invoke
event = json.load(open({str(SAMPLE / "event.json")!r}))
for n in range(1, 21):
    rid = f"00000000-0000-4000-8000-{{n:012d}}"
    event["pathParameters"] = {{"customerId": f"c-{{n}}"}}
    print(f"START RequestId: {{rid}} Version: $LATEST")
    captured = invoke(app.handler, event, FakeContext(aws_request_id=rid, function_name="OrdersPg"))
    assert captured.error is None, captured.error
    assert captured.result["statusCode"] == 200
    for line in captured.lines:
        print(line)
    duration = captured.invocations[0]["duration_ms"]
    print(f"END RequestId: {{rid}}")
    print(f"REPORT RequestId: {{rid}}\\tDuration: {{duration:.2f}} ms\\t"
          f"Billed Duration: {{math.ceil(duration)}} ms\\tMemory Size: 256 MB\\t"
          f"Max Memory Used: 90 MB\\t")
"""


@pytest.mark.parametrize("call_lines", ["slow", "all"])
def test_orders_pg_report_names_the_n_plus_one_and_the_slow_query(
    orders_database, tmp_path: Path, capsys: pytest.CaptureFixture[str], call_lines: str
) -> None:
    """The same findings whether every call has its line or only those of the invocations that
    matter (the default: the summary's histograms and sequential runs carry the rest)."""
    env = {**orders_database, "LAMBDA_TRACE_CALL_LINES": call_lines}
    result = python(RUN_SAMPLE, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "orders_pg.log"
    log.write_text(result.stdout, encoding="utf-8")

    code = main(["analyze", "--no-progress", "--format", "json", str(log)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["invocations"] == 20
    deps = {d["name"]: d for d in report["dependencies"]}
    items = deps["postgresql SELECT order_items"]
    assert items["kind"] == "db" and items["calls"] == sum(2 * c for c in range(1, 21))
    slow = deps["postgresql SELECT order_lines"]
    assert slow["calls"] == 20 and slow["p50_ms"] > items["p50_ms"]

    findings = {(f["kind"], f["subject"]): f for f in report["findings"]}
    n_plus_one = findings[("n_plus_one", "postgresql SELECT order_items")]
    assert n_plus_one["evidence"]["max_sequential_calls"] == 40
    assert "ANY(%s)" in n_plus_one["advice"]
    [slow_dep] = [f for f in report["findings"] if f["kind"] == "slow_dependency"]
    assert slow_dep["evidence"]["kind"] == "db"
    assert slow_dep["subject"] == "postgresql SELECT order_lines"  # a sequential scan
    assert "EXPLAIN" in slow_dep["advice"]
    # the init-time connection is outside every invocation; queries on it are all traced
    assert "postgresql CONNECT" not in deps
    assert "c-20" not in result.stdout.replace('"customer":"c-20"', "")  # only the annotation
