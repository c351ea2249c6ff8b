"""Shared machinery of the benchmark controllers: workers, interleaved rounds, statistics, tables.

Controllers run in whatever Python starts them (stdlib only). The code under measurement runs in
worker processes of the *target* Python (the peers venv, or the project venv in smoke mode), so
one controller can compare variants that could never share a process (each patches botocore).
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / ".peers"
DATA_DIR = BENCH_DIR / ".data"

#: The environment a Lambda function sees, enough for every peer to believe it runs in Lambda.
LAMBDA_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "bench-fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench-fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]0123456789abcdef0123456789abcdef",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "LAMBDA_TASK_ROOT": str(BENCH_DIR),
    "_HANDLER": "workload.plain_handler",
    # Sampled=1: the tracers record every call, as on a traced request.
    "_X_AMZN_TRACE_ID": (
        "Root=1-6745a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"
    ),
    # Where the X-Ray daemon would listen in Lambda; nothing listens here, UDP sends still happen.
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    # Peers' background chatter off, so it does not land in someone else's timing.
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_TRACE_STARTUP_LOGS": "false",
    "DD_FLUSH_TO_LOG": "true",
    "DD_API_KEY": "0" * 32,
    "LUMIGO_TRACER_TOKEN": "t_0123456789abcdef0123",
    "LUMIGO_TRACER_HOST": "127.0.0.1:9",
    "OTEL_SDK_DISABLED": "false",
}


#: Put before site-packages in every worker (smoke runs: the working tree's lambda_trace rather
#: than the copy installed in the peers venv, which may be older).
EXTRA_PYTHONPATH: list[str] = []


def lambda_env(extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    """The process environment for a worker: ours plus the Lambda variables, minus proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMBDA_TRACE_", "AWS_"))}
    # Bytecode caches on: a deployed function ships them or writes them once, not per start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(LAMBDA_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH_DIR), *EXTRA_PYTHONPATH])
    if extra:
        env.update(extra)
    return env


@dataclass
class Variant:
    """One thing under measurement: a name, the setup key the worker understands, its imports."""

    name: str
    key: str
    #: modules that must be importable in the target Python for this variant to run
    requires: tuple[str, ...] = ()
    #: extra environment variables (e.g. LAMBDA_TRACE_CALL_LINES)
    env: dict[str, str] = field(default_factory=dict)
    #: "baseline", "ours", "floor" or "peer"
    group: str = "peer"


def available_modules(python: str, requirements: Iterable[str]) -> set[str]:
    """The subset of ``requirements`` that ``python`` satisfies.

    A requirement is a module name (found, not imported) or ``module:attribute`` (imported, and
    the attribute must exist: ``lambda_trace:trace`` is absent until the runtime lands).
    """
    names = sorted(set(requirements))
    if not names:
        return set()
    code = (
        "import importlib, importlib.util, json, sys\n"
        "def ok(req):\n"
        "    module, _, attr = req.partition(':')\n"
        "    try:\n"
        "        if attr:\n"
        "            return hasattr(importlib.import_module(module), attr)\n"
        "        return importlib.util.find_spec(module) is not None\n"
        "    except Exception:\n"
        "        return False\n"
        "print(json.dumps([r for r in sys.argv[1:] if ok(r)]))\n"
    )
    out = subprocess.run(
        [python, "-c", code, *names], capture_output=True, text=True, check=True, env=lambda_env()
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def runnable(python: str, variants: Sequence[Variant], log: Callable[[str], None]) -> list[Variant]:
    """Variants whose required modules ``python`` has; the others are reported and dropped."""
    have = available_modules(python, [m for v in variants for m in v.requires])
    keep = []
    for v in variants:
        missing = [m for m in v.requires if m not in have]
        if missing:
            log(f"  skip {v.name}: {', '.join(missing)} not installed in {python}")
        else:
            keep.append(v)
    return keep


def smoke_subset(variants: Sequence[Variant]) -> list[Variant]:
    """For smoke runs: the baselines, the floor, ours, and one peer (keeps the test fast)."""
    peers = [v for v in variants if v.group == "peer"]
    return [v for v in variants if v.group != "peer"] + peers[:1]


class Worker:
    """A long-lived worker process holding one variant, driven by one-line JSON commands.

    Replies come on a private pipe, because the code under measurement owns stdout (records go
    there, into /dev/null) and peers write warnings to stderr.
    """

    def __init__(self, python: str, args: Sequence[str], env: dict[str, str], name: str) -> None:
        self.name = name
        read_fd, write_fd = os.pipe()
        # stderr to a file: peers can be chatty, and a full pipe nobody drains would hang them.
        self._stderr_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 -- closed in close()
        self.proc = subprocess.Popen(
            [python, str(BENCH_DIR / "worker.py"), "--reply-fd", str(write_fd), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr_file,
            pass_fds=(write_fd,),
            env=env,
            text=True,
            cwd=str(BENCH_DIR),
        )
        os.close(write_fd)
        self._replies = os.fdopen(read_fd, "r")

    def request(self, **command: Any) -> dict[str, Any]:
        """Send one command and wait for its reply; a dead worker raises with its stderr."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        return self.read_reply()

    def read_reply(self) -> dict[str, Any]:
        """The next reply (the first one is the worker's "ready")."""
        line = self._replies.readline()
        if not line:
            raise RuntimeError(f"worker {self.name} died: {self._stderr()}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"worker {self.name}: {reply['error']}")
        return reply

    def _stderr(self) -> str:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._stderr_file.seek(0)
        return self._stderr_file.read()[-2000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._replies.close()
        self._stderr_file.close()


def start_workers(
    python: str, variants: Sequence[Variant], args: Sequence[str], log: Callable[[str], None]
) -> dict[str, Worker]:
    """One worker per variant, all started before any is measured; each must report ready.

    A peer whose set-up fails is reported and left out (the others still run); a failing
    baseline or lambda-trace aborts, since nothing else means anything without them.
    """
    workers: dict[str, Worker] = {}
    try:
        for v in variants:
            workers[v.name] = Worker(
                python, ["--variant", v.key, *args], lambda_env(v.env), v.name
            )
        for v in variants:
            try:
                workers[v.name].read_reply()
            except RuntimeError as exc:
                if v.group != "peer":
                    raise
                log(f"  skip {v.name}: set-up failed: {str(exc).strip().splitlines()[-1]}")
                workers.pop(v.name).close()
                continue
            log(f"  worker ready: {v.name}")
    except Exception:
        for worker in workers.values():
            worker.close()
        raise
    return workers


def interleaved(
    names: Sequence[str], rounds: int, measure: Callable[[str], dict[str, float]]
) -> dict[str, dict[str, list[float]]]:
    """Measure every name once per round, rotating the order so no variant always goes first.

    ``measure`` returns several metrics at once (e.g. wall and CPU); the result is
    ``{metric: {name: [one value per round]}}``.
    """
    samples: dict[str, dict[str, list[float]]] = {}
    for r in range(rounds):
        shift = r % len(names)
        for name in list(names[shift:]) + list(names[:shift]):
            for metric, value in measure(name).items():
                samples.setdefault(metric, {n: [] for n in names})[name].append(value)
    return samples


@dataclass
class Summary:
    """Median and range of a list of samples."""

    median: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        return cls(float(d["median"]), float(d["min"]), float(d["max"]), int(d["n"]))


def summarize(samples: Sequence[float]) -> Summary:
    return Summary(statistics.median(samples), min(samples), max(samples), len(samples))


def paired_added(samples: dict[str, list[float]], baseline: str) -> dict[str, Summary]:
    """Per variant: the per-round difference to the baseline measured in the same round."""
    base = samples[baseline]
    return {
        name: summarize([v - b for v, b in zip(values, base)]) for name, values in samples.items()
    }


def fmt(value: Optional[float], digits: int = 1) -> str:
    if value is None:
        return "\u2013"
    return f"{value:+.{digits}f}" if digits >= 0 else str(value)


def fmt_range(s: Summary, digits: int = 1, signed: bool = True) -> str:
    sign = "+" if signed else ""
    return f"{s.median:{sign}.{digits}f} ({s.low:{sign}.{digits}f} … {s.high:{sign}.{digits}f})"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(headers) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def logger(quiet: bool = False) -> Callable[[str], None]:
    start = time.monotonic()

    def log(message: str) -> None:
        if not quiet:
            print(f"[{time.monotonic() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    return log


def ratio(a: float, b: float) -> Optional[float]:
    """a / b, or None when b is not positive (a ratio to noise means nothing)."""
    return a / b if b > 0 else None


def variant_rows(
    variants: Sequence[Variant], samples: dict[str, dict[str, list[float]]]
) -> list[dict[str, Any]]:
    """Per variant: absolute wall figures and the paired cost (wall, CPU) added over the first."""
    added = paired_added(samples["wall"], variants[0].name)
    added_cpu = paired_added(samples["cpu"], variants[0].name)
    return [
        {
            "variant": v.name,
            "group": v.group,
            "absolute_us": summarize(samples["wall"][v.name]).to_dict(),
            "added_us": added[v.name].to_dict(),
            "added_cpu_us": added_cpu[v.name].to_dict(),
        }
        for v in variants
    ]


def section_main(
    doc: Optional[str],
    run: Callable[[str, bool, Callable[[str], None]], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    argv: Optional[Sequence[str]] = None,
) -> int:
    """The command line every section script shares: ``[--python PY] [--smoke]``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    print(render(run(os.path.abspath(args.python), args.smoke, logger())))
    return 0


#: ``BENCH_BEFORE_REF=<git ref>``: the section scripts that read it (bench_scaling, bench_analyzer)
#: also measure lambda-trace as it is at that ref, as more variants of the same run, so a change's
#: before and after are paired on the same machine at the same minute.
BEFORE_REF_ENV = "BENCH_BEFORE_REF"
_TREES: dict[tuple[str, str], Path] = {}


def unpack_tree(ref: str, into: Path) -> Path:
    """``lambda_trace/`` as it is at ``ref``, unpacked under ``into``."""
    import tarfile

    archive = subprocess.run(["git", "-C", str(REPO_DIR), "archive", ref, "lambda_trace"],
                             capture_output=True, check=True).stdout
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def compile_tree(python: str, tree: Path) -> None:
    """Bytecode for every module, as an installed package has (pip compiles on install); without
    it each run would compile whatever lacks a ``__pycache__`` (PYTHONDONTWRITEBYTECODE)."""
    subprocess.run([python, "-m", "compileall", "-q", str(tree / "lambda_trace")], check=True,
                   stdout=subprocess.DEVNULL)


def before_tree(python: str) -> Optional[tuple[str, Path]]:
    """``(ref, unpacked compiled tree)`` when ``BENCH_BEFORE_REF`` names a ref, else None."""
    ref = os.environ.get(BEFORE_REF_ENV, "").strip()
    if not ref:
        return None
    if (ref, python) not in _TREES:
        tree = unpack_tree(ref, Path(tempfile.mkdtemp(prefix="lambda-trace-before-")))
        compile_tree(python, tree)
        _TREES[(ref, python)] = tree
    return ref, _TREES[(ref, python)]


def tree_pythonpath(tree: Path) -> str:
    """A worker's PYTHONPATH that imports ``lambda_trace`` from ``tree`` first."""
    return os.pathsep.join([str(tree), str(BENCH_DIR), *EXTRA_PYTHONPATH])


def before_variants(python: str, variants: Sequence[Variant]) -> list[Variant]:
    """Our variants once more, importing lambda-trace from ``BENCH_BEFORE_REF``'s tree."""
    found = before_tree(python)
    if found is None:
        return []
    ref, tree = found
    return [Variant(f"{v.name} @ {ref}", v.key, v.requires,
                    {**v.env, "PYTHONPATH": tree_pythonpath(tree)}, group="before")
            for v in variants if v.group == "ours"]
