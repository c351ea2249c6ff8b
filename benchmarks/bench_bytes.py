"""What leaving lambda-trace on costs in CloudWatch: log bytes and lines, EMF documents, series.

One run measures, side by side: lambda-trace before schema v2 (the merge base's code, when git
has it), the default mode for an ordinary and for a slow invocation (tail-based detail), modes
``all`` and ``none``, the default at one invocation per minute (the batch flushes each time),
Powertools Logger (``inject_lambda_context`` and one ``info`` line) and Lambda's own
START/END/REPORT lines. Each row is its own worker process making the same 6 downstream calls
to 6 dependencies per invocation (DynamoDB GetItem and Query, S3 HeadObject and SQS SendMessage
through botocore's Stubber; HTTP GETs to a loopback server as 127.0.0.1 and as localhost),
writing to a pipe like Lambda's stdout.

Cost is CloudWatch Logs ingestion at $0.50 per GB (GB = 2^30 bytes) of the lines' bytes;
metric series are distinct (namespace, metric, dimension values) seen in a run's EMF, for a run
of successes and for one where every 10th invocation fails and every 7th GetItem is throttled.

    .venv/bin/python benchmarks/bench_bytes.py [--smoke] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
START, END = "<!-- bench:bytes:start -->", "<!-- bench:bytes:end -->"
PRICE_PER_GB = 0.50
GB = 2**30
#: A 150 ms invocation at 256 MB (the issue's example) at $0.0000166667 per GB-second.
COMPUTE_PER_MILLION = 0.150 * 0.25 * 0.0000166667 * 1e6
MARK = "#-- invocation"
FUNCTION = "orders-api"

ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "_X_AMZN_TRACE_ID": "Root=1-6745a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;"
                        "Sampled=0",
}

#: row name -> (worker kind, extra environment, one invocation per minute?)
ROWS: dict[str, tuple[str, dict[str, str], bool]] = {
    "lambda-trace before v2 (mode all was the default)": ("before", {}, False),
    "lambda-trace default, ordinary invocation": ("trace", {}, False),
    "lambda-trace default, slow invocation (every call's line)":
        ("trace", {"LAMBDA_TRACE_SLOW_MS": "0"}, False),
    "lambda-trace CALL_LINES=all": ("trace", {"LAMBDA_TRACE_CALL_LINES": "all"}, False),
    "lambda-trace CALL_LINES=none": ("trace", {"LAMBDA_TRACE_CALL_LINES": "none"}, False),
    "lambda-trace default, one invocation per minute": ("trace", {}, True),
    "Powertools Logger (inject_lambda_context + 1 info line)": ("powertools", {}, False),
}


# -- the worker (one process per row) ---------------------------------------------------------


def worker(kind: str, invocations: int, per_minute: bool, failing: bool) -> None:
    import http.server
    import threading
    import uuid

    import boto3
    from botocore.stub import Stubber

    class Quiet(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"

    ddb, s3, sqs = (boto3.client(s) for s in ("dynamodb", "s3", "sqs"))
    stubs = [Stubber(c) for c in (ddb, s3, sqs)]
    for stub in stubs:
        stub.activate()
    count = [0]

    def work(event: dict[str, Any]) -> dict[str, Any]:
        import urllib.request

        count[0] += 1
        if failing and count[0] % 7 == 0:
            stubs[0].add_client_error("get_item", "ProvisionedThroughputExceededException",
                                      http_status_code=400)
        else:
            stubs[0].add_response("get_item", {"Item": {"id": {"S": "42"}}})
        with contextlib.suppress(ddb.exceptions.ProvisionedThroughputExceededException):
            ddb.get_item(TableName="orders", Key={"id": {"S": "42"}})
        stubs[0].add_response("query", {"Items": [], "Count": 0})
        ddb.query(TableName="order-lines", KeyConditionExpression="id = :id",
                  ExpressionAttributeValues={":id": {"S": "42"}})
        stubs[1].add_response("head_object", {"ContentLength": 10})
        s3.head_object(Bucket="order-docs", Key="receipts/42.pdf")
        stubs[2].add_response("send_message", {"MessageId": str(uuid.uuid4())})
        sqs.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/orders",
                         MessageBody="{}")
        for host in ("127.0.0.1", "localhost"):  # two HTTP dependencies (names carry the host)
            urllib.request.urlopen(url.replace("127.0.0.1", host) + "/price/42").read()
        if event.get("fail"):
            raise RuntimeError("payment declined")
        return {"statusCode": 200, "body": "{}"}

    if kind == "powertools":
        from aws_lambda_powertools import Logger

        logger = Logger(service=FUNCTION)

        @logger.inject_lambda_context
        def handler(event: dict[str, Any], context: Any) -> Any:
            result = work(event)
            logger.info("order placed")
            return result
    else:
        from lambda_trace import trace

        handler = trace(lambda event, context: work(event))

    sys.path.insert(0, str(BENCH_DIR))
    from workload import FakeContext

    shift = [0]
    if per_minute:  # every invocation a minute after the previous one, as a quiet function
        real = time.time_ns
        time.time_ns = lambda: real() + shift[0]  # type: ignore[assignment]
    for i in range(invocations):
        os.write(1, f"{MARK} {i}\n".encode())
        event = {"fail": failing and i % 10 == 9}
        with contextlib.suppress(RuntimeError):
            handler(event, FakeContext(str(uuid.uuid4()), timeout_s=3.0))
        shift[0] += 60 * 10**9
    os.write(1, f"{MARK} end\n".encode())
    waiting = None
    import lambda_trace

    if kind == "trace" and os.path.exists(
        os.path.join(os.path.dirname(lambda_trace.__file__), "_batch.py")
    ):  # lambda-trace before v2 has no batch
        from lambda_trace import _batch

        waiting = _batch.batch.waiting()

    print(f"lambda_trace from {lambda_trace.__file__}", file=sys.stderr)
    os.write(1, f"{MARK} waiting {waiting} calls {count[0] * 6}\n".encode())
    if waiting:  # published only to count the series they belong to (not in the bytes)
        from lambda_trace._lifecycle import flush_batch

        flush_batch()
    os._exit(0)  # no exit handlers: like Lambda stopping an environment


# -- the parent ----------------------------------------------------------------------------------


def before_tree(log: Any) -> Optional[str]:
    """The merge base's lambda_trace (schema v1) unpacked in a temporary directory."""
    try:
        base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=REPO_DIR,
                              capture_output=True, text=True, check=True).stdout.strip()
        if not base or subprocess.run(["git", "cat-file", "-e", f"{base}:lambda_trace/_records.py"],
                                      cwd=REPO_DIR).returncode:
            return None
        out = tempfile.mkdtemp(prefix="lt-before-")
        archive = subprocess.run(["git", "archive", base, "lambda_trace"], cwd=REPO_DIR,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", out], input=archive, check=True)
        if b"SCHEMA_VERSION = 1" not in Path(out, "lambda_trace", "_contract.py").read_bytes():
            return None  # the base already writes v2: there is no "before" to show
        log(f"  before v2: lambda_trace of {base[:10]}")
        return out
    except (OSError, subprocess.CalledProcessError):
        return None


def run_row(python: str, kind: str, extra: dict[str, str], per_minute: bool, invocations: int,
            failing: bool, before: Optional[str]) -> dict[str, Any]:
    path = before if kind == "before" else str(REPO_DIR)
    env = {**os.environ, **ENV, **extra, "PYTHONPATH": os.pathsep.join([path, str(BENCH_DIR)])}
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    env.pop("POWERTOOLS_METRICS_NAMESPACE", None)
    args = [python, __file__, "--worker", "powertools" if kind == "powertools" else "trace",
            "--invocations", str(invocations)]
    if per_minute:
        args.append("--per-minute")
    if failing:
        args.append("--failing")
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"worker {kind} failed: {out.stderr[-2000:]}")
    expected = os.path.join(path, "lambda_trace")
    if kind != "powertools" and expected not in out.stderr:
        raise RuntimeError(f"worker {kind} did not run {expected}: {out.stderr[-2000:]}")
    return split(out.stdout)


def kind_of(line: str) -> str:
    if line.startswith('{"_aws"'):
        return "emf"
    try:
        obj = json.loads(line)
    except ValueError:
        return "other"
    if isinstance(obj, dict) and "lambda_trace" in obj:
        return str(obj.get("type"))
    if isinstance(obj, dict) and "level" in obj:
        return "powertools"
    return "other"


def split(stdout: str) -> dict[str, Any]:
    per: list[list[str]] = []
    after: list[str] = []  # the batch published after the run, for the series count only
    waiting = calls = None
    ended = False
    for line in stdout.splitlines():
        if line.startswith(MARK):
            rest = line[len(MARK):].split()
            if rest[0] == "waiting":
                waiting = None if rest[1] == "None" else int(rest[1])
                calls = int(rest[3])
            elif rest[0] == "end":
                ended = True
            else:
                per.append([])
            continue
        if ended:
            after.append(line)
        elif per:
            per[-1].append(line)
    return {"invocations": per, "after": after, "waiting_at_exit": waiting, "calls": calls}


def lambda_platform_lines() -> list[str]:
    """START, END and REPORT as Lambda writes them in the Text log format (no X-Ray line).

    https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
    """
    rid = "8f5e2c7a-4b1d-4c3e-9a2f-1b2c3d4e5f60"
    return [
        f"START RequestId: {rid} Version: $LATEST",
        f"END RequestId: {rid}",
        f"REPORT RequestId: {rid}\tDuration: 152.35 ms\tBilled Duration: 153 ms\t"
        "Memory Size: 256 MB\tMax Memory Used: 87 MB\t",
    ]


def summarise(per: list[list[str]]) -> dict[str, Any]:
    """Per invocation (warm ones: the first is skipped): bytes and lines by record type."""
    warm = per[1:] if len(per) > 1 else per
    kinds = sorted({kind_of(line) for inv in warm for line in inv})

    def size(lines: list[str]) -> int:
        return sum(len(line.encode()) + 1 for line in lines)  # the newline is written too

    by_kind = {}
    for k in kinds:
        sizes = [size([ln for ln in inv if kind_of(ln) == k]) for inv in warm]
        counts = [sum(1 for ln in inv if kind_of(ln) == k) for inv in warm]
        by_kind[k] = {"bytes_median": statistics.median(sizes),
                      "bytes_mean": statistics.fmean(sizes),
                      "lines_median": statistics.median(counts),
                      "lines_mean": statistics.fmean(counts)}
    totals = [size(inv) for inv in warm]
    docs = [sum(1 for ln in inv if kind_of(ln) == "emf") for inv in warm]
    return {
        "warm_invocations": len(warm),
        "by_kind": by_kind,
        "bytes_median": statistics.median(totals),
        "bytes_mean": statistics.fmean(totals),
        "lines_median": statistics.median([len(inv) for inv in warm]),
        "emf_docs_median": statistics.median(docs),
        "emf_docs_mean": statistics.fmean(docs),
        "usd_per_million": statistics.fmean(totals) * 1e6 / GB * PRICE_PER_GB,
    }


def series(per: list[list[str]]) -> list[str]:
    """Distinct metric series: namespace, metric name and its dimension values."""
    found = set()
    for inv in per:
        for line in inv:
            if kind_of(line) != "emf":
                continue
            doc = json.loads(line)
            for directive in doc["_aws"]["CloudWatchMetrics"]:
                for dims in directive["Dimensions"]:
                    key = ",".join(f"{d}={doc.get(d)}" for d in dims)
                    for metric in directive["Metrics"]:
                        found.add(f"{directive['Namespace']}/{metric['Name']} [{key}]")
    return sorted(found)


def run(python: str, smoke: bool, log: Any) -> dict[str, Any]:
    invocations = 12 if smoke else 301
    before = before_tree(log)
    rows = []
    series_rows = []
    for name, (kind, extra, per_minute) in ROWS.items():
        if kind == "before" and before is None:
            continue
        log(f"  {name}")
        got = run_row(python, kind, extra, per_minute, invocations, False, before)
        row = {"row": name, **summarise(got["invocations"]),
               "waiting_at_exit": got["waiting_at_exit"], "calls": got["calls"]}
        rows.append(row)
        if kind in ("before", "trace") and not extra and not per_minute:
            ok = series([*got["invocations"], got["after"]])
            failing = run_row(python, kind, extra, per_minute, invocations, True, before)
            bad = series([*failing["invocations"], failing["after"]])
            series_rows.append({"row": name, "successes": len(ok), "with_failures": len(bad),
                                "series": ok, "failure_series": sorted(set(bad) - set(ok))})
    platform = lambda_platform_lines()
    size = sum(len(line) + 1 for line in platform)
    rows.append({"row": "Lambda's own START/END/REPORT lines", "bytes_median": size,
                 "bytes_mean": size, "lines_median": 3, "emf_docs_median": 0,
                 "emf_docs_mean": 0, "by_kind": {"platform": {
                     "bytes_median": size, "bytes_mean": size, "lines_median": 3,
                     "lines_mean": 3}},
                 "usd_per_million": size * 1e6 / GB * PRICE_PER_GB})
    return {"name": "bytes", "invocations": invocations, "rows": rows, "series": series_rows,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |",
           "|:---|" + "|".join("---:" for _ in header[1:]) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def render(results: dict[str, Any]) -> str:
    kinds = ["call", "invocation", "emf", "powertools", "platform"]
    rows = []
    for r in results["rows"]:
        cells = [r["row"]]
        for k in kinds:
            got = r["by_kind"].get(k)
            cells.append(f"{got['bytes_median']:.0f} B / {got['lines_median']:g}" if got else "-")
        cells += [f"**{r['bytes_median']:.0f}**", f"{r['bytes_mean']:.0f}",
                  f"{r['emf_docs_median']:g} ({r['emf_docs_mean']:.2f})",
                  f"${r['usd_per_million']:.3f}"]
        rows.append(cells)
    parts = [
        f"_Measured {results['date']}: {results['invocations']} invocations per row (the cold "
        "first one left out), 6 downstream calls each; rerun with "
        "`.venv/bin/python benchmarks/bench_bytes.py --write BENCHMARKS.md`._",
        "",
        table(["row", "call lines: bytes / lines", "invocation record", "EMF", "Powertools",
               "Lambda", "bytes per invocation (median)", "mean", "EMF documents: median (mean)",
               "$ per million (mean bytes)"], rows),
        "",
        f"For scale: the compute of a 150 ms invocation at 256 MB costs "
        f"${COMPUTE_PER_MILLION:.3f} per million.",
    ]
    lost = [r for r in results["rows"] if r.get("waiting_at_exit") is not None]
    if lost:
        parts += ["", "Downstream latencies still waiting in the batch when the process "
                  "stopped (what a Lambda shutdown loses from `DownstreamLatency`; the "
                  "invocation records keep them):", ""]
        parts.append(table(["row", "values waiting at the stop", "downstream calls made"],
                           [[r["row"], r["waiting_at_exit"], r["calls"]] for r in lost]))
    parts += ["", "Metric series per function (distinct namespace, metric and dimension "
              "values; 6 dependencies):", ""]
    parts.append(table(["row", "a run of successes", "with failures (10% failing, throttled "
                        "GetItems)", "series that failures add"],
                       [[s["row"], s["successes"], s["with_failures"],
                         "<br>".join(f"`{x}`" for x in s["failure_series"]) or "-"]
                        for s in results["series"]]))
    return "\n".join(parts)


def write(doc: Path, text: str) -> None:
    content = doc.read_text(encoding="utf-8")
    block = f"{START}\n\n{text}\n\n{END}"
    if START in content and END in content:
        head, rest = content.split(START, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(content, encoding="utf-8")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--write", type=Path, help="put the tables into this Markdown file")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--invocations", type=int, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--per-minute", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--failing", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.invocations, args.per_minute, args.failing)
        return 0

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    results = run(os.path.abspath(args.python), args.smoke, log)
    text = render(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    if args.write:
        write(args.write, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
