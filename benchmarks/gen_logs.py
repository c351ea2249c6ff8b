# ruff: noqa: UP031 -- %-templates keep the JSON braces of the log lines readable
"""Generate a deterministic Lambda log file of a given size for the analyzer benchmark.

One function's log group as a plain copy (one CloudWatch message per line): execution
environments one after another, 70% in Text and 30% in JSON log format, each invocation with
platform lines (INIT_START/START/END/REPORT, or platform.* JSON), app logs and prints, our call
and invocation records, EMF documents, and now and then a Python traceback, a timeout or an
out-of-memory kill. The same seed and size give the same bytes. Beside the log goes
``<file>.expected.json``: the totals a correct reader must find (used by the jq cross-check).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

GENERATOR_VERSION = 4
FUNCTION = "orders-api"
MEMORY_MB = 512
TIMEOUT_S = 3.0
BASE_EPOCH_MS = 1795737600000  # 2026-11-27T00:00:00Z

LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. For "
    "functions using managed runtimes, runtime updates can be triggered by a function change, or "
    "can be applied automatically. To determine if the runtime has been updated, check the runtime "
    "version in the INIT_START log entry. If this error correlates with a change in the runtime "
    "version, you may be able to mitigate this error by temporarily rolling back to the previous "
    "runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)
RUNTIME_ARN = (
    "arn:aws:lambda:us-east-1::runtime:"
    "b1c2d3e4f5a6978812345678901234567890abcdef1234567890abcdef123456"
)

#: (name, kind, service, operation, target, median ms) of the function's dependencies
DEPENDENCIES = [
    ("dynamodb.GetItem", "aws", "dynamodb", "GetItem", "orders", 6.0),
    ("dynamodb.PutItem", "aws", "dynamodb", "PutItem", "orders", 9.0),
    ("dynamodb.Query", "aws", "dynamodb", "Query", "order-items", 14.0),
    ("s3.GetObject", "aws", "s3", "GetObject", "invoices-bucket", 35.0),
    ("s3.PutObject", "aws", "s3", "PutObject", "invoices-bucket", 48.0),
    ("sqs.SendMessage", "aws", "sqs", "SendMessage", "order-events", 11.0),
    ("http POST api.payments.example.com", "http", None, None, None, 180.0),
    ("http GET inventory.internal.example.com", "http", None, None, None, 40.0),
]
ERROR_CODES = [
    ("throttled", "ProvisionedThroughputExceededException", 400),
    ("not_found", "NoSuchKey", 404),
    ("permission_denied", "AccessDeniedException", 400),
    ("server", "InternalServerError", 500),
]
PY_ERRORS = [
    ("KeyError", "'order_id'", 'order_id = event["order_id"]'),
    ("ValueError", "invalid literal for int() with base 10: 'abc'", "qty = int(body['qty'])"),
    ("TypeError", "'NoneType' object is not subscriptable", "price = item['price']['N']"),
]


_DAYS: dict[int, str] = {}


def iso(epoch_ms: float) -> str:
    """ISO 8601 UTC with milliseconds; the date part is cached (datetime is slow per line)."""
    ms = int(epoch_ms)
    secs, milli = divmod(ms, 1000)
    day, rem = divmod(secs, 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = datetime.fromtimestamp(day * 86400, tz=timezone.utc).strftime(
            "%Y-%m-%d"
        )
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    return f"{date}T{hh:02d}:{mm:02d}:{ss:02d}.{milli:03d}Z"


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.now_ms = float(BASE_EPOCH_MS)
        self.request_n = 0
        self.env_n = 0
        self.env_invocations_left = 0
        self.json_format = False
        self.xray = False
        self.lines: list[str] = []
        self.expected: dict[str, Any] = {
            "starts": 0, "reports": 0, "report_duration_ms": 0.0, "timeouts": 0,
            "invocation_records": 0, "call_records": 0, "errors": 0, "oom_kills": 0,
            "cold_starts": 0, "deps": {}, "call_deps": {},
        }

    # --------------------------------------------------------------- helpers
    def request_id(self) -> str:
        self.request_n += 1
        n = self.request_n
        return (f"{self.seed:08x}-{(n >> 48) & 0xFFFF:04x}-4{(n >> 36) & 0xFFF:03x}"
                f"-a{(n >> 24) & 0xFFF:03x}-{n & 0xFFFFFFFFFFFF:012x}")

    def new_environment(self) -> None:
        self.env_n += 1
        self.env_invocations_left = self.rng.randint(20, 300)
        self.json_format = self.rng.random() < 0.3
        self.xray = self.rng.random() < 0.3
        self.stream = f"2026/11/27/[$LATEST]{self.seed:08x}{self.env_n:024x}"
        self.cold = True
        self.now_ms += self.rng.uniform(50, 5000)
        init_ms = round(self.rng.uniform(180, 900), 2)
        self.init_ms = init_ms
        ts = iso(self.now_ms)
        if self.json_format:
            self.lines.append(
                '{"time":"%s","type":"platform.initStart","record":{"initializationType":'
                '"on-demand","phase":"init","runtimeVersion":"python:3.12.v51",'
                '"runtimeVersionArn":"%s","functionName":"%s","functionVersion":"$LATEST",'
                '"instanceId":"%s","instanceMaxMemory":%d}}'
                % (ts, RUNTIME_ARN, FUNCTION, self.stream, MEMORY_MB * 1024 * 1024)
            )
        else:
            self.lines.append(
                f"INIT_START Runtime Version: python:3.12.v51\tRuntime Version ARN: {RUNTIME_ARN}"
            )
        self.now_ms += init_ms

    def record(self, rid: str, rtype: str, ts_ms: float, body: str) -> str:
        return (
            '{"lambda_trace":1,"type":"%s","request_id":"%s","function_name":"%s",'
            '"timestamp":"%s",%s}' % (rtype, rid, FUNCTION, iso(ts_ms), body)
        )

    def app_log(self, rid: str, ts_ms: float, message: str) -> str:
        if self.json_format:
            return json.dumps({"timestamp": iso(ts_ms), "level": "INFO", "message": message,
                               "logger": "root", "requestId": rid})
        return f"[INFO]\t{iso(ts_ms)}\t{rid}\t{message}"

    # --------------------------------------------------------------- one invocation
    def invocation(self) -> None:
        rng = self.rng
        if self.env_invocations_left <= 0:
            self.new_environment()
        self.env_invocations_left -= 1
        rid = self.request_id()
        start = self.now_ms
        cold = self.cold
        self.cold = False
        roll = rng.random()
        fate = "timeout" if roll < 0.005 else "oom" if roll < 0.007 else (
            "error" if roll < 0.04 else "ok")
        lines = self.lines
        exp = self.expected
        exp["starts"] += 1
        if self.json_format:
            lines.append('{"time":"%s","type":"platform.start","record":{"requestId":"%s",'
                         '"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:%s",'
                         '"version":"$LATEST"}}' % (iso(start), rid, FUNCTION))
        else:
            lines.append(f"START RequestId: {rid} Version: $LATEST")
        order = rng.randint(1000, 999999)
        lines.append(self.app_log(rid, start + 0.4, f"Processing order {order}"))
        if rng.random() < 0.3:
            items, total = rng.randint(1, 12), rng.randint(5, 900)
            lines.append(f"order {order}: {items} items, total {total}.99")

        t = 1.0  # ms since start
        stats: dict[str, list[float]] = {}
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4, 5, 8))):
            name, kind, service, operation, target, median = rng.choice(DEPENDENCIES)
            duration = round(median * rng.lognormvariate(0.0, 0.5), 3)
            error = rng.random() < 0.01
            t += rng.uniform(0.05, 2.0)
            body = (f'"name":"{name}","kind":"{kind}","start_ms":{round(t, 3)},'
                    f'"duration_ms":{duration},"status":"{"error" if error else "ok"}"')
            if error:
                cls, code, status = rng.choice(ERROR_CODES)
                body += f',"error_class":"{cls}","error_code":"{code}"'
            else:
                status = 200
            if kind == "aws":
                body += (f',"service":"{service}","operation":"{operation}","target":"{target}",'
                         f'"http_status":{status},"aws_request_id":"{rng.getrandbits(64):016X}"')
            else:
                method, host = name.split(" ")[1:]
                body += (f',"http_status":{status},"method":"{method}","host":"{host}",'
                         f'"path":"/v1/orders/{order}"')
            t += duration
            lines.append(self.record(rid, "call", start + t, body))
            exp["call_records"] += 1
            per_call = exp["call_deps"].setdefault(name, {"count": 0, "total_ms": 0.0})
            per_call["count"] += 1
            per_call["total_ms"] += duration
            s = stats.setdefault(name, [0, 0.0, 0.0, 0])
            s[0] += 1
            s[1] += duration
            s[2] = max(s[2], duration)
            s[3] += int(error)
        t += rng.uniform(0.5, 6.0)

        if fate == "timeout":
            self.timeout(rid, start, t, cold)
            return
        if fate == "oom":
            self.oom(rid, start, t, cold)
            return

        duration = round(t, 3)
        end = start + t
        err = rng.choice(PY_ERRORS) if fate == "error" else None
        calls = ",".join(
            f'"{n}":{{"count":{s[0]},"total_ms":{round(s[1], 3)},"max_ms":{s[2]},"errors":{s[3]}}}'
            for n, s in stats.items()
        )
        init_type = '"on-demand"' if cold else "null"
        body = (
            f'"cold_start":{"true" if cold else "false"},"init_type":{init_type},'
            f'"init_ms":{self.init_ms if cold else "null"},'
            f'"duration_ms":{duration},"self_ms":{round(t - sum(s[1] for s in stats.values()), 3)},'
            f'"remaining_ms":{round(TIMEOUT_S * 1000 - t, 3)},"memory_limit_mb":{MEMORY_MB},'
            f'"memory_peak_mb":{round(rng.uniform(70, 140), 1)},'
        )
        if err:
            body += (f'"status":"error","error_type":"{err[0]}",'
                     f'"error_message":{json.dumps(err[1])},"error_class":"code"')
            exp["errors"] += 1
        else:
            body += '"status":"ok","error_type":null,"error_message":null,"error_class":null'
        body += f',"calls":{{{calls}}},"dropped_calls":0,"annotations":{{}}'
        lines.append(self.record(rid, "invocation", end, body))
        exp["invocation_records"] += 1
        for name, s in stats.items():
            dep = exp["deps"].setdefault(name, {"count": 0, "total_ms": 0.0})
            dep["count"] += s[0]
            dep["total_ms"] += round(s[1], 3)
        lines.append(
            '{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"LambdaTrace","Dimensions":'
            '[["service"]],"Metrics":[{"Name":"Duration","Unit":"Milliseconds"},{"Name":'
            '"ColdStart","Unit":"Count"},{"Name":"Errors","Unit":"Count"}]}]},"service":"%s",'
            '"Duration":%s,"ColdStart":%d,"Errors":%d}'
            % (int(end), FUNCTION, duration, int(cold), int(err is not None))
        )
        if err:
            self.python_error(rid, end, err)
        self.finish(rid, start, t, cold, "error" if err else None)

    def python_error(self, rid: str, ts_ms: float, err: tuple[str, str, str]) -> None:
        etype, message, code = err
        frames = [("/var/task/app.py", 41, "handler", "return process(event)"),
                  ("/var/task/orders.py", 88, "process", code)]
        if self.json_format:
            trace = [f'  File "{f}", line {n}, in {fn}\n    {c}\n' for f, n, fn, c in frames]
            self.lines.append(LAMBDA_WARNING + json.dumps({
                "timestamp": iso(ts_ms)[:19] + "Z", "log_level": "ERROR", "errorMessage": message,
                "errorType": etype, "requestId": rid, "stackTrace": trace}))
            return
        self.lines.append(LAMBDA_WARNING)
        nb = "\u00a0"
        body = [f"[ERROR] {etype}: {message}", "Traceback (most recent call last):"]
        for f, n, fn, c in frames:
            body.append(f'{nb * 2}File "{f}", line {n}, in {fn}')
            body.append(f"{nb * 4}{c}")
        # Mostly the stdout form (one event, \r-joined); sometimes the framed sink's \n form.
        sep = "\r" if self.rng.random() < 0.8 else "\n"
        self.lines.append(sep.join(body) + ("\r" if sep == "\r" else ""))

    def timeout(self, rid: str, start: float, t: float, cold: bool) -> None:
        elapsed = TIMEOUT_S * 1000 - 250.0
        name = DEPENDENCIES[6][0]
        body = (f'"elapsed_ms":{elapsed},"remaining_ms":250.0,"timeout_ms":{TIMEOUT_S * 1000},'
                f'"in_flight":[{{"name":"{name}","kind":"http",'
                f'"running_ms":{round(elapsed - t, 3)}}}],'
                '"calls":{}')
        self.lines.append(self.record(rid, "timeout_warning", start + elapsed, body))
        self.expected["timeouts"] += 1
        self.finish(rid, start, TIMEOUT_S * 1000, cold, "timeout")
        if not self.json_format:
            self.lines.append(f"{iso(start + TIMEOUT_S * 1000)} {rid} Task timed out after "
                              f"{TIMEOUT_S:.2f} seconds")
        self.env_invocations_left = 0  # the runtime is restarted: next one is a cold start

    def oom(self, rid: str, start: float, t: float, cold: bool) -> None:
        body = (f'"rss_mb":{MEMORY_MB * 0.92},"limit_mb":{MEMORY_MB},"elapsed_ms":{round(t, 3)},'
                '"in_flight":[]')
        self.lines.append(self.record(rid, "memory_warning", start + t, body))
        if not self.json_format:
            self.lines.append(f"RequestId: {rid} Error: Runtime exited with error: signal: killed")
            self.lines.append("Runtime.ExitError")
        self.expected["oom_kills"] += 1
        self.finish(rid, start, t + 40.0, cold, "oom")
        self.env_invocations_left = 0

    def finish(self, rid: str, start: float, t: float, cold: bool, status: Optional[str]) -> None:
        rng = self.rng
        duration = round(t, 2)
        billed = int(-(-(t + (self.init_ms if cold else 0.0)) // 1))
        max_mem = MEMORY_MB if status == "oom" else rng.randint(70, 140)
        end = start + t
        exp = self.expected
        exp["reports"] += 1
        exp["cold_starts"] += int(cold)
        if self.json_format:
            metrics = (f'"durationMs":{round(t, 3)},"billedDurationMs":{billed},'
                       f'"memorySizeMB":{MEMORY_MB},"maxMemoryUsedMB":{max_mem}')
            if cold:
                metrics += f',"initDurationMs":{self.init_ms}'
            js_status = {None: "success", "error": "error", "timeout": "timeout",
                         "oom": "error"}[status]
            extra = ',"errorType":"Runtime.OutOfMemory"' if status == "oom" else ""
            self.lines.append(
                '{"time":"%s","type":"platform.report","record":{"requestId":"%s","metrics":{%s},'
                '"status":"%s"%s}}' % (iso(end + 1), rid, metrics, js_status, extra))
            exp["report_duration_ms"] += round(t, 3)
            return
        self.lines.append(f"END RequestId: {rid}")
        report = (f"REPORT RequestId: {rid}\tDuration: {duration:.2f} ms\tBilled Duration: "
                  f"{billed} ms\tMemory Size: {MEMORY_MB} MB\tMax Memory Used: {max_mem} MB\t")
        if cold:
            report += f"Init Duration: {self.init_ms:.2f} ms\t"
        if status == "timeout":
            report += "Status: timeout"
        elif status == "oom":
            report += "Status: error\tError Type: Runtime.OutOfMemory"
        self.lines.append(report)
        exp["report_duration_ms"] += float(f"{duration:.2f}")
        if self.xray:
            self.lines.append(f"XRAY TraceId: 1-{int(end) // 1000:08x}-{rng.getrandbits(96):024x}"
                              f"\tSegmentId: {rng.getrandbits(64):016x}\tSampled: true\t")
        self.now_ms = end + rng.uniform(1, 400)


def generate(out: Path, size: int, seed: int) -> dict[str, Any]:
    """Write ``out`` (about ``size`` bytes, whole invocations) and its expected totals."""
    gen = Generator(seed)
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    _DAYS.clear()
    tmp = out.with_suffix(f"{out.suffix}.{os.getpid()}.tmp")  # concurrent runs never collide
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        while written < size:
            for _ in range(20):
                gen.invocation()
            chunk = "\n".join(gen.lines) + "\n"
            gen.lines.clear()
            f.write(chunk)
            written += len(chunk.encode("utf-8"))
    tmp.replace(out)
    expected = dict(gen.expected, bytes=out.stat().st_size, seed=seed, size=size,
                    generator_version=GENERATOR_VERSION)
    Path(str(out) + ".expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    return expected


def ensure(out: Path, size: int, seed: int = 1) -> dict[str, Any]:
    """Generate ``out`` unless an identical one (same size, seed, generator) is already there."""
    sidecar = Path(str(out) + ".expected.json")
    if out.exists() and sidecar.exists():
        try:
            expected = json.loads(sidecar.read_text())
        except ValueError:
            expected = {}
        if (expected.get("size") == size and expected.get("seed") == seed
                and expected.get("generator_version") == GENERATOR_VERSION
                and expected.get("bytes") == out.stat().st_size):
            return expected
    return generate(out, size, seed)


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().rstrip("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=parse_size, required=True, help="e.g. 100M, 1G")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    expected = ensure(args.out, args.size, args.seed)
    print(json.dumps({k: v for k, v in expected.items() if "deps" not in k}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
