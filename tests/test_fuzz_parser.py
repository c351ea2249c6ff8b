"""The analyzer survives hostile input: it never crashes, stays in bounded memory, counts the bad.

Hypothesis mutates real log lines (``tests/data/corpus``) and generates random bytes; the
nasty inputs (10 MB lines, truncated JSON, invalid UTF-8, a gzip bomb) go through the real CLI in
a subprocess whose peak RSS is measured. ``LAMBDA_TRACE_LONG_FUZZ=1`` runs many more examples.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testdata import corpus_files

from lambda_trace.analyzer.cli import main
from lambda_trace.analyzer.inputs import decode_lines
from lambda_trace.analyzer.model import LogEvent
from lambda_trace.analyzer.parse import Parser
from lambda_trace.analyzer.sourcestats import SourceStats

ROOT = Path(__file__).resolve().parent.parent
LONG = os.environ.get("LAMBDA_TRACE_LONG_FUZZ") == "1"
EXAMPLES = 3000 if LONG else 150
CLI_EXAMPLES = 300 if LONG else 25
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,  # CI is reproducible; the long mode explores
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def corpus_lines() -> list[str]:
    lines: list[str] = []
    for path in corpus_files():
        lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    return [line for line in lines if line.strip()]


REAL = corpus_lines()

JUNK = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from('{}[]":,\t\r\n\\\u2028\x00\x1b'),
    max_size=40,
)


@st.composite
def mutated_line(draw: st.DrawFn) -> str:
    """A real line cut, spliced with junk, or with one character replaced."""
    line = draw(st.sampled_from(REAL))
    at = draw(st.integers(0, len(line)))
    how = draw(st.sampled_from(["truncate", "insert", "replace", "splice", "repeat"]))
    if how == "truncate":
        return line[:at]
    if how == "insert":
        return line[:at] + draw(JUNK) + line[at:]
    if how == "replace":
        return line[:at] + draw(JUNK) + line[at + draw(st.integers(1, 20)) :]
    if how == "splice":
        other = draw(st.sampled_from(REAL))
        return line[:at] + other[draw(st.integers(0, len(other))) :]
    return line[:at] * draw(st.integers(2, 5))


def log_events(lines: list[str]) -> list[LogEvent]:
    return [LogEvent(line, 1_700_000_000_000 + i, "stream", "/aws/lambda/fn", "fuzz")
            for i, line in enumerate(lines)]


def check_counts(parser: Parser) -> None:
    stats = parser.stats
    parts = (stats.recognised, stats.app, stats.continued, stats.unparsed, stats.malformed,
             stats.ignored)
    # The documented invariant: every line lands in exactly one of the line counters.
    assert sum(parts) == stats.lines, stats


@FUZZ
@given(st.lists(st.one_of(mutated_line(), st.sampled_from(REAL), JUNK),
                min_size=1, max_size=30))
def test_mutated_real_lines_never_crash_the_parser(lines: list[str]) -> None:
    """Cut, spliced and corrupted real lines parse to typed events; every line is counted."""
    parser = Parser()
    events = list(parser.iter_events(log_events(lines)))
    assert all(isinstance(event, dict) and isinstance(event.get("type"), str) for event in events)
    check_counts(parser)


@FUZZ
@given(st.lists(mutated_line(), min_size=1, max_size=20))
def test_line_by_line_parsing_agrees_with_the_streaming_path(lines: list[str]) -> None:
    """parse() + finish() survive the same input as iter_events() and count the same lines."""
    streaming = Parser()
    list(streaming.iter_events(log_events(lines)))
    stepwise = Parser()
    for event in log_events(lines):
        stepwise.parse(event)
    stepwise.finish()
    check_counts(stepwise)
    assert stepwise.stats.lines == streaming.stats.lines


@settings(max_examples=CLI_EXAMPLES, deadline=None, derandomize=not LONG,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.one_of(mutated_line(), st.sampled_from(REAL)), min_size=1, max_size=60),
    st.binary(max_size=200),
)
def test_the_whole_analysis_survives_mutated_logs(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], noise: bytes
) -> None:
    """Parse, join, aggregate, findings and every renderer run on a corrupted log file."""
    folder = tmp_path_factory.mktemp("fuzz")
    log = folder / "fuzz.log"
    log.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + noise)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["analyze", "--no-progress", "--format", "markdown", "-o",
                     str(folder / "r.md"), "--html", str(folder / "r.html"), str(log)])
    if code == 2:  # bytes that look binary and hold no event at all: one line, not a log
        assert err.getvalue().count("\n") == 1 and ": not a log (" in err.getvalue()
        return
    assert code == 0
    assert (folder / "r.html").stat().st_size > 0


@FUZZ
@given(st.lists(st.binary(max_size=600), min_size=1, max_size=8), st.integers(16, 200))
def test_random_bytes_and_invalid_utf8_are_counted_not_fatal(
    chunks: list[bytes], max_line: int
) -> None:
    """However bytes are chunked, every line is decoded, parsed and counted."""
    stats = SourceStats()
    lines = list(decode_lines(iter(chunks), stats, max_line=max_line))
    data = b"".join(chunks)
    assert len(lines) >= data.count(b"\n")
    undecodable = sum(1 for line in data.split(b"\n") if not valid_utf8(line))
    if undecodable:
        assert stats.undecodable_lines >= 1
    texts = [line if isinstance(line, str) else line.text for line in lines]
    parser = Parser()
    list(parser.iter_events(log_events(texts)))
    check_counts(parser)


def valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------- the CLI on nasty files

PEAK_RSS_LIMIT_MB = 256


#: Runs its arguments as a child and writes the child's peak RSS (KiB) to the file in argv[1].
#: A go-between is needed: Linux hands a child the high-water mark of the process that forked
#: it, so measured straight from the test process the floor would be pytest's own size.
MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def run_measured(*argv: str) -> tuple[int, str, str, float]:
    """Run ``python -m lambda_trace analyze`` in a child: (exit code, stdout, stderr, peak MB)."""
    with tempfile.TemporaryDirectory() as folder:
        rss_file = os.path.join(folder, "rss")
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, rss_file,
             sys.executable, "-m", "lambda_trace", "analyze", "--no-progress", *argv],
            capture_output=True, text=True, timeout=240,
        )
        with open(rss_file) as f:
            peak_kib = int(f.read())
    return done.returncode, done.stdout, done.stderr, peak_kib / 1024


def gzip_of_zeros(mib: int) -> bytes:
    """A gzip member of ``mib`` MiB of zeros, built from one compressed MiB repeated.

    After a full flush the next deflate blocks do not refer back, so the same bytes can follow
    themselves; only the CRC has to be computed over the whole.
    """
    block = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + ((mib << 20) & 0xFFFFFFFF).to_bytes(4, "little")
    return header + piece * mib + compressor.flush() + trailer


@pytest.fixture(scope="module")
def nasty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("nasty")
    rid = "0f0e0d0c-0b0a-4000-8000-000000000001"
    call = json.dumps({"lambda_trace": 1, "type": "call", "request_id": rid, "name": "s3.GetObject",
                       "kind": "aws", "start_ms": 1.0, "duration_ms": 3.0, "status": "ok"})
    with open(folder / "long_lines.log", "w", encoding="utf-8") as f:
        f.write(f"START RequestId: {rid} Version: $LATEST\n")
        f.write("x" * 10_000_000 + "\n")  # free text
        f.write('{"lambda_trace":1,"type":"call","name":"' + "a" * 10_000_000 + '"}\n')
        f.write(call + "\n")
        f.write(f"END RequestId: {rid}\n")
        f.write(f"REPORT RequestId: {rid}\tDuration: 12.00 ms\tBilled Duration: 12 ms\t"
                "Memory Size: 128 MB\tMax Memory Used: 50 MB\t\n")
    with open(folder / "truncated_json.log", "w", encoding="utf-8") as f:
        for cut in range(1, len(call), 7):
            f.write(call[:cut] + "\n")
        f.write('{"time":"2026-11-27T00:00:00.000Z","type":"platform.report","record":{\n')
    (folder / "invalid_utf8.log").write_bytes(
        b"START RequestId: \xff\xfe Version: $LATEST\n\xc3\x28\xa0\xa1\n\xed\xa0\x80 surrogate\n"
        + os.urandom(200_000)
    )
    # 2 GiB of zeros in about 2 MB: a gzip bomb.
    # (after a log line: zeros alone are not a log, and would stop at "not a log")
    (folder / "bomb.log.gz").write_bytes(
        gzip.compress(b"START RequestId: 8e4fda21-3939-4a20-8d52-8eb18debcd13 Version: 1\n")
        + gzip_of_zeros(2048))
    # A CloudWatch subscription envelope whose base64 gzip payload inflates to 1 GiB.
    payload = gzip_of_zeros(1024)

    (folder / "embedded_bomb.jsonl").write_text(
        json.dumps({"awslogs": {"data": base64.b64encode(payload).decode()}}) + "\n"
    )
    return folder


def test_ten_megabyte_lines_are_cut_and_counted(nasty: Path) -> None:
    """A 10 MB text line is cut and counted, a 10 MB JSON line streamed; the invocation stays."""
    code, out, err, peak = run_measured(str(nasty / "long_lines.log"))
    assert code == 0, err
    assert "Traceback" not in err
    assert "1 truncated line" in out, out
    assert "1 invocations" in out or "1 invocation" in out, out
    assert peak < PEAK_RSS_LIMIT_MB, peak


def test_truncated_json_is_counted_as_malformed(nasty: Path) -> None:
    """JSON records cut at every length are malformed or unparsed lines, never a crash."""
    code, out, err, peak = run_measured(str(nasty / "truncated_json.log"))
    assert code == 0, err
    assert "1 malformed JSON line" in out, out
    assert peak < PEAK_RSS_LIMIT_MB, peak


def test_invalid_utf8_is_replaced_and_counted(nasty: Path) -> None:
    """Bad bytes become U+FFFD; the lines that had them are counted as undecodable."""
    code, out, err, peak = run_measured(str(nasty / "invalid_utf8.log"))
    assert code == 0, err
    assert "undecodable lines" in out, out
    assert peak < PEAK_RSS_LIMIT_MB, peak


def test_a_gzip_bomb_is_capped_counted_and_reported(nasty: Path) -> None:
    """A 2 MB .gz that inflates to 2 GiB stops at --max-decompressed, in bounded memory."""
    code, out, err, peak = run_measured("--max-decompressed", "64M", str(nasty / "bomb.log.gz"))
    assert code == 0, err
    assert "1 inputs cut at the size limit" in out or "1 input cut at the size limit" in out, out
    assert "stopped after 67108864 bytes of log text" in err, err
    assert peak < PEAK_RSS_LIMIT_MB, peak


def test_an_embedded_base64_gzip_bomb_is_refused(nasty: Path) -> None:
    """A subscription payload that inflates past its limit is skipped as malformed, not inflated."""
    code, _, err, peak = run_measured(str(nasty / "embedded_bomb.jsonl"))
    assert code == 0, err
    assert "could not be decoded" in err and "bytes decompressed" in err, err
    assert peak < PEAK_RSS_LIMIT_MB, peak


# --------------------------------------------------------------------- coverage-guided (atheris)

ATHERIS_TARGET = """
import sys
import atheris

with atheris.instrument_imports():
    from lambda_trace.analyzer.inputs import decode_lines
    from lambda_trace.analyzer.model import LogEvent
    from lambda_trace.analyzer.parse import Parser
    from lambda_trace.analyzer.sourcestats import SourceStats


def test_one_input(data: bytes) -> None:
    stats = SourceStats()
    lines = decode_lines(iter([data[: len(data) // 2], data[len(data) // 2 :]]), stats,
                         max_line=512)
    texts = [line if isinstance(line, str) else line.text for line in lines]
    parser = Parser()
    events = [LogEvent(t, 1_700_000_000_000 + i, "s", "/aws/lambda/fn", "fuzz")
              for i, t in enumerate(texts)]
    list(parser.iter_events(events))
    s = parser.stats
    if s.recognised + s.app + s.continued + s.unparsed + s.malformed + s.ignored != s.lines:
        raise AssertionError(f"line counters do not add up: {s}")


atheris.Setup(sys.argv, test_one_input)
atheris.Fuzz()
"""


def test_coverage_guided_fuzzing_finds_no_crash(tmp_path: Path) -> None:
    """libFuzzer (atheris), seeded with the real corpus, runs a bounded smoke without a crash."""
    pytest.importorskip("atheris")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i, path in enumerate(corpus_files()):
        (seeds / f"seed{i}").write_bytes(path.read_bytes()[:4096])
    (tmp_path / "target.py").write_text(ATHERIS_TARGET)
    runs = 100_000 if LONG else 1_500
    seconds = 300 if LONG else 30
    done = subprocess.run(
        [sys.executable, str(tmp_path / "target.py"), f"-runs={runs}", "-max_len=4096",
         f"-max_total_time={seconds}", f"-artifact_prefix={tmp_path}/", str(seeds)],
        capture_output=True, text=True, timeout=seconds + 120, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done" in done.stderr, done.stderr[-2000:]
