"""CloudWatch Embedded Metric Format documents, built with aws-lambda-powertools when loaded.

The metric directive of each document *shape* is made once and cached, so later invocations only
substitute values and the timestamp. When the function has loaded Powertools Metrics itself,
Powertools' ``EphemeralMetrics`` (no class-level shared state, no ``print``) validates the names
and units and serialises the directive. When it has not, importing Powertools just for that
would cost ≈12-25 ms of cold start (its package ``__init__`` loads Logger, Tracer, jmespath and
typing_extensions; ``import aws_lambda_powertools.metrics`` runs it too), so the same directive
is built here with Powertools' rules (name stripped, 1-255 characters, a CloudWatch unit; a
repeated name keeps its first place and its last unit; no ``StorageResolution`` for standard
resolution). ``tests/test_runtime_emf.py`` checks that both give the same text.

EMF limits respected: ≤100 metrics per directive, ≤100 values per metric, ≤30 dimensions per
set (we use at most 3), finite numbers only, each document ≤256 KB. Reference:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import math
import sys
from math import isfinite

from lambda_trace._config import warn_once
from lambda_trace._encode import dumps, fits, jstr

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from typing import Any, Optional

    Metric = tuple[str, str, Any]  # (name, unit, value or list of values)
    DimensionSets = tuple[tuple[str, ...], ...]
    Directive = tuple[DimensionSets, list[Metric]]
    Shape = tuple[tuple[DimensionSets, tuple[tuple[str, str], ...]], ...]

#: Units CloudWatch accepts (the EMF schema's MetricUnit pattern).
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
        "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
        "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
        "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
        "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
    }
)  # fmt: skip
MAX_METRICS = 100
MAX_VALUES = 100
MAX_DIMENSION_VALUE = 1024
#: Downstream documents (one per (Service, Operation) or error class) per flush at most.
MAX_DOWNSTREAM_DOCS = 50

_directives: dict[tuple[Any, ...], str] = {}
_POWERTOOLS_CHUNK = 50
_MAX_CACHED = 256


def valid_metric(name: Any, value: Any, unit: Any) -> Optional[str]:
    """Why a user metric cannot be published, or None when it can."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 255:
        return "metric name must be 1 to 255 characters"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"metric {name!r}: value must be a number"
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int beyond float range
        finite = False
    if not finite:
        return f"metric {name!r}: value must be finite (NaN and infinity are dropped)"
    if not isinstance(unit, str) or unit not in UNITS:
        shown = repr(unit[:50]) if isinstance(unit, str) else f"of type {type(unit).__name__}"
        return f"metric {name!r}: unknown unit {shown}"
    return None


def _directive(
    namespace: str, dimension_sets: DimensionSets, shape: tuple[tuple[str, str], ...]
) -> str:
    """The JSON of one ``CloudWatchMetrics`` directive, serialised by Powertools once per shape."""
    key = (namespace, dimension_sets, shape)
    cached = _directives.get(key)
    if cached is not None:
        return cached
    definitions: list[Any] = []
    define = _powertools_definitions if _POWERTOOLS_METRICS in sys.modules else own_definitions
    # Powertools flushes (prints) by itself when a set reaches 100 metrics: feed it fewer.
    for start in range(0, len(shape), _POWERTOOLS_CHUNK):
        chunk = shape[start : start + _POWERTOOLS_CHUNK]
        definitions.extend(define(namespace, dimension_sets, chunk))
    # Powertools puts every dimension in one set; we want each set on its own.
    text = directive_text(namespace, dimension_sets, definitions)
    if len(_directives) >= _MAX_CACHED:
        _directives.clear()  # user metric names that vary per invocation must not leak memory
    _directives[key] = text
    return text


def directive_text(namespace: str, dimension_sets: DimensionSets, definitions: list[Any]) -> str:
    """``json.dumps({"Namespace", "Dimensions", "Metrics"}, separators=(",", ":"))``, without
    importing ``json`` (≈2 ms of cold start when boto3 has not loaded it)."""
    sets = ",".join("[" + ",".join(jstr(dim) for dim in dims) + "]" for dims in dimension_sets)
    metrics = ",".join(
        "{" + ",".join(f"{jstr(key)}:{_json_scalar(value)}" for key, value in item.items()) + "}"
        for item in definitions
    )
    return f'{{"Namespace":{jstr(namespace)},"Dimensions":[{sets}],"Metrics":[{metrics}]}}'


def _json_scalar(value: Any) -> str:
    if isinstance(value, str):
        return jstr(value)
    if type(value) is int:
        return str(value)
    return dumps({"v": value})[5:-1]  # anything else Powertools might add one day


#: Loaded once the function uses Powertools Metrics (its package ``__init__`` imports it).
_POWERTOOLS_METRICS = "aws_lambda_powertools.metrics.metrics"
#: Powertools' metric name bounds (``cloudwatch_emf/constants.py``), after ``strip()``.
_MIN_NAME, _MAX_NAME = 1, 255


def _powertools_definitions(
    namespace: str, dimension_sets: DimensionSets, chunk: tuple[tuple[str, str], ...]
) -> list[Any]:
    """The ``Metrics`` list of a directive, as Powertools' ``EphemeralMetrics`` serialises it."""
    from aws_lambda_powertools.metrics import EphemeralMetrics

    metrics = EphemeralMetrics(namespace=namespace)
    for dims in dimension_sets:
        for dim in dims:
            metrics.add_dimension(name=dim, value="_")
    for name, unit in chunk:
        metrics.add_metric(name=name, unit=unit, value=0)
    serialised = metrics.serialize_metric_set()
    definitions: list[Any] = serialised["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    return definitions


def own_definitions(
    namespace: str, dimension_sets: DimensionSets, chunk: tuple[tuple[str, str], ...]
) -> list[Any]:
    """The same list without importing Powertools: its rules, its order, its errors' kind."""
    units: dict[str, str] = {}
    for name, unit in chunk:
        name = name.strip()
        if not _MIN_NAME <= len(name) <= _MAX_NAME:
            raise ValueError(f"metric name must be {_MIN_NAME} to {_MAX_NAME} characters")
        if unit not in UNITS:
            raise ValueError(f"metric {name!r}: unknown unit")
        units[name] = unit  # a repeated name: first place, last unit (a dict's update)
    if not units:
        raise ValueError("a metric directive needs at least one metric")
    return [{"Name": name, "Unit": unit} for name, unit in units.items()]


def document(
    namespace: str,
    timestamp_ms: int,
    directives: list[Directive],
    dimensions: dict[str, str],
) -> str:
    """One EMF line: ``directives`` is ``[(dimension sets, metrics)]`` sharing ``dimensions``.

    Everything but the values and the timestamp comes from a template made once per document
    shape (namespace, dimensions, metric names and units), so an invocation only formats numbers.
    """
    shape = tuple(
        (sets, tuple((name, unit) for name, unit, _ in metrics)) for sets, metrics in directives
    )
    key = (namespace, tuple(dimensions.items()), shape)
    template = _templates.get(key)
    if template is None:
        if len(_templates) >= _MAX_CACHED:
            _templates.clear()  # dimension values or metric names that vary must not leak memory
        template = _templates[key] = _template(namespace, dimensions, shape)
    head, members = template
    values = [value for _, metrics in directives for _, _, value in metrics]
    parts = []
    for prefix, index in members:
        text = _value_text(values[index])
        if text is None:  # a value of an unexpected type: the general encoder decides
            return _document_from_dict(namespace, timestamp_ms, directives, dimensions)
        parts.append(prefix)
        parts.append(text)
    return f'{{"_aws":{{"Timestamp":{int(timestamp_ms)}{head}{"".join(parts)}}}'


#: document shape -> (text from after the timestamp to the dimensions, ((',"Name":', value index)))
_templates: dict[tuple[Any, ...], tuple[str, tuple[tuple[str, int], ...]]] = {}


#: (namespace, service, names and units) -> (head, value prefixes in order) of the usual document
_own_templates: dict[tuple[Any, ...], tuple[str, tuple[str, ...]]] = {}


def own_document(
    namespace: str,
    service: str,
    timestamp_ms: int,
    shape: tuple[tuple[str, str], ...],
    values: list[Any],
) -> Optional[str]:
    """``document`` of one directive by service: ``shape`` is its (name, unit) pairs (hot path).

    None when a value is not a plain finite number, a name repeats or is a dimension, or the
    line would exceed 256 KB: the general path (``documents``) handles those.
    """
    key = (namespace, service, shape)
    template = _own_templates.get(key)
    if template is None:
        names = [name for name, _ in shape]
        if "service" in names or len(set(names)) != len(names):
            return None
        head, members = _template(namespace, {"service": service}, (((("service",),), shape),))
        if len(_own_templates) >= _MAX_CACHED:
            _own_templates.clear()
        template = _own_templates[key] = (head, tuple(prefix for prefix, _ in members))
    head, prefixes = template
    parts = []
    for prefix, value in zip(prefixes, values):
        kind = type(value)
        if kind is float and isfinite(value):
            parts.append(prefix + repr(value))
        elif kind is int and -_MAX_INT <= value <= _MAX_INT:
            parts.append(prefix + str(value))
        else:
            return None
    line = f'{{"_aws":{{"Timestamp":{int(timestamp_ms)}{head}{"".join(parts)}}}'
    return line if fits(line) else None


def _template(
    namespace: str, dimensions: dict[str, str], shape: Shape
) -> tuple[str, tuple[tuple[str, int], ...]]:
    directives = ",".join(_directive(namespace, sets, metrics) for sets, metrics in shape)
    dims = ",".join(f"{jstr(k)}:{jstr(v[:MAX_DIMENSION_VALUE])}" for k, v in dimensions.items())
    # Like the keys of a dict: a repeated name keeps its first place and its last value.
    last: dict[str, int] = {}
    index = 0
    for _, metrics in shape:
        for name, _ in metrics:
            if name not in dimensions:
                last[name] = index
            index += 1
    members = tuple((f",{jstr(name)}:", i) for name, i in last.items())
    return f',"CloudWatchMetrics":[{directives}]}},{dims}', members


def _document_from_dict(
    namespace: str,
    timestamp_ms: int,
    directives: list[Directive],
    dimensions: dict[str, str],
) -> str:
    parts = []
    root: dict[str, Any] = {k: v[:MAX_DIMENSION_VALUE] for k, v in dimensions.items()}
    for dimension_sets, metrics in directives:
        shape = tuple((name, unit) for name, unit, _ in metrics)
        parts.append(_directive(namespace, dimension_sets, shape))
        for name, _, value in metrics:
            root[name] = value
    body = dumps(root)
    return (
        f'{{"_aws":{{"Timestamp":{int(timestamp_ms)},"CloudWatchMetrics":[{",".join(parts)}]}},'
        f"{body[1:]}"
    )


#: Integers written as such; JSON readers lose precision beyond (and metrics never get there).
_MAX_INT = 2**53


_FLOAT_ONLY = {float}


def _value_text(value: Any) -> Optional[str]:
    """JSON text of a finite number or a list of them; None for anything else."""
    kind = type(value)
    if kind is float:
        return repr(value) if isfinite(value) else None
    if kind is int:
        return str(value) if -_MAX_INT <= value <= _MAX_INT else None
    if kind is list:
        if set(map(type, value)) == _FLOAT_ONLY and all(map(isfinite, value)):
            # Latencies (floats, 100 per DownstreamLatency document): in C, not one call each.
            return f"[{','.join(map(float.__repr__, value))}]"
        items = []
        for item in value:
            text = _value_text(item) if type(item) is not list else None
            if text is None:
                return None
            items.append(text)
        return f"[{','.join(items)}]"
    return None


def _chunks(metrics: list[Metric], size: int) -> list[list[Metric]]:
    return [metrics[i : i + size] for i in range(0, len(metrics), size)]


def user_metric_list(user: dict[str, tuple[str, list[float]]]) -> list[Metric]:
    """The user's metrics, each split in runs of at most 100 values (extra runs go to new docs)."""
    out: list[Metric] = []
    for name, (unit, values) in user.items():
        for i in range(0, len(values), MAX_VALUES):
            run = values[i : i + MAX_VALUES]
            out.append((name, unit, run[0] if len(run) == 1 else run))
    return out


def documents(
    namespace: str,
    service: str,
    timestamp_ms: int,
    own: list[Metric],
    user: list[Metric],
    error_class: Optional[str] = None,
    downstream: Optional[list[tuple[str, str, int, list[Any]]]] = None,
    downstream_errors: Optional[dict[str, int]] = None,
) -> list[str]:
    """Every EMF line for one flush.

    ``own``: our metrics by service; ``user``: ``metric()`` calls (merged into the same document
    while names are distinct and the 100-metric limit allows); ``error_class``: adds an
    ``Errors`` count by ``ErrorClass``; ``downstream``: ``(Service, Operation, timestamp ms,
    latencies ms)``, one document each since their dimension values differ (their sample count
    is the number of calls); ``downstream_errors``: failed calls by error class, one document
    per class.
    """
    by_service: DimensionSets = (("service",),)
    if own and not user and error_class is None and not downstream and not downstream_errors:
        shape = tuple([(name, unit) for name, unit, _ in own])
        line = own_document(namespace, service, timestamp_ms, shape, [m[2] for m in own])
        if line is not None:
            return [line]
        return _fitted(namespace, timestamp_ms, [(by_service, own)], {"service": service})
    lines: list[str] = []
    first = list(own)
    names = {m[0] for m in first}
    rest: list[Metric] = []
    for m in user:
        if m[0] in names or len(first) >= MAX_METRICS:
            rest.append(m)
        else:
            names.add(m[0])
            first.append(m)
    dims = {"service": service}
    if first:
        directives: list[Directive] = [(by_service, first)]
        if error_class is not None:
            dims = {"service": service, "ErrorClass": error_class}
            directives.append(((("service", "ErrorClass"),), [("Errors", "Count", 1)]))
        lines.extend(_fitted(namespace, timestamp_ms, directives, dims))
    while rest:
        batch: list[Metric] = []
        seen: set[str] = set()
        later: list[Metric] = []
        for m in rest:
            if m[0] in seen or len(batch) >= MAX_METRICS:
                later.append(m)
            else:
                seen.add(m[0])
                batch.append(m)
        lines.extend(_fitted(namespace, timestamp_ms, [(by_service, batch)], {"service": service}))
        rest = later
    by_class: DimensionSets = (("service", "ErrorClass"),)
    for cls, count in list((downstream_errors or {}).items())[:MAX_DOWNSTREAM_DOCS]:
        dims = {"service": service, "ErrorClass": cls}
        errors: list[Metric] = [("DownstreamErrors", "Count", count)]
        lines.extend(_fitted(namespace, timestamp_ms, [(by_class, errors)], dims))
    by_operation: DimensionSets = (("service", "Service", "Operation"),)
    for svc, operation, ts_ms, latencies in (downstream or [])[:MAX_DOWNSTREAM_DOCS]:
        if not latencies:
            continue
        values = latencies[:MAX_VALUES]
        metrics: list[Metric] = [
            ("DownstreamLatency", "Milliseconds", values[0] if len(values) == 1 else values)
        ]
        dims = {"service": service, "Service": svc, "Operation": operation}
        lines.extend(_fitted(namespace, ts_ms, [(by_operation, metrics)], dims))
    return lines


def _fitted(
    namespace: str,
    timestamp_ms: int,
    directives: list[Directive],
    dims: dict[str, str],
) -> list[str]:
    """The document, or several smaller ones when it would exceed 256 KB."""
    line = document(namespace, timestamp_ms, directives, dims)
    if fits(line):
        return [line]
    out: list[str] = []
    for dimension_sets, metrics in directives:
        if len(metrics) == 1:
            warn_once("an EMF metric too large for one document was dropped", ("emf", "size"))
            continue
        for half in _chunks(metrics, (len(metrics) + 1) // 2):
            out.extend(_fitted(namespace, timestamp_ms, [(dimension_sets, half)], dims))
    return out
