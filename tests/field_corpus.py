"""Hand-checked expectations for the real log lines in tests/data/field/ (PROVENANCE.md).

Each case is one pasted block from one public source, analysed on its own as a plain-text
input, the way its author pasted it. The expected values were read off the lines by hand
(and the AWS docs on what each line means), not produced by the analyzer:

* ``events``: the platform events the block holds (START/END/REPORT, INIT_*, timeouts,
  runtime and extension faults, EXTENSION lines), with the fields that matter.
* ``causes``: the failure causes a report on that block should name, as (finding kind,
  detail): the error type for code/init/extension failures, the IAM action for a denial.

``measure()`` gives the exact-match rates; run this file to print them.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

FIELD = Path(__file__).resolve().parent / "data" / "field"

#: platform event types and the fields compared for each
PLATFORM_FIELDS: dict[str, tuple[str, ...]] = {
    "start": ("request_id",),
    "end": ("request_id",),
    "report": ("request_id", "duration_ms", "memory_size_mb", "max_memory_used_mb",
               "init_duration_ms", "status", "error_type"),
    "init_start": ("runtime_version",),
    "init_report": ("phase", "status", "error_type", "duration_ms"),
    "timeout": ("request_id", "seconds"),
    "runtime_exit": ("request_id", "error_type"),
    "extension": ("name", "state", "error_type"),
    "subscription": ("name", "state"),
}

#: finding kinds that name a failure cause
CAUSE_KINDS = frozenset({
    "no_invocations", "timeout", "out_of_memory", "memory_pressure", "init_failure",
    "permission_denied", "code_error", "throttling", "dependency_error", "extension_failure",
    "runtime_crash", "resource_limit",
})

Ev = tuple[Any, ...]


def ev(type_: str, *values: Any) -> Ev:
    assert len(values) == len(PLATFORM_FIELDS[type_]), type_
    return (type_, *values)


def report(rid: str, duration: float, size: int, peak: int, init: Optional[float] = None,
           status: str = "success", error_type: Optional[str] = None) -> Ev:
    # The event model (docs/events.md): a REPORT without a Status field has status "success".
    return ev("report", rid, duration, size, peak, init, status, error_type)


@dataclass
class Case:
    name: str
    file: str
    lines: tuple[int, int]
    events: list[Ev]
    causes: set[tuple[str, Optional[str]]] = field(default_factory=set)


IE = "Runtime.InvalidEntrypoint"
R_EF3 = "a160dc83-9aa0-4d31-93e0-62c4b77c3d79"
R_OT = "b3e49638-9b9d-4f61-8ff9-c00b762c6453"

CASES = [
    Case("datadog-263", "extension_failures.log", (1, 2), [
        ev("runtime_exit", "xyz", "Extension.Crash"),
        ev("init_report", "invoke", "error", "Extension.Crash", 4447.52),
    ], {("extension_failure", "Extension.Crash")}),
    Case("otel-750", "extension_failures.log", (3, 7), [
        ev("runtime_exit", R_OT, "Extension.Crash"),
        ev("end", R_OT),
        report(R_OT, 1531.32, 256, 46),
        ev("start", R_OT),
        ev("extension", "layer", "Ready", None),
    ], {("extension_failure", "Extension.Crash")}),
    Case("elastic-92", "extension_failures.log", (8, 13), [
        ev("start", R_EF3),
        ev("extension", "apm-lambda-extension", "LaunchError", "UnknownError"),
        ev("end", R_EF3),
        report(R_EF3, 22.66, 128, 3),
        ev("runtime_exit", R_EF3, "Extension.LaunchError"),
    ], {("extension_failure", "Extension.LaunchError")}),
    Case("elastic-145", "extension_failures.log", (14, 21), [
        ev("start", "5cea4d67-8113-4e47-b319-2c806ef09699"),
    ], set()),
    Case("ed-roh-9", "invalid_entrypoint.log", (1, 7), [
        ev("init_report", "init", "error", IE, 1.49),
        ev("init_report", "invoke", "error", IE, 0.68),
        ev("start", "8e4fda21-3939-4a20-8d52-8eb18debcd13"),
        ev("runtime_exit", "8e4fda21-3939-4a20-8d52-8eb18debcd13", IE),
        ev("end", "8e4fda21-3939-4a20-8d52-8eb18debcd13"),
        report("8e4fda21-3939-4a20-8d52-8eb18debcd13", 21.31, 128, 3),
    ], {("init_failure", IE)}),
    Case("aws-lambda-go-554", "invalid_entrypoint.log", (8, 14), [
        ev("init_report", "init", "error", IE, 1.57),
        ev("init_report", "invoke", "error", IE, 1.80),
        ev("start", "d515bace-9d56-4982-bd7c-0b5d3dfdd550"),
        ev("runtime_exit", "d515bace-9d56-4982-bd7c-0b5d3dfdd550", IE),
        ev("end", "d515bace-9d56-4982-bd7c-0b5d3dfdd550"),
        report("d515bace-9d56-4982-bd7c-0b5d3dfdd550", 21.80, 128, 3),
    ], {("init_failure", IE)}),
    Case("dart-runtime-20", "invalid_entrypoint.log", (15, 19), [
        ev("start", "a81f0097-a81f-48ac-88e7-cdecf090bc91"),
        ev("end", "a81f0097-a81f-48ac-88e7-cdecf090bc91"),
        report("a81f0097-a81f-48ac-88e7-cdecf090bc91", 0.88, 128, 6),
        ev("runtime_exit", "a81f0097-a81f-48ac-88e7-cdecf090bc91", IE),
    ], {("init_failure", IE)}),
    Case("contactform-29", "invalid_entrypoint.log", (20, 20), [
        report("83269395-33ee-45a8-8a99-38f67b6faf72", 11.48, 128, 10, None, "error", IE),
    ], {("init_failure", IE)}),
    Case("cloudfront-samples-30", "timeouts.log", (1, 6), [
        ev("start", "dbb585bb-3a54-4d1a-a690-54e5085c55f8"),
        ev("end", "dbb585bb-3a54-4d1a-a690-54e5085c55f8"),
        report("dbb585bb-3a54-4d1a-a690-54e5085c55f8", 300099.78, 128, 28, 170.57),
        ev("timeout", "dbb585bb-3a54-4d1a-a690-54e5085c55f8", 300.10),
    ], {("timeout", None)}),
    Case("dotnet-269", "timeouts.log", (7, 26), [
        ev("start", "b0bf19d0-76c7-4db5-b598-af7efb9ef3e9"),
        ev("end", "b0bf19d0-76c7-4db5-b598-af7efb9ef3e9"),
        report("b0bf19d0-76c7-4db5-b598-af7efb9ef3e9", 30030.16, 512, 49),
        ev("timeout", "b0bf19d0-76c7-4db5-b598-af7efb9ef3e9", 30.03),
    ], {("timeout", None)}),
    Case("datadog-1237", "timeouts.log", (27, 33), [
        ev("init_report", "invoke", "timeout", None, 180000.45),
        report("514789fd-5e24-49c5-a41c-24c049a36e2a", 180000.00, 192, 192, None, "timeout"),
    ], {("timeout", None), ("init_failure", "timeout"), ("memory_pressure", None)}),
    Case("datadog-187", "crashes.log", (1, 2), [
        ev("runtime_exit", "45b36944-5896-4d3b-a4eb-b2af494eb662", "Runtime.ExitError"),
    ], {("runtime_crash", None)}),
    Case("phantom-scraper-1", "crashes.log", (3, 12), [
        ev("start", "0a8ba602-9c8b-11e6-8685-b534d911b2bb"),
        ev("end", "0a8ba602-9c8b-11e6-8685-b534d911b2bb"),
        report("0a8ba602-9c8b-11e6-8685-b534d911b2bb", 115.49, 128, 13),
        ev("runtime_exit", None, None),
        ev("start", "96cf9fc6-9cbd-11e6-a0ed-17678d5942a9"),
        ev("end", "96cf9fc6-9cbd-11e6-a0ed-17678d5942a9"),
        report("96cf9fc6-9cbd-11e6-a0ed-17678d5942a9", 27.63, 1536, 5),
        ev("runtime_exit", None, None),
    ], {("runtime_crash", None)}),
    Case("elb2loggly-1", "crashes.log", (13, 17), [
        ev("start", "4b4459a1-eeb1-11e4-bd95-b14278e4e77b"),
        ev("runtime_exit", None, None),
    ], {("code_error", "TypeError")}),
    Case("domain-protect-14", "permission_denied.log", (1, 9), [],
         {("permission_denied", "sts:AssumeRole")}),
    Case("domain-protect-13", "permission_denied.log", (10, 18), [],
         {("permission_denied", "sts:AssumeRole")}),
    Case("costbuddy-15", "permission_denied.log", (19, 27), [
        ev("start", "f4e0238b-1360-4488-b160-511b086d0bcf"),
    ], {("permission_denied", "sts:AssumeRole")}),
    Case("pgdump-41", "permission_denied.log", (28, 37), [
        ev("start", "ab6ee9a3-2ce8-460e-94c6-18a13c4f15c4"),
    ], {("permission_denied", None)}),
    Case("ito-454", "runtime_errors.log", (1, 5), [],
         {("resource_limit", "response_payload")}),
    Case("image-handler-193", "runtime_errors.log", (6, 6), [],
         {("resource_limit", "response_payload")}),
    Case("hyp3-2269", "runtime_errors.log", (7, 7), [],
         {("init_failure", "Runtime.ImportModuleError")}),
    Case("health-aware-112", "runtime_errors.log", (8, 8), [],
         {("init_failure", "Runtime.ImportModuleError")}),
    Case("cdk-ecr-651", "runtime_errors.log", (9, 11), [
        ev("init_start", "provided:al2023.v16"),
        ev("init_report", "init", "error", IE, 0.44),
        ev("init_report", "invoke", "error", IE, 0.49),
    ], {("init_failure", IE)}),
    Case("console-63-summary", "runtime_errors.log", (12, 13), [],
         {("resource_limit", "response_payload")}),
    Case("console-63-logs", "runtime_errors.log", (14, 23), [
        ev("start", "e56f2ba8-155b-4fef-9186-3bd67b8dd9ed"),
    ], set()),
    Case("base-images-392", "runtime_errors.log", (24, 24), [
        ev("start", "21706b0d-9561-4a3d-a4f6-ddfc24be6d07"),
    ], set()),
    # (added after the first measurement; see PROVENANCE.md)
    Case("telemetry-failure-readme", "telemetry_extension.log", (1, 3), [
        ev("init_start", "nodejs:18.v4"),
        ev("subscription", "index.js", "Subscribed"),
        ev("init_start", "nodejs:18.v4"),
        ev("subscription", "index.js", "Already subscribed"),
    ], {("no_invocations", None)}),  # two inits, no invocation in these lines
    # Lambda quotas (resource_limits.log): no platform line in these pastes
    Case("cloud-custodian-8577", "resource_limits.log", (1, 23), [],
         {("resource_limit", "ephemeral_storage")}),  # logged by the code, still the quota
    Case("streamalert-613", "resource_limits.log", (24, 35), [],
         {("resource_limit", "ephemeral_storage")}),
    Case("linter-bot-158", "resource_limits.log", (36, 45), [],
         {("resource_limit", "ephemeral_storage")}),
    Case("streamalert-587", "resource_limits.log", (46, 60), [],
         {("resource_limit", "file_descriptors")}),
    Case("powertools-4003", "resource_limits.log", (61, 67), [],
         {("resource_limit", "file_descriptors")}),  # a GetParameterError carrying Errno 24
    Case("raven-python-lambda-38", "resource_limits.log", (83, 93), [],
         {("resource_limit", "threads")}),
    Case("sentry-python-2741", "resource_limits.log", (94, 100), [],
         {("resource_limit", "threads")}),
    Case("segmentio-110", "resource_limits.log", (101, 114), [],
         {("resource_limit", "threads")}),
]


def case_text(case: Case) -> str:
    with (FIELD / case.file).open(encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    first, last = case.lines
    return "\n".join(lines[first - 1:last]) + "\n"


def run_cli(argv: list[str]) -> tuple[int, str]:
    from lambda_trace.analyzer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        buffer = io.BytesIO()
        out.buffer = buffer  # type: ignore[attr-defined]  # the events command writes bytes
        code = main(argv)
    text = out.getvalue() + buffer.getvalue().decode("utf-8")
    return code, text


def actual(case: Case) -> tuple[list[Ev], set[tuple[str, Optional[str]]]]:
    """The platform events and failure causes the analyzer finds in one case."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case.name}.log"
        path.write_text(case_text(case), encoding="utf-8")
        _, events_out = run_cli(["events", str(path)])
        _, report_out = run_cli(["analyze", str(path), "--format", "json"])
    events = []
    for line in events_out.splitlines():
        event = json.loads(line)
        names = PLATFORM_FIELDS.get(event["type"])
        if names is not None:
            events.append((event["type"], *(_norm(event.get(n)) for n in names)))
    return events, causes_of(json.loads(report_out))


def causes_of(report: dict[str, Any]) -> set[tuple[str, Optional[str]]]:
    causes: set[tuple[str, Optional[str]]] = set()
    for finding in report["findings"]:
        kind, evidence = finding["kind"], finding["evidence"]
        if kind not in CAUSE_KINDS:
            continue
        if kind == "permission_denied":
            causes.update((kind, row.get("action")) for row in evidence.get("denied", []))
        elif kind in ("code_error", "extension_failure"):
            causes.add((kind, evidence.get("error_type")))
        elif kind == "init_failure":
            causes.add((kind, evidence.get("error_type") or evidence.get("status")))
        elif kind == "dependency_error":
            causes.add((kind, evidence.get("name")))
        elif kind == "resource_limit":
            causes.add((kind, evidence.get("limit")))
        else:
            causes.add((kind, None))
    return causes


def _norm(value: Any) -> Any:
    return round(value, 2) if isinstance(value, float) else value


def event_matches(expected: list[Ev], got: list[Ev]) -> tuple[int, int]:
    """(matched, compared): a multiset match; an extra or a missing event is a miss."""
    want = Counter(tuple(_norm(v) for v in e) for e in expected)
    have = Counter(got)
    matched = sum((want & have).values())
    return matched, sum((want | have).values())


def measure() -> dict[str, Any]:
    matched = compared = cause_exact = 0
    rows = []
    for case in CASES:
        events, causes = actual(case)
        m, c = event_matches(case.events, events)
        matched += m
        compared += c
        ok = causes == case.causes
        cause_exact += ok
        rows.append((case.name, m, c, ok, sorted(causes, key=str)))
    return {
        "cases": len(CASES),
        "events_matched": matched,
        "events_compared": compared,
        "event_rate": matched / compared if compared else 1.0,
        "causes_exact": cause_exact,
        "cause_rate": cause_exact / len(CASES),
        "rows": rows,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(FIELD.parents[2]))
    result = measure()
    for name, m, c, ok, causes in result["rows"]:
        print(f"{name:24} events {m}/{c}  causes {'ok ' if ok else 'BAD'} {causes}")
    print(f"platform events: {result['events_matched']}/{result['events_compared']} "
          f"= {result['event_rate']:.1%}")
    print(f"failure causes:  {result['causes_exact']}/{result['cases']} cases exact "
          f"= {result['cause_rate']:.1%}")
