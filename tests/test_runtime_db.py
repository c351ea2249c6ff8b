"""Database and cache calls against real PostgreSQL, MariaDB and Redis servers (and sqlite3).

Every statement, command and connection is one ``kind: "db"`` call; a statement's text,
literals, bound parameters, Redis keys and values never reach a record or EMF document.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import pytest
from runtime_support import assert_all_valid

from lambda_trace import trace
from lambda_trace.testing import FakeContext, capture

# These tests read the lines of ordinary calls: write every one (the default keeps only
# those of the invocations that matter).
pytestmark = pytest.mark.usefixtures("every_call_line")


SECRET = "SENTINEL-d41d8cd9"


def run(handler, event=None):
    with capture() as cap:
        result = handler(event or {}, FakeContext())
    assert_all_valid(cap)
    return cap, result


def db_calls(cap):
    return [c for c in cap.calls if c["kind"] == "db"]


def assert_no_secret(cap):
    text = "\n".join(cap.lines)
    assert SECRET not in text
    assert SECRET.lower() not in text.lower()


# -- PostgreSQL -----------------------------------------------------------------------------


def pg_kwargs(server):
    return dict(host=server.host, port=server.port, user=server.user, password=server.password)


def test_psycopg2_statements_connect_and_commit(postgres_server):
    import psycopg2

    @trace
    def handler(event, context):
        conn = psycopg2.connect(dbname=postgres_server.database, **pg_kwargs(postgres_server))
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE orders (id int, note text)")
            cur.execute("INSERT INTO orders VALUES (%s, %s)", (1, SECRET))
            cur.execute(f"SELECT id FROM orders WHERE note = '{SECRET}'")
            found = cur.fetchone()
        conn.commit()
        conn.close()
        return found

    cap, found = run(handler)
    assert found == (1,)
    names = [c["name"] for c in db_calls(cap)]
    assert names == [
        "postgresql CONNECT",
        "postgresql CREATE orders",
        "postgresql INSERT orders",
        "postgresql SELECT orders",
        "postgresql COMMIT",
    ]
    select = db_calls(cap)[3]
    assert (select["system"], select["operation"], select["target"], select["host"]) == (
        "postgresql", "SELECT", "orders", "127.0.0.1")
    assert select["status"] == "ok"
    summary = cap.invocations[0]["calls"]
    assert summary["postgresql SELECT orders"]["n"] == 1
    assert_no_secret(cap)
    downstream = {(d["Service"], d["Operation"]) for d in cap.emf if "Service" in d}
    assert ("postgresql", "SELECT orders") in downstream  # EMF dimensions of db calls
    assert ("postgresql", "CONNECT") in downstream


def test_psycopg2_dict_cursor_and_named_factory(postgres_server):
    import psycopg2
    import psycopg2.extras

    @trace
    def handler(event, context):
        conn = psycopg2.connect(dbname=postgres_server.database,
                                cursor_factory=psycopg2.extras.RealDictCursor,
                                **pg_kwargs(postgres_server))
        with conn.cursor() as cur:
            cur.execute("SELECT 1 AS one")
            row = cur.fetchone()
        with conn.cursor(cursor_factory=psycopg2.extras.DictCursor) as cur:
            cur.executemany("SELECT %s", [(1,), (2,)])
        conn.close()
        return row, isinstance(conn, psycopg2.extensions.connection)

    cap, (row, is_connection) = run(handler)
    assert row == {"one": 1} and is_connection
    assert [c["name"] for c in db_calls(cap)] == [
        "postgresql CONNECT", "postgresql SELECT", "postgresql SELECT"]


def test_psycopg2_connection_factory_keeps_its_own_cursor_class(postgres_server):
    import logging

    import psycopg2
    import psycopg2.extras

    @trace
    def handler(event, context):
        conn = psycopg2.connect(dbname=postgres_server.database,
                                connection_factory=psycopg2.extras.LoggingConnection,
                                **pg_kwargs(postgres_server))
        conn.initialize(logging.getLogger("sql-test"))
        cur = conn.cursor()
        cur.execute("SELECT 1")
        conn.close()
        return isinstance(cur, psycopg2.extras.LoggingCursor)

    cap, is_logging_cursor = run(handler)
    assert is_logging_cursor
    assert [c["name"] for c in db_calls(cap)] == ["postgresql CONNECT", "postgresql SELECT"]


def test_psycopg2_errors_are_classified_without_messages(postgres_server):
    import psycopg2

    @trace
    def handler(event, context):
        conn = psycopg2.connect(dbname=postgres_server.database, **pg_kwargs(postgres_server))
        cur = conn.cursor()
        outcomes = []
        for sql in (
            f"SELECT * FROM missing_table WHERE x = '{SECRET}'",
            "SET statement_timeout = 50; SELECT pg_sleep(1)",
        ):
            try:
                cur.execute(sql)
            except psycopg2.Error as exc:
                outcomes.append(exc.pgcode)
            conn.rollback()
        conn.close()
        try:
            psycopg2.connect(dbname="postgres", host="127.0.0.1", port=postgres_server.port,
                             user="app", password=SECRET)
        except psycopg2.OperationalError:
            outcomes.append("auth")
        return outcomes

    cap, outcomes = run(handler)
    assert outcomes == ["42P01", "57014", "auth"]
    by_name = {}
    for call in db_calls(cap):
        by_name.setdefault(call["name"], []).append(call)
    [missing] = by_name["postgresql SELECT missing_table"]
    assert (missing["error_class"], missing["error_code"]) == ("not_found", "42P01")
    [timeout] = by_name["postgresql SET"]
    assert (timeout["error_class"], timeout["error_code"]) == ("timeout", "57014")
    connects = by_name["postgresql CONNECT"]
    assert connects[-1]["status"] == "error"
    assert connects[-1]["error_class"] == "permission_denied"
    assert_no_secret(cap)


def test_psycopg2_refused_connection_is_network(postgres_server):
    import psycopg2
    from db_servers import free_port

    port = free_port()

    @trace
    def handler(event, context):
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user="x", password="y",
                             connect_timeout=3)
        except psycopg2.OperationalError:
            return "refused"

    cap, outcome = run(handler)
    [call] = db_calls(cap)
    assert outcome == "refused"
    assert (call["name"], call["error_class"]) == ("postgresql CONNECT", "network")


def test_psycopg2_handler_error_message_is_withheld(postgres_server):
    import psycopg2

    @trace
    def handler(event, context):
        conn = psycopg2.connect(dbname=postgres_server.database, **pg_kwargs(postgres_server))
        cur = conn.cursor()
        cur.execute("CREATE TEMP TABLE users (email text PRIMARY KEY)")
        cur.execute("INSERT INTO users VALUES (%s)", (SECRET,))
        cur.execute("INSERT INTO users VALUES (%s)", (SECRET,))  # duplicate key: echoes it

    with capture() as cap, pytest.raises(psycopg2.errors.UniqueViolation):
        handler({}, FakeContext())
    [inv] = cap.invocations
    assert inv["error_class"] == "conflict" and inv["error_type"] == "UniqueViolation"
    assert SECRET not in (inv["error_message"] or "")
    assert db_calls(cap)[-1]["error_code"] == "23505"
    assert_no_secret(cap)


def test_psycopg3_sync_and_async(postgres_server):
    import psycopg

    conninfo = (f"host={postgres_server.host} port={postgres_server.port} "
                f"user={postgres_server.user} password={postgres_server.password} dbname=postgres")

    @trace
    def handler(event, context):
        with psycopg.connect(conninfo) as conn:
            conn.execute("SELECT %s::text", (SECRET,)).fetchone()
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_class")
            conn.commit()

    cap, _ = run(handler)
    names = [c["name"] for c in db_calls(cap)]
    # the second COMMIT is the `with` block's own, on leaving it
    assert names == ["postgresql CONNECT", "postgresql SELECT", "postgresql SELECT pg_class",
                     "postgresql COMMIT", "postgresql COMMIT"]

    @trace
    async def async_handler(event, context):
        conn = await psycopg.AsyncConnection.connect(conninfo)
        async def one(i):
            async with conn.cursor() as cur:
                await cur.execute("SELECT %s", (i,))
        await asyncio.gather(*(one(i) for i in range(3)))
        await conn.close()

    with capture() as cap:
        asyncio.run(async_handler({}, FakeContext()))
    assert_all_valid(cap)
    names = [c["name"] for c in db_calls(cap)]
    assert names.count("postgresql SELECT") == 3 and names[0] == "postgresql CONNECT"
    summary = cap.invocations[0]["calls"]
    assert summary["postgresql SELECT"]["n"] == 3
    assert_no_secret(cap)


def test_pg8000_dbapi_and_native_count_once(postgres_server):
    import pg8000.dbapi
    import pg8000.native

    @trace
    def handler(event, context):
        conn = pg8000.dbapi.connect(database="postgres", **pg_kwargs(postgres_server))
        cur = conn.cursor()
        cur.execute("SELECT relname FROM pg_class WHERE relname = %s", (SECRET,))
        conn.commit()
        conn.close()
        native = pg8000.native.Connection(database="postgres", **pg_kwargs(postgres_server))
        native.run("SELECT :v::text", v=SECRET)
        native.close()

    cap, _ = run(handler)
    names = [c["name"] for c in db_calls(cap)]
    assert names.count("postgresql CONNECT") == 2
    assert "postgresql SELECT pg_class" in names
    assert names.count("postgresql SELECT") == 1  # the native run, once
    assert all(c["host"] == "127.0.0.1" for c in db_calls(cap))
    assert_no_secret(cap)


def statements_seen_by(engine):
    """SQLAlchemy's own count of the statements it sent through the driver's cursors."""
    import sqlalchemy

    seen = []
    sqlalchemy.event.listen(engine, "before_cursor_execute",
                            lambda conn, cur, statement, *rest: seen.append(statement))
    return seen


def test_sqlalchemy_over_psycopg2_counts_each_statement_once(postgres_server):
    import sqlalchemy

    s = postgres_server
    engine = sqlalchemy.create_engine(
        f"postgresql+psycopg2://{s.user}:{s.password}@{s.host}:{s.port}/postgres",
        poolclass=sqlalchemy.pool.NullPool)
    seen = statements_seen_by(engine)

    @trace
    def handler(event, context):
        with engine.connect() as conn:
            for i in range(4):
                conn.execute(sqlalchemy.text("SELECT relname FROM pg_class WHERE oid = :i"),
                             {"i": i})

    cap, _ = run(handler)
    summary = cap.invocations[0]["calls"]
    assert summary["postgresql SELECT pg_class"]["n"] == 4
    assert summary["postgresql CONNECT"]["n"] == 1
    # SQLAlchemy's own first-connect probes (server version, settings) are real round trips
    # too, sent around its events; the statements it sent through its events count once each.
    assert len(seen) == 4
    engine.dispose()


# -- MariaDB --------------------------------------------------------------------------------


def test_pymysql_statements_and_errors(mariadb_server):
    import pymysql

    @trace
    def handler(event, context):
        conn = pymysql.connect(host=mariadb_server.host, port=mariadb_server.port,
                               user=mariadb_server.user, password=mariadb_server.password,
                               database=mariadb_server.database)
        with conn.cursor() as cur:
            cur.execute("CREATE TEMPORARY TABLE items (id INT PRIMARY KEY, label TEXT)")
            cur.executemany("INSERT INTO items VALUES (%s, %s)", [(1, SECRET), (2, SECRET)])
            cur.execute(f'SELECT id FROM `items` WHERE label = "{SECRET}"')
            rows = cur.fetchall()
            with contextlib.suppress(pymysql.IntegrityError):
                cur.execute("INSERT INTO items VALUES (%s, %s)", (1, SECRET))
            with contextlib.suppress(pymysql.ProgrammingError):
                cur.execute("SELECT * FROM nowhere")
        conn.commit()
        conn.close()
        return rows

    cap, rows = run(handler)
    assert len(rows) == 2
    calls = db_calls(cap)
    assert [c["name"] for c in calls] == [
        "mysql CONNECT", "mysql CREATE items", "mysql INSERT items", "mysql SELECT items",
        "mysql INSERT items", "mysql SELECT nowhere", "mysql COMMIT"]
    assert (calls[4]["error_class"], calls[4]["error_code"]) == ("conflict", "1062")
    assert (calls[5]["error_class"], calls[5]["error_code"]) == ("not_found", "1146")
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["system"] == "mysql"
    assert_no_secret(cap)


def test_pymysql_wrong_password_is_permission_denied(mariadb_server):
    import pymysql

    @trace
    def handler(event, context):
        try:
            pymysql.connect(host=mariadb_server.host, port=mariadb_server.port,
                            user=mariadb_server.user, password=SECRET)
        except pymysql.OperationalError as exc:
            return exc.args[0]

    cap, code = run(handler)
    [call] = db_calls(cap)
    assert code == 1045
    assert (call["error_class"], call["error_code"]) == ("permission_denied", "1045")
    assert_no_secret(cap)


def test_sqlalchemy_over_pymysql_counts_each_statement_once(mariadb_server):
    import sqlalchemy

    s = mariadb_server
    engine = sqlalchemy.create_engine(
        f"mysql+pymysql://{s.user}:{s.password}@{s.host}:{s.port}/{s.database}",
        poolclass=sqlalchemy.pool.NullPool)
    seen = statements_seen_by(engine)

    @trace
    def handler(event, context):
        with engine.connect() as conn:
            for i in range(3):
                conn.execute(sqlalchemy.text(
                    "SELECT :i FROM information_schema.tables LIMIT 1"), {"i": i})

    cap, _ = run(handler)
    summary = cap.invocations[0]["calls"]
    assert summary["mysql CONNECT"]["n"] == 1
    assert summary["mysql SELECT information_schema.tables"]["n"] == len(seen) == 3
    engine.dispose()


# -- SQLite ---------------------------------------------------------------------------------


def test_sqlite_connection_and_cursor(tmp_path):
    @trace
    def handler(event, context):
        conn = sqlite3.connect(str(tmp_path / f"{SECRET}.db"))
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.executemany("INSERT INTO notes VALUES (?)", [(SECRET,), (SECRET,)])
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM notes WHERE body = ?", (SECRET,))
        count = cur.fetchone()[0]
        conn.commit()
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("INSERT INTO nowhere VALUES (1)")
        conn.close()
        return count, isinstance(conn, sqlite3.Connection)

    cap, (count, is_connection) = run(handler)
    assert count == 2 and is_connection
    calls = db_calls(cap)
    assert [c["name"] for c in calls] == [
        "sqlite CONNECT", "sqlite CREATE notes", "sqlite INSERT notes", "sqlite SELECT notes",
        "sqlite COMMIT", "sqlite INSERT nowhere"]
    assert calls[-1]["status"] == "error" and calls[-1]["error_code"] == "SQLITE_ERROR"
    assert all("host" not in c for c in calls)
    assert_no_secret(cap)


# -- Redis ----------------------------------------------------------------------------------


def test_redis_commands_pipeline_and_auth_failure(redis_server):
    import redis

    @trace
    def handler(event, context):
        client = redis.Redis(host=redis_server.host, port=redis_server.port,
                             password=redis_server.password)
        client.set(f"user:{SECRET}", SECRET)
        value = client.get(f"user:{SECRET}")
        client.hset(f"h:{SECRET}", mapping={"f": SECRET})
        client.hgetall(f"h:{SECRET}")
        with client.pipeline() as pipe:
            pipe.incr(f"n:{SECRET}").incr(f"n:{SECRET}").expire(f"n:{SECRET}", 60)
            pipe.execute()
        bad = redis.Redis(host=redis_server.host, port=redis_server.port, password=SECRET)
        with contextlib.suppress(redis.AuthenticationError):
            bad.get("x")
        return value

    cap, value = run(handler)
    assert value == SECRET.encode()
    calls = db_calls(cap)
    names = [c["name"] for c in calls]
    assert names[:6] == ["redis CONNECT", "redis SET", "redis GET", "redis HSET",
                         "redis HGETALL", "redis PIPELINE"]
    pipeline = calls[5]
    assert pipeline["command_count"] == 3 and pipeline["operation"] == "PIPELINE"
    assert all("target" not in c for c in calls)
    failed = [c for c in calls if c["status"] == "error"]
    assert failed and all(c["error_class"] == "permission_denied" for c in failed)
    assert names.count("redis CONNECT") >= 2  # the failed connection is a CONNECT too
    assert_no_secret(cap)


def test_redis_asyncio_in_tasks_is_attributed(redis_server):
    import redis.asyncio

    @trace
    async def handler(event, context):
        client = redis.asyncio.Redis(host=redis_server.host, port=redis_server.port,
                                     password=redis_server.password)
        await client.set(f"k:{SECRET}", SECRET)
        tasks = [asyncio.create_task(client.get(f"k:{SECRET}")) for _ in range(5)]
        values = await asyncio.gather(*tasks)
        async with client.pipeline(transaction=True) as pipe:
            await pipe.set(f"a:{SECRET}", 1).get(f"a:{SECRET}").execute()
        await client.aclose()
        return values

    with capture() as cap:
        values = asyncio.run(handler({}, FakeContext()))
    assert_all_valid(cap)
    assert values == [SECRET.encode()] * 5
    summary = cap.invocations[0]["calls"]
    assert summary["redis GET"]["n"] == 5
    assert summary["redis SET"]["n"] == 1
    assert summary["redis PIPELINE"]["n"] == 1
    assert summary["redis CONNECT"]["n"] >= 1
    [pipeline] = [c for c in db_calls(cap) if c["operation"] == "PIPELINE"]
    assert pipeline["command_count"] == 2
    inv = cap.invocations[0]
    assert inv["self_ms"] < inv["duration_ms"]
    assert_no_secret(cap)


def test_outside_an_invocation_nothing_is_recorded(redis_server, tmp_path):
    import redis

    client = redis.Redis(host=redis_server.host, port=redis_server.port,
                         password=redis_server.password)
    with capture() as cap:
        client.ping()
        sqlite3.connect(str(tmp_path / "x.db")).execute("SELECT 1").close()
    assert cap.lines == []


def test_sqlite_user_factory_positional_or_keyword_is_kept(tmp_path):
    class Mine(sqlite3.Connection):
        pass

    @trace
    def handler(event, context):
        by_keyword = sqlite3.connect(str(tmp_path / "a.db"), factory=Mine)
        by_position = sqlite3.connect(str(tmp_path / "b.db"), 5.0, 0, "DEFERRED", True, Mine)
        for conn in (by_keyword, by_position):
            conn.execute("SELECT 1")
            conn.close()
        return isinstance(by_keyword, Mine) and isinstance(by_position, Mine)

    cap, both_mine = run(handler)
    assert both_mine
    assert [c["name"] for c in db_calls(cap)] == [
        "sqlite CONNECT", "sqlite CONNECT", "sqlite SELECT", "sqlite SELECT"]


def test_db_false_turns_database_calls_off(tmp_path):
    @trace(db=False)
    def handler(event, context):
        sqlite3.connect(str(tmp_path / "y.db")).execute("SELECT 1")

    cap, _ = run(handler)
    assert db_calls(cap) == [] and cap.invocations[0]["calls"] == {}
