"""A finding's structured evidence as people read it: one sentence, facts, small tables.

Every renderer shows the same view; only the JSON report keeps the raw structure. Units follow
the key's suffix (``_ms``, ``_mb``, ``_seconds``), fractions named ``rate`` or ``share`` become
percentages, booleans become yes/no, and nothing is cut inside a structure: a list of rows is a
table, a list of values a comma-separated list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from lambda_trace.analyzer.render.common import MISSING, clean, fmt_ms

#: keys the renderers show in their own way (a policy as a JSON block)
SHOWN_ELSEWHERE = frozenset({"suggested_policy"})

_UNIT_SUFFIXES = ("_ms", "_mb", "_seconds", "_pct")


@dataclass
class EvidenceTable:
    title: str
    headers: list[str]
    rows: list[list[str]]
    #: per column: right-aligned (a number)
    numeric: list[bool]


@dataclass
class EvidenceView:
    sentence: Optional[str] = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[EvidenceTable] = field(default_factory=list)


def describe(finding: Mapping[str, Any]) -> EvidenceView:
    """The human view of ``finding['evidence']`` (the finding's other keys give context)."""
    evidence = finding.get("evidence") or {}
    if not isinstance(evidence, dict):
        return EvidenceView(facts=[("evidence", clean(evidence, 400))])
    sentence: Optional[str] = None
    used: set[str] = set()
    builder = _SENTENCES.get(str(finding.get("kind")))
    if builder is not None:
        try:
            sentence, used = builder(evidence)
        except (KeyError, TypeError, ValueError):  # an older or newer evidence shape
            sentence, used = None, set()
    view = EvidenceView(sentence=sentence)
    subject = finding.get("subject")
    for key, value in evidence.items():
        if key in used or key in SHOWN_ELSEWHERE or value is None:
            continue
        if key == "name" and value == subject:
            continue
        if _is_rows(value):
            view.tables.append(_table(key, value))
        elif isinstance(value, list) and not value:
            continue
        else:
            view.facts.append((label(key), fmt_value(key, value)))
    return view


def label(key: str) -> str:
    """``max_memory_used_p99_mb`` -> ``max memory used p99`` (the unit goes with the value)."""
    text = str(key)
    for suffix in _UNIT_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text.replace("_", " ")


def is_fraction_key(key: str) -> bool:
    key = str(key)
    return key == "rate" or key.endswith("_rate") or "share" in key


def fmt_value(key: str, value: Any) -> str:
    """One evidence value as text, in the unit its key names."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_value(key, v) for v in value) or MISSING
    if isinstance(value, dict):
        return ", ".join(f"{clean(k, 80)}: {fmt_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, (int, float)):
        return _fmt_number(str(key), value)
    return clean(value, 400)


def fmt_pct_of(value: Optional[float]) -> str:
    """A fraction (0..1) as a percentage with the precision small shares need."""
    if value is None:
        return MISSING
    pct = value * 100
    if pct and abs(pct) < 0.1:
        return f"{pct:.2f}%"
    return f"{pct:.1f}%"


def _fmt_number(key: str, value: float) -> str:
    if key.endswith("_ms"):
        return fmt_ms(value)
    if key.endswith("_mb"):
        return f"{_plain(value, grouped=False)} MB"
    if key.endswith("_seconds"):
        return f"{_plain(value)} s"
    if key.endswith("_pct"):
        return f"{value:+.1f}%"
    if key.startswith("usd_"):
        return f"${value:,.2f}"
    if key.startswith("price_"):
        return "$" + f"{value:.10f}".rstrip("0").rstrip(".")
    if key.startswith("gb_seconds"):
        return f"{value:,.1f} GB-s"
    if is_fraction_key(key):
        return fmt_pct_of(value)
    return _plain(value)


def _plain(value: float, grouped: bool = True) -> str:
    sep = "," if grouped else ""
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):{sep}}"
    return f"{value:{sep}.2f}".rstrip("0").rstrip(".")


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


_TABLE_TITLES = {
    "in_flight": "Calls in flight at the timeout",
    "sizes": "By memory size",
    "denied": "Denied requests",
}


def _table(key: str, rows: Sequence[Mapping[str, Any]]) -> EvidenceTable:
    keys: list[str] = []
    for row in rows:
        for k in row:
            if k not in keys and any(r.get(k) is not None for r in rows):
                keys.append(k)
    headers = [_header(k) for k in keys]
    body = [[fmt_value(k, row.get(k)) for k in keys] for row in rows]
    numeric = [
        all(isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
            for r in rows if r.get(k) is not None)
        for k in keys
    ]
    return EvidenceTable(_TABLE_TITLES.get(key, label(key).capitalize()), headers, body, numeric)


def _header(key: str) -> str:
    text = label(key)
    if key.endswith("_ms"):
        return text
    if key.endswith("_mb"):
        return text + " (MB)" if text != "memory size" else "memory size"
    return text


# -- one sentence per known kind ----------------------------------------------------------------

Sentence = tuple[Optional[str], set[str]]


def _of(count: Any, total: Any, what: str, share: Any = None) -> str:
    """``3 of 121 invocations (2.5%)``."""
    if share is None and total:
        share = count / total
    text = f"{_plain(count)} of {_plain(total)} {what}" if total else f"{_plain(count)} {what}"
    return text + (f" ({fmt_pct_of(share)})" if share is not None else "")


def _timeout(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["timeouts"], e.get("invocations"), "invocations", e.get("rate")) + " timed out"
    limits = sorted({float(s) for s in e.get("timeout_limits_seen") or []
                     if isinstance(s, (int, float))})
    if len(limits) > 1:  # several functions or versions: one limit would be wrong for most
        text += " at their limits (" + ", ".join(f"{_plain(s)} s" for s in limits) + ")"
    elif e.get("timeout_seconds") is not None:
        text += f" at the {_plain(e['timeout_seconds'])} s limit"
    warned = e.get("with_in_flight_calls")
    if warned is not None:
        text += f"; {_plain(warned)} wrote a timeout warning naming the calls in flight"
    if e.get("always_same_dependency"):
        text += ", always inside the same call"
    used = {"timeouts", "invocations", "rate", "timeout_seconds", "with_in_flight_calls",
            "always_same_dependency"}
    used.add("timeout_limits_seen")
    return text + ".", used


def _out_of_memory(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["out_of_memory"], e.get("invocations"), "invocations", e.get("rate"))
    text += " ran out of memory"
    if e.get("memory_size_mb"):
        text += " at " + fmt_value("memory_size_mb", e["memory_size_mb"])
    used = {"out_of_memory", "invocations", "rate", "memory_size_mb", "recommendation_basis"}
    warning = e.get("memory_warning")
    if isinstance(warning, dict) and warning.get("rss_mb") is not None:
        elapsed = fmt_value("elapsed_ms", warning.get("elapsed_ms"))
        text += (f". The last memory warning came {elapsed} in, at "
                 f"{fmt_value('rss_mb', warning['rss_mb'])}")
        running = warning.get("in_flight")
        if isinstance(running, dict) and running.get("name"):
            text += f", while {clean(running['name'], 160)} was running"
        if warning.get("request_id"):
            text += f" (request {clean(warning['request_id'], 80)})"
        used.add("memory_warning")
    if isinstance(e.get("growth_mb_per_s"), (int, float)):
        text += f"; memory grew about {_plain(e['growth_mb_per_s'])} MB/s"
        used.add("growth_mb_per_s")
    if isinstance(e.get("ok_peak_max_mb"), (int, float)):
        text += (". Invocations that finished peaked at "
                 f"{fmt_value('ok_peak_max_mb', e['ok_peak_max_mb'])}")
        used.add("ok_peak_max_mb")
    return text + ".", used


def _code_error(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["count"], e.get("invocations"), "invocations")
    text += f" raised {clean(e['error_type'])}"
    if e.get("top_frame"):
        text += f" at {clean(e['top_frame'])}"
    return text + ".", {"count", "invocations", "error_type", "top_frame"}


def _resource_limit(e: Mapping[str, Any]) -> Sentence:
    count, invocations = e["count"], e.get("invocations")
    if invocations and count <= invocations:
        text = _of(count, invocations, "invocations")
    else:  # errors outside any invocation in the input (a pasted error) count on their own
        text = f"{_plain(count)} error" + ("" if count == 1 else "s")
    text += f" hit the quota: {clean(e['quota'])}"
    if e.get("error_type"):
        text += f", raised as {clean(e['error_type'])}"
        if e.get("top_frame"):
            text += f" at {clean(e['top_frame'])}"
    return text + ".", {"count", "invocations", "rate", "quota", "error_type", "top_frame"}


def _slow_dependency(e: Mapping[str, Any]) -> Sentence:
    text = f"{_plain(e['calls'])} calls"
    if e.get("calls_per_invocation") is not None:
        text += f" ({_plain(e['calls_per_invocation'])} per invocation)"
    text += f" took {fmt_ms(e['total_ms'])} in all"
    if e.get("share") is not None:
        text += f", {fmt_pct_of(e['share'])} of the invocations' time"
    if e.get("ms_per_invocation") is not None:
        text += f" ({fmt_ms(e['ms_per_invocation'])} per invocation)"
    return text + ".", {"calls", "calls_per_invocation", "total_ms", "share", "name",
                        "ms_per_invocation"}


def _n_plus_one(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["invocations"], None, "invocations", e.get("share_of_invocations"))
    text += f" made up to {_plain(e['max_sequential_calls'])} calls one after another"
    if e.get("source"):
        text += f" (from {clean(e['source'])})"
    return text + ".", {"invocations", "share_of_invocations", "max_sequential_calls", "source",
                        "name"}


def _cold_start(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["cold_starts"], e.get("invocations"), "invocations", e.get("share"))
    text += " started cold"
    if e.get("init_p50_ms") is not None:
        text += f"; init took {fmt_ms(e['init_p50_ms'])} at p50"
        if e.get("init_p95_ms") is not None:
            text += f" and {fmt_ms(e['init_p95_ms'])} at p95"
    if e.get("init_share_of_billed_time") is not None:
        text += f"; init is {fmt_pct_of(e['init_share_of_billed_time'])} of the billed time"
    return text + ".", {"cold_starts", "invocations", "share", "init_p50_ms", "init_p95_ms",
                        "init_share_of_billed_time"}


def _throttling(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["throttled_calls"], e.get("calls"), "calls", e.get("rate")) + " were throttled"
    if e.get("retries") is not None:
        text += f"; {_plain(e['retries'])} retries in all"
    return text + ".", {"throttled_calls", "calls", "rate", "retries", "name"}


def _retries(e: Mapping[str, Any]) -> Sentence:
    text = _of(e["calls_retried"], e.get("calls"), "calls", e.get("rate")) + " were retried"
    if e.get("retries") is not None:
        text += f", {_plain(e['retries'])} retries in all"
    return text + ".", {"calls_retried", "calls", "rate", "retries", "name"}


def _latency_regression(e: Mapping[str, Any]) -> Sentence:
    text = (f"p95 went from {fmt_ms(e['baseline_p95_ms'])} to {fmt_ms(e['p95_ms'])}")
    if e.get("change_pct") is not None:
        text += f" ({e['change_pct']:+.1f}%)"
    text += f" over {_plain(e.get('count') or 0)} samples"
    text += f" (baseline: {_plain(e.get('baseline_count') or 0)})"
    return text + ".", {"baseline_p95_ms", "p95_ms", "change_pct", "count", "baseline_count",
                        "name"}


def _memory_pressure(e: Mapping[str, Any]) -> Sentence:
    near = e["failures_near_limit"]
    text = (f"{_plain(near)} failed or timed-out invocation{'' if near == 1 else 's'} ran "
            "near the limit")
    if e.get("peak_max_mb") is not None:
        text += f", peaking at {fmt_value('peak_max_mb', e['peak_max_mb'])}"
    if e.get("memory_size_mb") is not None:
        text += f" of {_plain(e['memory_size_mb'], grouped=False)} MB"
    return text + ".", {"failures_near_limit", "peak_max_mb", "memory_size_mb"}


def _overprovisioned(e: Mapping[str, Any]) -> Sentence:
    size = fmt_value("memory_size_mb", e["memory_size_mb"])
    text = (f"Over {_plain(e['invocations'])} invocations at {size} "
            f"the highest peak was {fmt_value('peak_max_mb', e['peak_max_mb'])}")
    if e.get("peak_p99_mb") is not None:
        text += f" (p99 {fmt_value('peak_p99_mb', e['peak_p99_mb'])})"
    return text + ".", {"invocations", "memory_size_mb", "peak_max_mb", "peak_p99_mb"}


def _permission_denied(e: Mapping[str, Any]) -> Sentence:
    count = e["count"]
    text = f"AWS denied {_plain(count)} request{'' if count == 1 else 's'}"
    if e.get("principal"):
        text += f" made by {clean(e['principal'], 300)}"
    return text + ".", {"count", "principal"}


def _init_failure(e: Mapping[str, Any]) -> Sentence:
    count = e["count"]
    text = f"{_plain(count)} {clean(e.get('phase') or 'init')} phase{'' if count == 1 else 's'}"
    text += f" ended in {clean(e.get('status') or 'failure')}"
    if e.get("error_type"):
        text += f" ({clean(e['error_type'])})"
    if e.get("init_duration_ms") is not None:
        text += f" after {fmt_ms(e['init_duration_ms'])}"
    return text + ".", {"count", "phase", "status", "error_type", "init_duration_ms"}


def _no_invocations(e: Mapping[str, Any]) -> Sentence:
    return f"No invocation among {_plain(e.get('events') or 0)} recognised events.", {"events"}


_SENTENCES: dict[str, Callable[[dict[str, Any]], Sentence]] = {
    "timeout": _timeout,
    "out_of_memory": _out_of_memory,
    "code_error": _code_error,
    "resource_limit": _resource_limit,
    "slow_dependency": _slow_dependency,
    "n_plus_one": _n_plus_one,
    "cold_start": _cold_start,
    "throttling": _throttling,
    "retries": _retries,
    "latency_regression": _latency_regression,
    "memory_pressure": _memory_pressure,
    "overprovisioned_memory": _overprovisioned,
    "no_invocations": _no_invocations,
    "permission_denied": _permission_denied,
    "init_failure": _init_failure,
}
