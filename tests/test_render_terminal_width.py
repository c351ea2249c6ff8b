"""Specification of the terminal layout: never wider than the terminal, identifiers whole."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from report_fixtures import ROLE_ARN, TIMED_OUT_ID, as_report, contract_report, realistic_report
from rich.cells import cell_len

from lambda_trace.analyzer.cmd_analyze import render
from lambda_trace.analyzer.render.layout import grid, pack, stacked_lines, table_lines, wrap

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def rendered(report: dict[str, Any], monkeypatch: pytest.MonkeyPatch, columns: int) -> str:
    """Through the not-a-TTY path, where COLUMNS gives the width."""
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return render(as_report(report), "terminal", io.StringIO(), top=15)


@pytest.mark.parametrize("columns", [80, 100, 160])
@pytest.mark.parametrize("hostile", [False, True])
def test_no_line_is_wider_than_the_terminal(
    monkeypatch: pytest.MonkeyPatch, columns: int, hostile: bool
) -> None:
    text = rendered(contract_report(hostile), monkeypatch, columns)
    widths = [cell_len(line) for line in text.splitlines()]
    assert max(widths) <= columns, max(widths)
    assert max(widths) > columns * 0.7  # the width is used, not a fixed narrow layout


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_request_ids_and_arns_are_never_split(
    monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    report = contract_report()
    text = rendered(report, monkeypatch, columns)
    shown = set(UUID.findall(text))
    expected = {r["request_id"] for r in report["slowest_invocations"][:5]}
    expected |= {g["example_request_id"] for g in report["error_groups"]}
    assert expected and expected <= shown
    assert ROLE_ARN in text
    assert "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-prod" in text
    # no fragment of an id ends a line (a split one would leave its head behind)
    for line in text.splitlines():
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f-]{0,26}$", line.rstrip()) or UUID.search(line)


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_evidence_is_human_text(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """No Python or JSON literals, no fraction beside a percentage, nothing cut mid-structure."""
    text = rendered(contract_report(), monkeypatch, columns)
    for literal in ("True", "False", "None", "[{", "{'", '{"calls"', "0.0083"):
        assert literal not in text, literal
    assert "timed out at the 3 s limit" in text
    assert "By memory size:" in text and "$1.75" in text and "$3.96" in text
    assert "Denied requests:" in text and "dynamodb:GetItem" in text


def test_wide_tables_are_columns_and_narrow_ones_are_stacked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wide = rendered(realistic_report(), monkeypatch, 160)
    narrow = rendered(realistic_report(), monkeypatch, 80)
    header = re.compile(r"^\s+request id\s+start\s+duration\s+status\s+calls\s+slowest call$",
                        re.M)
    assert header.search(wide)
    assert not header.search(narrow)
    # stacked: every field is still there, as key: value
    for field in ("duration: 3000 ms", "status: timeout", "status: success",
                  "slowest call: s3.GetObject 158 ms"):
        assert field in narrow, field
    assert "invocations: 121" in narrow and "p95: 279 ms" in narrow
    assert re.search(r"^\s+invocations\s+cold starts\s+errors", wide, re.M)


def test_contract_keys_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding functions, the per-function summary, the in-flight call and the metrics."""
    text = rendered(contract_report(), monkeypatch, 100)
    assert "function: orders-api" in text and "function: orders-worker" in text
    assert "By function" in text and "orders-worker" in text.split("By function")[1]
    assert "http GET api.example.com (in flight, 2850 ms so far)" in text
    assert "Lambda metrics (CloudWatch)" in text
    row = next(line for line in text.split("Lambda metrics (CloudWatch)")[1].splitlines()
               if "orders-api" in line or "invocations" in line)
    assert row


def test_metrics_and_functions_are_absent_when_the_report_has_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = rendered(realistic_report(), monkeypatch, 100)
    assert "Lambda metrics (CloudWatch)" not in text and "By function" not in text
    assert TIMED_OUT_ID in text


def test_layout_primitives() -> None:
    rid = "00000007-0000-4000-8000-000000000007"
    lines = wrap(f"Look up request {rid} in the logs for the full trace.", 37, 4)
    assert any(rid in line for line in lines)  # outdented: 36 cells do not fit after 4
    assert all(cell_len(line) <= 37 for line in lines)
    assert wrap("x" * 50, 20) == ["x" * 20, "x" * 20, "x" * 10]  # the only case that folds
    assert wrap("principal: " + "a" * 18, 20, 4) == ["    principal:", "  " + "a" * 18]
    assert pack(["a: 1", "b: 2", "c: 3"], 12) == ["a: 1   b: 2", "c: 3"]
    assert table_lines(["h", "n"], [["abc", "1"]], [False, True], 5) is None
    assert table_lines(["h", "n"], [["abc", "1"]], [False, True], 10) == [
        "h    n", "───  ─", "abc  1"]
    assert stacked_lines(["name", "calls"], [["s3.GetObject", "12"]], 40) == [
        "s3.GetObject", "  calls: 12"]
    headers, numeric = ["name", "calls", "p95"], [False, True, True]
    rows = [["dynamodb.GetItem", "649", "17.6 ms"]]
    assert grid(headers, rows, numeric, 40) == [
        "name              calls      p95", "────────────────  ─────  ───────",
        "dynamodb.GetItem    649  17.6 ms"]
    # too narrow for the columns: the name above the others, still aligned
    assert grid(headers, rows, numeric, 20) == [
        "name", "  calls      p95", "  ─────  ───────", "dynamodb.GetItem", "    649  17.6 ms"]
    # too narrow for that too: stacked
    assert grid(headers, [["s3.Get", "649", "17.6 ms"]], numeric, 14) == [
        "s3.Get", "  calls: 649", "  p95: 17.6 ms"]
    wide = "\u4e2d" * 10  # each CJK character is two cells
    assert all(cell_len(p) <= 7 for p in wrap(wide, 7))
