"""µs added per call by each database, cache and async-HTTP patch, against real servers.

For every client, worker processes (several per variant, in rotating order) each run a traced
handler making ``CALLS`` calls per invocation (``SELECT 1``, Redis ``GET``, an HTTP GET to a
loopback server), ``ROUNDS`` times; the figure is the median of the workers' median per-call
times. Variants: lambda-trace disabled
(``LAMBDA_TRACE_DISABLED=1``: no patch at all, the bare client), lambda-trace default (a line
per call to /dev/null), and ``LAMBDA_TRACE_CALL_LINES=none``. "added" is the variant's median
minus the disabled median of the same client: the patch's per-call cost, including its share of
the invocation's own work. It also prints the import-time cost of each patch (importing the
client with lambda-trace's hooks registered, minus without), best of a few fresh processes.

Servers come from ``tests/db_servers.py`` (PostgreSQL, MariaDB, Redis from Debian's packages;
``scripts/ensure-db-servers``). ``--smoke`` runs a tiny version to check the script works; its
numbers mean nothing. Not yet part of ``run_all.py``.

    .venv/bin/python benchmarks/bench_db_calls.py [--smoke] [--clients sqlite3,redis]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

VARIANTS = {
    "disabled (bare client)": {"LAMBDA_TRACE_DISABLED": "1"},
    "lambda-trace (default)": {},
    "lambda-trace CALL_LINES=none": {"LAMBDA_TRACE_CALL_LINES": "none"},
}

#: client -> (servers it needs, setup code run at init, one call's code, module for import cost)
CLIENTS: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "sqlite3": ((), "import sqlite3\nconn = sqlite3.connect(':memory:')",
                "conn.execute('SELECT 1').fetchall()", "sqlite3"),
    "psycopg2": (("pg",), "import psycopg2\nconn = psycopg2.connect(**PG)\ncur = conn.cursor()",
                 "cur.execute('SELECT 1'); cur.fetchall()", "psycopg2"),
    "psycopg": (("pg",), "import psycopg\nconn = psycopg.connect(**PG)\ncur = conn.cursor()",
                "cur.execute('SELECT 1'); cur.fetchall()", "psycopg"),
    "pg8000": (("pg",), "import pg8000.native\nconn = pg8000.native.Connection("
               "PG['user'], host=PG['host'], port=PG['port'], password=PG['password'],"
               " database=PG['dbname'])",
               "conn.run('SELECT 1')", "pg8000"),
    "pymysql": (("my",), "import pymysql\nconn = pymysql.connect(**MY)\ncur = conn.cursor()",
                "cur.execute('SELECT 1'); cur.fetchall()", "pymysql"),
    "redis": (("rd",), "import redis\nclient = redis.Redis(**RD)\nclient.set('k', 'v')",
              "client.get('k')", "redis"),
    "httpx": (("http",), "import httpx\nclient = httpx.Client()", "client.get(URL)", "httpx"),
}

WORKER = """
import json, os, statistics, sys, time
PG, MY, RD, URL = (json.loads(os.environ["BENCH_SERVERS"])[k] for k in ("pg", "my", "rd", "url"))
from lambda_trace import trace
from lambda_trace.testing import FakeContext
{setup}
CALLS, ROUNDS = int(os.environ["BENCH_CALLS"]), int(os.environ["BENCH_ROUNDS"])

@trace
def handler(event, context):
    t0 = time.perf_counter_ns()
    for _ in range(CALLS):
        {call}
    return time.perf_counter_ns() - t0

handler({{}}, FakeContext())  # warm-up (first-call caches, the first metrics flush)
per_call = [handler({{}}, FakeContext()) / CALLS / 1000 for _ in range(ROUNDS)]
print(json.dumps(statistics.median(per_call)), file=sys.stderr)
"""

IMPORT_COST = """
import time
t0 = time.perf_counter_ns()
{prelude}
import {module}
print((time.perf_counter_ns() - t0) / 1e6)
"""


def worker(client: str, env: dict[str, str], servers: dict[str, Any], calls: int,
           rounds: int) -> float:
    _, setup, call, _ = CLIENTS[client]
    code = WORKER.format(setup=setup, call=call)
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_SERVERS": json.dumps(servers),
                "BENCH_CALLS": str(calls), "BENCH_ROUNDS": str(rounds), **env}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full_env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{client} worker failed: {done.stderr[-2000:]}")
    return float(done.stderr.strip().splitlines()[-1])


def import_ms(module: str, hooked: bool, tries: int) -> float:
    prelude = "from lambda_trace import trace" if hooked else "import lambda_trace._decorator"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not hooked:
        env["LAMBDA_TRACE_DB"] = "0"  # same lambda_trace import, no database hooks
    best = float("inf")
    for _ in range(tries):
        code = IMPORT_COST.format(prelude=prelude, module=module)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=120, check=True)
        best = min(best, float(out.stdout.strip()))
    return best


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run: checks the script only")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    args = parser.parse_args(argv)
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    calls, rounds, tries, repeats = (20, 3, 2, 1) if args.smoke else (200, 15, 5, 5)
    needed = {s for c in clients for s in CLIENTS[c][0]}

    import db_servers  # tests/db_servers.py: real servers on free loopback ports

    servers: dict[str, Any] = {"pg": {}, "my": {}, "rd": {}, "url": ""}
    with ExitStack() as stack:
        if "pg" in needed:
            pg = stack.enter_context(db_servers.running_postgres())
            servers["pg"] = {"host": pg.host, "port": pg.port, "user": pg.user,
                             "password": pg.password, "dbname": pg.database}
        if "my" in needed:
            my = stack.enter_context(db_servers.running_mariadb())
            servers["my"] = {"host": my.host, "port": my.port, "user": my.user,
                             "password": my.password, "database": my.database}
        if "rd" in needed:
            rd = stack.enter_context(db_servers.running_redis())
            servers["rd"] = {"host": rd.host, "port": rd.port, "password": rd.password}
        if "http" in needed:
            servers["url"] = stack.enter_context(_loopback_http()) + "/ping"
        print(f"per call: {calls} calls per invocation, median of {rounds} invocations per "
              f"worker, median of {repeats} workers per variant (order rotating)"
              + (" (SMOKE: numbers mean nothing)" if args.smoke else ""))
        print(f"{'client':10} {'variant':30} {'µs/call':>9} {'added µs':>9}")
        for client in clients:
            # rounds of one worker per variant, the order rotating, medians of the rounds:
            # a shared machine's drift hits every variant alike
            names = list(VARIANTS)
            runs: dict[str, list[float]] = {name: [] for name in names}
            for r in range(repeats):
                for name in names[r % len(names):] + names[: r % len(names)]:
                    runs[name].append(worker(client, VARIANTS[name], servers, calls, rounds))
            figures = {name: statistics.median(values) for name, values in runs.items()}
            bare = figures["disabled (bare client)"]
            for name, value in figures.items():
                added = "" if name.startswith("disabled") else f"{value - bare:9.2f}"
                print(f"{client:10} {name:30} {value:9.2f} {added:>9}")
        print(f"\nimport time of the client, best of {tries} fresh processes")
        print(f"{'module':10} {'without hooks ms':>17} {'with hooks ms':>14} {'added ms':>9}")
        for client in clients:
            module = CLIENTS[client][3]
            plain, hooked = import_ms(module, False, tries), import_ms(module, True, tries)
            print(f"{module:10} {plain:17.2f} {hooked:14.2f} {hooked - plain:9.2f}")
    return 0


class _loopback_http:
    def __enter__(self) -> str:
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                # one write: headers and body apart meet the client's delayed ACK (~40 ms)
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
