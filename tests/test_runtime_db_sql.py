"""The SQL verb/first-table reader and the Redis command reader: names only, never values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambda_trace._patches import db_sql
from lambda_trace._patches.db_sql import describe
from lambda_trace._patches.redis_client import operation


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT * FROM orders WHERE id = %s", ("SELECT", "orders")),
        ("select id from public.order_items", ("SELECT", "public.order_items")),
        ("  -- why\n/* note */ DELETE FROM sessions", ("DELETE", "sessions")),
        ('INSERT INTO "Order Items" (a) VALUES (1)', ("INSERT", "Order_Items")),
        ("INSERT IGNORE INTO t VALUES (1)", ("INSERT", "t")),
        ("UPDATE accounts SET balance = balance - 1", ("UPDATE", "accounts")),
        ("CREATE TABLE IF NOT EXISTS audit (x int)", ("CREATE", "audit")),
        ("TRUNCATE TABLE logs", ("TRUNCATE", "logs")),
        ("WITH recent AS (SELECT 1 FROM events) SELECT * FROM recent", ("WITH", "events")),
        ("START TRANSACTION", ("BEGIN", "")),
        ("commit", ("COMMIT", "")),
        ("SELECT 1", ("SELECT", "")),
        ("SELECT x FROM unnest(%s) AS x", ("SELECT", "")),
        ("EXPLAIN ANALYZE SELECT * FROM t", ("EXPLAIN", "t")),
        (b"SELECT id FROM blobs", ("SELECT", "blobs")),
        ("hello there", ("OTHER", "")),
        ("", ("OTHER", "")),
        (None, ("OTHER", "")),
    ],
)
def test_verb_and_first_table(statement, expected):
    assert describe(statement) == expected


def test_mysql_double_quotes_are_strings():
    assert describe('SELECT "a FROM secret" FROM t', double_quotes_are_strings=True) == (
        "SELECT", "t")
    assert describe("SELECT 1 # FROM secret\nFROM t", double_quotes_are_strings=True) == (
        "SELECT", "t")


def test_backslashes_follow_each_dialect():
    # standard SQL: 'a\' is a whole literal; the second literal's words are never read
    assert describe("SELECT 'a\\' FROM t WHERE x = 'y FROM leak'") == ("SELECT", "t")
    assert describe("SELECT E'a\\' FROM leak' FROM t") == ("SELECT", "t")
    assert describe("SELECT 'a\\' FROM leak' FROM t", double_quotes_are_strings=True) == (
        "SELECT", "t")


def test_a_literal_cut_off_by_the_scan_limit_is_not_read():
    statement = "SELECT * FROM t WHERE a = '" + "x" * db_sql.SCAN_CHARS + " FROM secret'"
    assert describe(statement) == ("SELECT", "t")
    tail = "SELECT 1 " + " " * db_sql.SCAN_CHARS + "FROM late"
    assert describe(tail) == ("SELECT", "")  # past the scanned prefix: no target


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_FROMINTO '\"\\$-;", min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(literal=WORD, dollar=st.booleans())
def test_no_literal_value_ever_becomes_the_target(literal, dollar):
    if dollar:
        if "$$" in literal:
            return
        quoted = f"$${literal}$$"
    else:
        quoted = "'" + literal.replace("\\", "\\\\").replace("'", "''") + "'"
    statement = f"SELECT a FROM items WHERE b = {quoted} AND c IN (SELECT d FROM other)"
    op, target = describe(statement)
    assert (op, target) == ("SELECT", "items")
    prefix = f"SELECT {quoted} AS x FROM items"
    assert describe(prefix) == ("SELECT", "items")


@pytest.mark.parametrize(
    ("command", "expected"),
    [("GET", "GET"), ("hgetall", "HGETALL"), (b"SET", "SET"), ("CONFIG GET", "CONFIG"),
     ("JSON.GET", "JSON.GET"), ("user:42", "OTHER"), ("", "OTHER"), (42, "OTHER")],
)
def test_redis_operation_is_the_command_name_only(command, expected):
    assert operation(command) == expected
