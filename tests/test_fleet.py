"""Several functions in one report, and timed-out invocations' in-flight calls (issue 11, 1-2).

The logs go through the whole ``lambda-trace analyze`` pipeline: CloudWatch Logs subscription
payloads (one per log group) in one file, parsed, joined and aggregated per function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_trace.analyzer.cli import main

T0 = 1_795_000_000_000  # clock-ok: log files only; the CloudWatch test stamps from now


def rid(fn: int, i: int) -> str:
    return f"{fn:08x}-0000-4000-8000-{i:012x}"


def payload(group: str, stream: str, messages: list[str], t0: int = T0) -> str:
    return json.dumps({
        "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
        "logStream": stream, "subscriptionFilters": ["all"],
        "logEvents": [{"id": str(i), "timestamp": t0 + i * 10, "message": m}
                      for i, m in enumerate(messages)],
    })


def plain_invocation(request_id: str, duration: float, size: int, used: int) -> list[str]:
    return [
        f"START RequestId: {request_id} Version: $LATEST\n",
        f"END RequestId: {request_id}\n",
        f"REPORT RequestId: {request_id}\tDuration: {duration} ms\tBilled Duration: "
        f"{int(duration) + 1} ms\tMemory Size: {size} MB\tMax Memory Used: {used} MB\t\n",
    ]


def analyze(tmp_path: Path, text: str, *extra: str) -> dict[str, Any]:
    path = tmp_path / "logs.jsonl"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "report.json"
    assert main(["analyze", str(path), "--format", "json", "-o", str(out), *extra]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture()
def two_functions(tmp_path: Path) -> dict[str, Any]:
    return analyze(tmp_path, two_function_text())


def two_function_text() -> str:
    """``resize`` at 128 MB runs out of memory once; ``orders`` at 512 MB uses 60 MB at most."""
    resize, orders = [], []
    for i in range(24):
        resize += plain_invocation(rid(1, i), 300.0 + i, 128, 90 + i)
        orders += plain_invocation(rid(2, i), 40.0 + i, 512, 50 + i % 10)
    killed = rid(1, 99)
    resize += [
        f"START RequestId: {killed} Version: $LATEST\n",
        f"RequestId: {killed} Error: Runtime exited with error: signal: killed\n"
        "Runtime.ExitError\n",
        f"END RequestId: {killed}\n",
        f"REPORT RequestId: {killed}\tDuration: 2100.00 ms\tBilled Duration: 2100 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 128 MB\t\n",
    ]
    return "\n".join([
        payload("/aws/lambda/resize", "2026/11/30/[$LATEST]aaaa", resize),
        payload("/aws/lambda/orders", "2026/11/30/[$LATEST]bbbb", orders),
    ]) + "\n"


@pytest.mark.parametrize("fmt", ["terminal", "markdown"])
def test_every_format_shows_each_findings_function(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_text(two_function_text(), encoding="utf-8")
    out = tmp_path / "report.txt"
    assert main(["analyze", str(path), "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")

    def block(kind: str) -> str:
        """The finding's text: from its heading to the next one (Markdown) or blank line."""
        start = next(i for i, line in enumerate(lines) if kind in line)
        ends = (i for i in range(start + 1, len(lines))
                if (lines[i].startswith("#") if fmt == "markdown" else not lines[i].strip()))
        end = next(ends, len(lines))
        return "\n".join(lines[start:end])

    lines = text.splitlines()
    shown = {"terminal": "function: {}", "markdown": "Function: `{}`"}[fmt]
    assert shown.format("resize") in block("out_of_memory")
    assert shown.format("orders") in block("overprovisioned_memory")
    assert shown.format("orders") not in block("out_of_memory")


def test_every_finding_names_its_function_and_sizes_are_not_compared_across_them(
    two_functions: dict[str, Any],
) -> None:
    report = two_functions
    kinds = {(f["kind"], f["function"]) for f in report["findings"]}
    assert ("out_of_memory", "resize") in kinds
    assert ("overprovisioned_memory", "orders") in kinds
    # 128 MB belongs to resize, 512 MB to orders: nothing compares the two sizes.
    assert not [f for f in report["findings"] if f["kind"] == "memory_cost"]
    assert all(f["function"] in ("resize", "orders") for f in report["findings"])
    oom = next(f for f in report["findings"] if f["kind"] == "out_of_memory")
    assert oom["evidence"]["memory_size_mb"] == [128]


def test_functions_section_has_each_functions_own_totals(two_functions: dict[str, Any]) -> None:
    report = two_functions
    assert set(report["functions"]) == {"resize", "orders"}
    resize, orders = report["functions"]["resize"], report["functions"]["orders"]
    assert resize["summary"]["invocations"] == 25 and orders["summary"]["invocations"] == 24
    assert resize["summary"]["errors"] == 1 and orders["summary"]["errors"] == 0
    assert [m["memory_size_mb"] for m in resize["summary"]["memory"]] == [128]
    assert [m["memory_size_mb"] for m in orders["summary"]["memory"]] == [512]
    assert {f["kind"] for f in orders["findings"]} == {"overprovisioned_memory"}
    assert all(f["function"] == "resize" for f in resize["findings"])
    # The combined view stays.
    assert report["invocations"] == 49 and report["errors"] == 1


def test_one_function_report_names_it_and_keeps_its_comparisons(tmp_path: Path) -> None:
    lines: list[str] = []
    for i in range(24):
        lines += plain_invocation(rid(1, i), 300.0 + i, 256, 100)
        lines += plain_invocation(rid(1, 100 + i), 200.0 + i, 512, 100)
    report = analyze(tmp_path, payload("/aws/lambda/solo", "s", lines) + "\n")
    assert set(report["functions"]) == {"solo"}
    cost = [f for f in report["findings"] if f["kind"] == "memory_cost"]
    assert cost and cost[0]["function"] == "solo"
    assert report["functions"]["solo"]["summary"]["invocations"] == report["invocations"] == 48


def test_a_plain_copy_names_no_function(tmp_path: Path) -> None:
    path = tmp_path / "copy.log"
    path.write_text("".join(plain_invocation(rid(3, 1), 10.0, 128, 50)), encoding="utf-8")
    out = tmp_path / "r.json"
    assert main(["analyze", str(path), "--format", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["functions"] == {}
    assert all(f["function"] is None for f in report["findings"])


def record(type_: str, request_id: str, **fields: Any) -> str:
    return json.dumps({"lambda_trace": 1, "type": type_, "request_id": request_id,
                       "function_name": "checkout", **fields}) + "\n"


def test_timed_out_invocation_shows_the_call_in_flight_and_its_calls(tmp_path: Path) -> None:
    """The watchdog's warning names the HTTP POST running for 1.8 s; an 11 ms call had ended."""
    r = rid(4, 1)
    lines = [
        f"START RequestId: {r} Version: $LATEST\n",
        record("call", r, name="dynamodb.GetItem", kind="aws", start_ms=5.0,
               duration_ms=11.0, status="ok"),
        record("timeout_warning", r, elapsed_ms=2900.0, remaining_ms=100.0, timeout_ms=3000.0,
               in_flight=[{"name": "http POST api.pay.example", "kind": "http",
                           "running_ms": 1800.0}],
               calls={"dynamodb.GetItem": {"count": 3, "total_ms": 40.0, "max_ms": 16.0,
                                           "errors": 0}}),
        f"END RequestId: {r}\n",
        f"REPORT RequestId: {r}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 90 MB\tStatus: timeout\n",
        f"2026-11-30T10:00:03.000Z {r} Task timed out after 3.00 seconds\n",
    ]
    report = analyze(tmp_path, payload("/aws/lambda/checkout", "s", lines) + "\n")
    slow = report["slowest_invocations"][0]
    assert slow["status"] == "timeout"
    assert slow["in_flight"] == {"name": "http POST api.pay.example", "kind": "http",
                                 "running_ms": 1800.0}
    open_calls = [c for c in slow["calls"] if c.get("open")]
    assert len(open_calls) == 1
    bar = open_calls[0]
    assert bar["name"] == "http POST api.pay.example" and bar["status"] == "in_flight"
    # Started 1.8 s before the warning at 2.9 s; runs to the invocation's end at 3.0 s.
    assert bar["start_ms"] == 1100.0 and bar["duration_ms"] == 1900.0
    # 3 finished GetItem calls (one with a record) plus the one in flight.
    assert len(slow["calls"]) + slow["calls_not_shown"] == 4
    timeout = next(f for f in report["findings"] if f["kind"] == "timeout")
    assert timeout["subject"] == "http POST api.pay.example"
    assert timeout["function"] == "checkout"
    # The terminal's slowest-invocations row counts 4 calls and names the POST, not GetItem.
    path = tmp_path / "logs.jsonl"
    out = tmp_path / "report.txt"
    assert main(["analyze", str(path), "--format", "terminal", "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    table = text[text.index("Slowest invocations"):]
    rows = table.splitlines()
    at = next(i for i, line in enumerate(rows) if r in line)
    # (the only invocation: its row, stacked over several lines when the table is narrow)
    end = next((i for i in range(at, len(rows)) if not rows[i].strip()), len(rows))
    row = " ".join(rows[at:end])
    assert "http POST" in row and "in flight" in row and "GetItem" not in row and " 4 " in row


def test_a_finished_invocation_has_no_in_flight_call(two_functions: dict[str, Any]) -> None:
    assert all(s["in_flight"] is None for s in two_functions["slowest_invocations"])


def test_two_functions_read_from_cloudwatch_with_function_twice(
    moto: Any, tmp_path: Path
) -> None:
    """``--function resize --function orders`` over HTTP (moto): per-function sections, and a
    function that logged nothing gets its own no_invocations."""
    import time

    logs = moto.client("logs")
    now = int(time.time() * 1000)
    for name, size, used in (("resize", 128, 120), ("orders", 512, 60)):
        # (one stream per execution environment: its name is the environment's)
        group, stream = f"/aws/lambda/{name}", f"2026/12/03/[$LATEST]{size:032x}"
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        messages = []
        for i in range(3):
            messages += plain_invocation(rid(size, i), 20.0 + i, size, used)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now - 60_000 + i, "message": m} for i, m in enumerate(messages)])
    logs.create_log_group(logGroupName="/aws/lambda/idle")
    out = tmp_path / "r.json"
    # (logs only: none of these functions exists in moto, and with its configuration read the
    # idle one's finding would be the more precise not_invoked "there is no function idle")
    code = main(["analyze", "--function", "resize", "--function", "orders", "--function", "idle",
                 "--since", "1h", "--no-progress", "--format", "json", "-o", str(out),
                 "--no-metrics", "--no-config"])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["functions"]) == {"resize", "orders", "idle"}
    assert report["functions"]["resize"]["summary"]["invocations"] == 3
    assert report["functions"]["orders"]["summary"]["memory"][0]["memory_size_mb"] == 512
    idle = report["functions"]["idle"]
    assert idle["summary"]["invocations"] == 0
    assert [(f["kind"], f["function"]) for f in idle["findings"]] == [("no_invocations", "idle")]
    assert report["invocations"] == 6


def test_the_multi_function_report_validates_against_the_shipped_schema(
    two_functions: dict[str, Any],
) -> None:
    import jsonschema

    schema_path = (Path(__file__).resolve().parents[1] / "lambda_trace" / "analyzer" / "render"
                   / "assets" / "report.schema.json")
    jsonschema.validate(two_functions, json.loads(schema_path.read_text(encoding="utf-8")))


def test_killed_invocations_belong_to_the_function_their_warnings_name(tmp_path: Path) -> None:
    """A log copy without log groups (the demo's logs.jsonl): the killed invocations have no
    summary record, but their timeout and memory warnings name the function, so the per-function
    sections count them (they once fell outside every function)."""
    def quote(i: int, name: str) -> list[str]:
        r = rid(5, i)
        return [
            f"START RequestId: {r} Version: $LATEST\n",
            json.dumps({"lambda_trace": 2, "type": "invocation", "request_id": r,
                        "function_name": name, "duration_ms": 20.0, "status": "ok"}) + "\n",
            *plain_invocation(r, 20.0, 256, 60)[1:],
        ]

    killed = rid(5, 99)
    oom = rid(6, 99)
    lines = [*quote(1, "quote"), *quote(2, "export"),
             f"START RequestId: {killed} Version: $LATEST\n",
             json.dumps({"lambda_trace": 2, "type": "timeout_warning", "request_id": killed,
                         "function_name": "quote", "elapsed_ms": 2700.0, "remaining_ms": 300.0,
                         "in_flight": [{"name": "http GET pay/", "kind": "http",
                                        "running_ms": 2690.0}]}) + "\n",
             f"END RequestId: {killed}\n",
             f"REPORT RequestId: {killed}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
             "Memory Size: 256 MB\tMax Memory Used: 70 MB\t\n",
             f"{killed} Task timed out after 3.00 seconds\n",
             f"START RequestId: {oom} Version: $LATEST\n",
             json.dumps({"lambda_trace": 2, "type": "memory_warning", "request_id": oom,
                         "function_name": "export", "rss_mb": 120.0, "limit_mb": 128,
                         "elapsed_ms": 500.0}) + "\n",
             f"END RequestId: {oom}\n",
             f"REPORT RequestId: {oom}\tDuration: 600.00 ms\tBilled Duration: 600 ms\t"
             "Memory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\t"
             "Error Type: Runtime.OutOfMemory\n"]
    report = analyze(tmp_path, "".join(lines))
    sections = report["functions"]
    assert set(sections) == {"quote", "export"}
    assert sections["quote"]["summary"]["invocations"] == 2
    assert sections["quote"]["summary"]["timeouts"] == 1
    assert sections["export"]["summary"]["out_of_memory"] == 1
    timeout = next(f for f in report["findings"] if f["kind"] == "timeout")
    assert timeout["function"] == "quote"
