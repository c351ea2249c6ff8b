"""The benchmark harness (benchmarks/) runs for real in smoke mode and its parts behave.

No test asserts on a timing: budgets are BENCHMARKS.md's job. These tests keep the scripts from
rotting: every section runs end to end on a couple of iterations and a tiny generated log.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))

import _harness  # noqa: E402
import bench_analyzer  # noqa: E402
import gen_logs  # noqa: E402
import run_all  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `run_all.py --smoke` run: its results, the Markdown it wrote, and the peers dir state.

    Under pytest-xdist the workers share one run (a file lock in the session's temp root), so
    the benchmark processes do not compete with a second copy of themselves.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by this session's workers only
    out = root / "bench-smoke"
    with open(root / "bench-smoke.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "smoke.json").exists():
            _run_smoke(out)
    return json.loads((out / "smoke.json").read_text())


def _run_smoke(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    peers_before = (BENCH / ".peers").exists()
    doc = out / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\nHand-written prose.\n\n<!-- bench:generated:start -->\nold\n"
                   "<!-- bench:generated:end -->\n\nMore prose.\n")
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--smoke", "--quiet",
         "--write", str(doc), "--results", str(out / "results.json"), "--data", str(out)],
        capture_output=True, text=True, timeout=240, cwd=str(REPO),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (out / "smoke.json").write_text(json.dumps({
        "results": json.loads((out / "results.json").read_text()),
        "doc": doc.read_text(),
        "peers_before": peers_before,
    }))


def _numbers(obj: Any) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [float(obj)]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return []


def _ours_importable() -> bool:
    python = str(BENCH / ".peers/venv/bin/python")
    python = python if Path(python).exists() else sys.executable
    return "lambda_trace:trace" in _harness.available_modules(python, ["lambda_trace:trace"])


def test_smoke_run_covers_every_section(smoke: dict[str, Any]) -> None:
    """A smoke run measures calls (stub and moto), invocations, cold starts and the analyzer."""
    sections = smoke["results"]["sections"]
    assert set(sections) == {"calls", "scaling", "invocation", "coldstart", "analyzer",
                             "cloudwatch"}
    assert [t["transport"] for t in sections["calls"]["transports"]] == ["stub", "moto"]
    assert sections["invocation"]["rows"][0]["variant"] == "bare handler"
    assert sections["coldstart"]["rows"][0]["key"] == "bare"
    readers = [r["reader"] for r in sections["analyzer"]["sizes"][0]["rows"]]
    assert readers[0].startswith("Python floor")
    written = sections["cloudwatch"]["written"]
    for row in sections["cloudwatch"]["rows"]:  # both ways of reading found every event once
        assert row["events"] == {"1": written, "4": written}
        assert row["requests"]["4"] > row["requests"]["1"] >= 1


def test_smoke_results_are_finite_numbers(smoke: dict[str, Any]) -> None:
    """Every number in the results is finite, and baselines differ from themselves by zero."""
    sections = smoke["results"]["sections"]
    numbers = _numbers(sections)
    assert numbers and all(math.isfinite(x) for x in numbers)
    for transport in sections["calls"]["transports"]:
        assert transport["rows"][0]["added_us"]["median"] == 0.0
        assert all(r["absolute_us"]["median"] > 0 for r in transport["rows"])
    assert all(r["wall_ms"]["median"] > 0 for r in sections["coldstart"]["rows"])
    assert all(r["hwm_mb"]["median"] > 1 for r in sections["coldstart"]["rows"])


def test_smoke_run_measures_lambda_trace_when_it_imports(smoke: dict[str, Any]) -> None:
    """With `lambda_trace.trace` importable, every runtime section has lambda-trace rows."""
    if not _ours_importable():
        pytest.skip("lambda_trace.trace is not importable yet")
    sections = smoke["results"]["sections"]
    for transport in sections["calls"]["transports"]:
        assert {r["variant"] for r in transport["rows"] if r["group"] == "ours"} == {
            "lambda-trace (default)", "lambda-trace CALL_LINES=none",
            "lambda-trace CALL_LINES=slow"}
    assert any(r["group"] == "ours" for r in sections["invocation"]["rows"])
    assert {"lambda_trace", "lambda_trace+boto3"} <= {
        r["key"] for r in sections["coldstart"]["rows"]}
    assert sections["coldstart"]["importtime"][0]["module"]


def test_smoke_readers_agree_with_the_generated_totals(smoke: dict[str, Any]) -> None:
    """The floor, jq and `lambda-trace analyze` each report what the generator wrote."""
    rows = smoke["results"]["sections"]["analyzer"]["sizes"][0]["rows"]
    assert {r["reader"]: r["problems"] for r in rows} == {r["reader"]: [] for r in rows}


def test_smoke_write_replaces_only_the_generated_block(smoke: dict[str, Any]) -> None:
    """--write keeps the prose around the markers and replaces the block between them."""
    doc = smoke["doc"]
    assert doc.startswith("# Benchmarks\n\nHand-written prose.\n")
    assert doc.rstrip().endswith("More prose.")
    assert "\nold\n" not in doc
    assert doc.count(run_all.START) == 1 and doc.count(run_all.END) == 1
    for title in ("### Targets", "### Per downstream call", "### Per invocation",
                  "### Cold start and memory", "### Analyzer", "| python |"):
        assert title in doc


def test_smoke_run_installs_nothing(smoke: dict[str, Any]) -> None:
    """A smoke run never creates the peers venv (the test suite must not install peers)."""
    assert (BENCH / ".peers").exists() == smoke["peers_before"]


def test_write_creates_a_file_around_the_block(tmp_path: Path) -> None:
    """Writing to a missing file makes a titled document with exactly one generated block."""
    path = tmp_path / "B.md"
    run_all.write(path, f"{run_all.START}\nA\n{run_all.END}")
    run_all.write(path, f"{run_all.START}\nB\n{run_all.END}")
    text = path.read_text()
    assert text.startswith("# Benchmarks\n") and "\nB\n" in text and "\nA\n" not in text


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """The same seed and size give the same bytes; another seed gives other bytes."""
    a = gen_logs.generate(tmp_path / "a.log", 200_000, seed=7)
    b = gen_logs.generate(tmp_path / "b.log", 200_000, seed=7)
    gen_logs.generate(tmp_path / "c.log", 200_000, seed=8)
    assert (tmp_path / "a.log").read_bytes() == (tmp_path / "b.log").read_bytes()
    assert (tmp_path / "a.log").read_bytes() != (tmp_path / "c.log").read_bytes()
    assert a == b and a["bytes"] >= 200_000


def test_generator_reuses_an_identical_file(tmp_path: Path) -> None:
    """ensure() leaves a matching file alone and regenerates one whose size was changed."""
    path = tmp_path / "x.log"
    gen_logs.ensure(path, 50_000, seed=3)
    stamp = path.stat().st_mtime_ns
    gen_logs.ensure(path, 50_000, seed=3)
    assert path.stat().st_mtime_ns == stamp
    with open(path, "a") as f:
        f.write("tampered\n")
    gen_logs.ensure(path, 50_000, seed=3)
    assert not path.read_text().endswith("tampered\n")


def test_generated_log_has_a_realistic_mix(tmp_path: Path) -> None:
    """The log holds every kind of line the analyzer must read, in Text and JSON format."""
    path = tmp_path / "mix.log"
    expected = gen_logs.generate(path, 10_000_000, seed=1)
    text = path.read_bytes().decode("utf-8")  # not read_text: it would turn \r into \n
    for marker in (
        "INIT_START Runtime Version:", "START RequestId:", "END RequestId:", "REPORT RequestId:",
        "\tInit Duration: ", "Status: timeout", "XRAY TraceId:", '"type":"platform.initStart"',
        '"type":"platform.start"', '"type":"platform.report"', '"type":"call"',
        '"type":"invocation"', '"type":"timeout_warning"', '"type":"memory_warning"',
        '{"_aws":{"Timestamp":', "LAMBDA_WARNING: Unhandled exception.", "[ERROR] ",
        "\rTraceback (most recent call last):\r\u00a0\u00a0File", '"log_level": "ERROR"',
        "Task timed out after 3.00 seconds", "Runtime exited with error: signal: killed",
        "Runtime.ExitError", '"level": "INFO"', "[INFO]\t",
    ):
        assert marker in text, marker
    assert expected["timeouts"] > 0 and expected["oom_kills"] > 0 and expected["errors"] > 0
    assert expected["cold_starts"] > 1


def test_floor_counts_every_json_line(tmp_path: Path) -> None:
    """The floor decodes exactly the lines that start with '{' (all of them valid JSON here)."""
    path = tmp_path / "f.log"
    gen_logs.generate(path, 300_000, seed=5)
    data = path.read_bytes().split(b"\n")[:-1]
    proc = subprocess.run([sys.executable, str(BENCH / "floor_parse.py"), str(path)],
                          capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    assert out == {"lines": len(data), "json_lines": sum(ln[:1] == b"{" for ln in data),
                   "bad_json": 0}


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_jq_pipeline_computes_the_generated_totals(tmp_path: Path) -> None:
    """stats.jq finds the generator's invocations, reports, timeouts and dependency totals."""
    path = tmp_path / "j.log"
    expected = gen_logs.generate(path, 400_000, seed=9)
    proc = subprocess.run(["jq", "-nR", "-f", str(BENCH / "stats.jq"), str(path)],
                          capture_output=True, text=True, check=True)
    answer = json.loads(proc.stdout)
    assert bench_analyzer.check_jq(answer, expected) == []
    answer["deps"]["dynamodb.GetItem"]["count"] += 1
    assert bench_analyzer.check_jq(answer, expected) == ["dependency dynamodb.GetItem differs"]


def test_interleaved_rotates_the_order_every_round() -> None:
    """Each round measures every variant once, starting one later than the round before."""
    order: list[str] = []

    def measure(name: str) -> dict[str, float]:
        order.append(name)
        return {"wall": float(len(order))}

    samples = _harness.interleaved(["a", "b", "c"], 3, measure)
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert samples["wall"] == {"a": [1.0, 6.0, 8.0], "b": [2.0, 4.0, 9.0], "c": [3.0, 5.0, 7.0]}


def test_paired_added_subtracts_the_baseline_of_the_same_round() -> None:
    """Added cost is the per-round difference to the baseline, summarised by median and range."""
    added = _harness.paired_added({"bare": [10.0, 20.0, 30.0], "x": [13.0, 21.0, 40.0]}, "bare")
    assert added["bare"].to_dict() == {"median": 0.0, "min": 0.0, "max": 0.0, "n": 3}
    assert added["x"].to_dict() == {"median": 3.0, "min": 1.0, "max": 10.0, "n": 3}


def test_worker_times_batches_and_reports_errors() -> None:
    """A worker answers run and memory commands, and a bad command raises with its message."""
    worker = _harness.Worker(sys.executable, ["--variant", "bare", "--transport", "none"],
                             _harness.lambda_env(), "bare")
    try:
        assert worker.read_reply() == {"ready": True}
        reply = worker.request(cmd="run", invocations=10)
        assert reply["ns"] > 0 and reply["cpu_ns"] >= 0
        assert worker.request(cmd="memory")["VmRSS"] > 0
        with pytest.raises(RuntimeError, match="unknown command 'nope'"):
            worker.request(cmd="nope")
    finally:
        worker.close()


def test_runnable_drops_variants_whose_modules_are_missing() -> None:
    """Variants needing a module the target Python lacks are skipped, with a note in the log."""
    notes: list[str] = []
    variants = [_harness.Variant("bare", "bare", group="baseline"),
                _harness.Variant("ghost", "ghost", ("no_such_module_xyz",))]
    assert [v.name for v in _harness.runnable(sys.executable, variants, notes.append)] == ["bare"]
    assert notes and "no_such_module_xyz" in notes[0]


def test_start_workers_leaves_out_a_peer_whose_setup_fails() -> None:
    """A peer that cannot be set up is skipped with a note; the baseline still runs."""
    notes: list[str] = []
    variants = [_harness.Variant("bare", "bare", group="baseline"),
                _harness.Variant("broken", "no_such_setup", group="peer")]
    workers = _harness.start_workers(sys.executable, variants, ["--transport", "none"],
                                     notes.append)
    try:
        assert list(workers) == ["bare"]
        assert any(n.startswith("  skip broken: set-up failed") for n in notes)
    finally:
        for worker in workers.values():
            worker.close()


def test_targets_judge_the_default_rows_against_the_issue() -> None:
    """Targets use lambda-trace's default row: +3 µs per call is met, 8 times below is not."""
    def row(variant: str, group: str, added: float) -> dict[str, Any]:
        return {"variant": variant, "group": group, "added_us": {"median": added},
                "added_cpu_us": {"median": added}}

    results = {"sections": {"calls": {"transports": [{"rows": [
        row("bare boto3", "baseline", 0.0), row("lambda-trace (default)", "ours", 3.0),
        row("lambda-trace CALL_LINES=none", "ours", 1.0), row("X-Ray", "peer", 24.0)]}]}}}
    verdicts = {t: ok for t, _, ok in run_all.targets(results)}
    assert verdicts["per call ≤ +5 µs (Stubber)"] is True
    assert verdicts["per call ≥ 10\u00d7 below every peer"] is False
