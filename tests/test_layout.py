"""Tests mirror the source layout: one test module per source module, under one naming scheme.

The scheme, the one tests/ already follows (paths below are relative to ``lambda_trace/``):

* the runtime (``*.py`` at the top and the patches in ``_patches/``) is ``test_runtime_<name>.py``,
  a leading underscore dropped and ``_patches`` left out: ``_batch.py`` -> ``test_runtime_batch``,
  ``sinks.py`` -> ``test_runtime_sinks``, ``_patches/aws_sdk.py`` -> ``test_runtime_aws_sdk``.
  "runtime" keeps them apart from the analyzer's modules of the same name (records, errors);
* the analyzer, the bulk of the package, is unprefixed: ``analyzer/join.py`` -> ``test_join``,
  and its subpackages prefix their own name: ``analyzer/render/html.py`` -> ``test_render_html``,
  ``analyzer/findings/memory.py`` -> ``test_findings_memory``, ``analyzer/lines/iso.py`` ->
  ``test_lines_iso``;
* ``local/`` and ``cli/`` prefix theirs: ``test_local_runner``, ``test_cli_shell``;
* a package's ``__init__.py`` with behaviour is named for the package: ``analyzer/findings/`` ->
  ``test_findings``, ``_patches/`` -> ``test_runtime_patches``;
* a further test module of one source module adds its aspect: ``test_parse_hotpath``,
  ``test_render_terminal_width``, ``test_runtime_db_process``.

A module with behaviour has its test module, or an entry in ``TESTED_ELSEWHERE`` saying which test
covers it and why it has none of its own. A module with no behaviour (only a docstring, imports
and ``__all__``: a package marker or a re-export) needs neither. A test module is named for a
module or is a cross-cutting test in ``TOPIC_TESTS``. Every entry of either table must name a
module and test files that exist and still need the entry, so the tables cannot rot.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Optional

PACKAGE = Path(__file__).resolve().parent.parent / "lambda_trace"
TESTS = Path(__file__).resolve().parent

#: module (relative to lambda_trace/) -> "test_x.py: why it has no test module of its own"
TESTED_ELSEWHERE: dict[str, str] = {
    # the runtime
    "__init__.py": "test_runtime_import.py: its PEP 562 lazy names (same objects, an unknown one"
    " an AttributeError) are import guarantees, tested there in fresh interpreters",
    "__main__.py": "test_cli_manners.py: two lines; the cases there run python -m lambda_trace",
    "_contract.py": "test_contract_keys.py: the record contract's constants, checked against every"
    " key real handlers write",
    "errors.py": "test_cli_exits.py: CliError alone (test_runtime_errors.py is _errors.py's);"
    " its message and exit code become the exit there",
    "finding_kinds.py": "test_findings.py: a table of names; the findings' order by KINDS is"
    " checked there",
    "logevent.py": "test_local_logsink.py: the LogEvent shape the local runner writes and the"
    " analyzer reads, built and read by both halves' tests",
    "schema.py": "test_contract_keys.py: the record classes every written key must belong to;"
    " from_dict and the limits are exercised by test_records.py and test_runtime_records.py",
    "_held_io.py": "test_runtime_libc.py: the gate of _libc's calls (None until _ctypes is"
    " loaded, then a HeldCalls per caller), checked with them there",
    "_thread_timer.py": "test_runtime_lastword.py: the POSIX timer behind the default last word,"
    " armed and fired in fresh interpreters there",
    "_patches/__init__.py": "test_runtime_import.py: instrument()'s hooks by module name: a target"
    " imported before or after @trace is patched, a switched-off one left alone",
    "_patches/_suppress.py": "test_runtime_aws_sdk.py: one shared set; its point, an AWS call"
    " through urllib3 and http.client counted once, is checked there",
    "_patches/_url.py": "test_runtime_http_privacy.py: route, http_route and strip_userinfo, and"
    " no credential in any client's recorded host or route",
    "_patches/_wrap.py": "test_runtime_import.py: is_wrapped on botocore, urllib3 and http.client"
    " after @trace; every patch test installs its wrappers",
    "_patches/aiohttp_client.py": "test_runtime_http_async.py: aiohttp against the loopback"
    " server, one call per request",
    "_patches/httpx_client.py": "test_runtime_http_async.py: httpx sync and async against the"
    " loopback server, one call per request",
    "_patches/db_errors.py": "test_runtime_db.py: error class and code of real PostgreSQL and"
    " MariaDB errors (42P01, 23505, 1062, ...)",
    "_patches/mysql.py": "test_runtime_db.py: pymysql against a real MariaDB",
    "_patches/pg_pg8000.py": "test_runtime_db.py: pg8000 against a real PostgreSQL",
    "_patches/pg_psycopg.py": "test_runtime_db.py: psycopg 3 against a real PostgreSQL",
    "_patches/pg_psycopg2.py": "test_runtime_db.py: psycopg2 against a real PostgreSQL",
    "_patches/postgres.py": "test_runtime_db.py: the three PostgreSQL drivers' shared hook table",
    "_patches/redis_client.py": "test_runtime_db.py: redis-py against a real Redis;"
    " test_runtime_db_sql.py checks its command names",
    "_patches/sqlite.py": "test_runtime_db.py: sqlite3 connections and statements",
    # the analyzer
    "analyzer/cli.py": "test_not_a_log.py: the old entry point kept working; run there as"
    " python -m lambda_trace.analyzer.cli, and its main() by every test_cmd_* module",
    "analyzer/aws_access.py": "test_function_checks.py: the clients and the rule for a failing"
    " call (AccessDenied and the rest), through the configuration checks",
    "analyzer/faults.py": "test_findings_causes.py: what ended an invocation, counted by the"
    " aggregate and reported by the causes finders",
    "analyzer/findings/limits.py": "test_resource_limits.py: the resource_limit finder, next to"
    " the quota detection it reports",
    "analyzer/findings/model.py": "test_findings.py: the kinds and severities the findings are"
    " ordered by; Finding is built by every test_findings_* module",
    "analyzer/findings_config.py": "test_function_checks.py: the findings from a function's"
    " configuration and metrics",
    "analyzer/function_config.py": "test_function_checks.py: the configuration read from moto;"
    " test_lambda_metrics.py reads its metrics",
    "analyzer/insights_queries.py": "test_cmd_queries.py: the record queries use only fields"
    " the records have, and lambda-trace queries prints every one",
    "analyzer/invocation_detail.py": "test_cmd_show.py: mask_secrets, nest_calls and what"
    " lambda-trace show gathers",
    "analyzer/joined.py": "test_join.py: the Invocation, Call and tallies the join hands on",
    "analyzer/lines/access_denied.py": "test_platform.py: TestAccessDenied, through the platform"
    " facade that re-exports every line builder",
    "analyzer/lines/app_json.py": "test_platform.py: TestJsonAppRecords",
    "analyzer/lines/errors.py": "test_platform.py: TestRuntimeErrors",
    "analyzer/lines/faults.py": "test_platform.py: TestFaults",
    "analyzer/lines/platform_json.py": "test_platform.py: TestJsonPlatform",
    "analyzer/lines/platform_text.py": "test_platform.py: TestStartEnd, TestReport and"
    " TestInitRestoreExtensions",
    "analyzer/lines/continuation.py": "test_parse.py: multi-line records and their continuation"
    " lines, through Parser",
    "analyzer/lines/json_lines.py": "test_parse.py: JSON lines decoded, salvaged and"
    " reassembled, through Parser",
    "analyzer/lines/state.py": "test_parse.py: the parser's per-stream state, through Parser",
    "analyzer/lines/text_lines.py": "test_parse.py: TestCommonLines and TestCopies, through Parser",
    "analyzer/model.py": "test_platform.py: every builder gives exactly EVENT_KEYS; Event and"
    " LogEvent are built by most analyzer tests",
    "analyzer/pipeline.py": "test_report.py: log events to the report document, end to end",
    "analyzer/redaction.py": "test_parse_hotpath.py: the parser's one redaction point, on the"
    " hot path; test_hardening_analyzer_secrets.py checks no secret reaches a report",
    "analyzer/render/common.py": "test_hardening_analyzer_render.py: hostile log text cleaned in"
    " every text format; test_render_markdown.py renders through it",
    "analyzer/render/layout.py": "test_render_terminal_width.py: never wider than the terminal,"
    " never splitting an identifier",
    "analyzer/render/metrics_section.py": "test_lambda_metrics.py: the metrics section in every"
    " format",
    "analyzer/render/show.py": "test_cmd_show.py: lambda-trace show's terminal timeline at each"
    " width",
    "analyzer/render/tables.py": "test_render_markdown.py: the tables the terminal, Markdown and"
    " HTML renderers share",
    "analyzer/slowest_entry.py": "test_fleet.py: the slowest invocation's calls, the call in"
    " flight and calls_not_shown",
    "analyzer/sourcestats.py": "test_inputs.py: what reading cost and skipped, per input",
    "analyzer/stackdump.py": "test_runtime_lastword.py: real faulthandler dumps merged into a"
    " timeout warning; test_parse_hotpath.py reads them in the parser",
    # the command line: each module adds one command's arguments
    "cli/analyze.py": "test_cmd_analyze.py: lambda-trace analyze's arguments, parsed by main()",
    "cli/choices.py": "test_cli_shell.py: the help's copies equal their owners",
    "cli/demo.py": "test_local_cmd_demo.py: lambda-trace demo run as a user runs it",
    "cli/events.py": "test_cmd_events.py: lambda-trace events' arguments, parsed by main()",
    "cli/invoke.py": "test_local_cmd_invoke.py: lambda-trace invoke's arguments, parsed by main()",
    "cli/queries.py": "test_cmd_queries.py: lambda-trace queries' arguments, parsed by main()",
    "cli/show.py": "test_cmd_show.py: lambda-trace show's arguments, parsed by main()",
    "cli/sources.py": "test_sources.py: the arguments naming where the logs come from",
    # the local runner
    "local/demo_account.py": "test_local_cmd_demo.py: the demo's functions registered in moto,"
    " whose metrics the combined report shows",
    "local/events.py": "test_local_cmd_invoke.py: generated sample events invoked;"
    " test_local_user_template.py generates them for a user's template",
    "local/postgres.py": "test_local_demo.py: the demo's PostgreSQL, started and seeded",
    "local/return_values.py": "test_local_intrinsics.py: resources' return values (Ref, GetAtt)"
    " the intrinsics resolve",
    "local/seed.py": "test_samples.py: the sample template provisioned and seeded in moto",
    "local/user_seed.py": "test_local_user_template.py: a user's --seed file run before the first"
    " invocation",
    "local/world.py": "test_samples.py: the provisioned, seeded world the sample functions run in",
}

#: test modules about a topic across modules, named for no one module
TOPIC_TESTS: set[str] = {
    # hardening rounds: limits, faults, secrets and concurrency across modules
    "test_hardening_analyzer_cloudwatch.py", "test_hardening_analyzer_render.py",
    "test_hardening_analyzer_round2.py", "test_hardening_analyzer_secrets.py",
    "test_hardening_bounds.py", "test_hardening_concurrency.py", "test_hardening_faults.py",
    "test_hardening_local.py", "test_hardening_round2.py", "test_hardening_round2_process.py",
    "test_hardening_secrets.py", "test_hardening_transparency.py",
    # end to end, corpora and real-log shapes
    "test_end_to_end_causes.py", "test_field_corpus.py", "test_fuzz_parser.py",
    "test_line_shapes.py", "test_not_a_log.py", "test_sample_orders_pg.py", "test_samples.py",
    "test_local_user_template.py",
    # the runtime's guarantees across its modules
    "test_contract_keys.py", "test_runtime_import.py", "test_runtime_tail.py",
    "test_runtime_http_async.py", "test_runtime_http_privacy.py",
    # the analyzer and the command line as wholes: schema versions, imports, manners
    "test_analyzer_v2.py", "test_cli_imports.py", "test_cli_manners.py",
    # the repository itself: template, benchmarks, test data, tests
    "test_template.py", "test_template_dashboard.py", "test_bench_bytes.py",
    "test_bench_stages.py", "test_bench_watchdog_gil.py", "test_benchmarks_smoke.py",
    "test_testdata.py",
    "test_clock_literals.py", "test_layout.py",
}


def modules() -> list[str]:
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def expected_test(module: str) -> Optional[str]:
    """The test module the scheme names for ``module`` (None for the package's own __init__)."""
    parts = module[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts:
        return None
    if parts[0] == "analyzer":
        parts = parts[1:] or ["analyzer"]
    elif parts[0] not in ("local", "cli"):
        parts = ["runtime", *(parts if parts == ["_patches"] else [p for p in parts
                                                                  if p != "_patches"])]
    return "test_" + "_".join(p.strip("_") for p in parts) + ".py"


@functools.cache
def has_behaviour(module: str) -> bool:
    """Anything beyond a docstring, imports and ``__all__`` (read from the code, never declared)."""
    for node in ast.parse((PACKAGE / module).read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "__all__"):
            continue
        return True
    return False


def present_tests() -> set[str]:
    return {p.name for p in TESTS.glob("test_*.py")}


def entry_test(module: str) -> str:
    test, sep, why = TESTED_ELSEWHERE[module].partition(": ")
    assert sep and why.strip(), f"{module}: the entry reads 'test_x.py: why'"
    return test


def claimed() -> dict[str, str]:
    """Test module name -> the source module it is named for.

    A module listed in TESTED_ELSEWHERE claims no name, nor does a package marker (an
    ``__init__.py`` without behaviour: otherwise every ``test_local_*`` would be named for it);
    where two modules share a name, the one with behaviour holds it.
    """
    owners: dict[str, str] = {}
    for module in sorted(modules(), key=lambda m: not has_behaviour(m)):
        name = expected_test(module)
        if name is None or module in TESTED_ELSEWHERE:
            continue
        if module.endswith("__init__.py") and not has_behaviour(module):
            continue
        owners.setdefault(name, module)
    return owners


def test_every_module_with_behaviour_has_its_test_module_or_an_entry() -> None:
    present = present_tests()
    missing = [f"{m} (wants {expected_test(m)})" for m in modules() if has_behaviour(m)
               and m not in TESTED_ELSEWHERE and expected_test(m) not in present]
    assert not missing, "no test module and no TESTED_ELSEWHERE entry:\n" + "\n".join(missing)


def test_two_modules_never_share_a_test_name() -> None:
    seen: dict[str, list[str]] = {}
    for module in modules():
        name = expected_test(module)
        if name is not None and has_behaviour(module) and module not in TESTED_ELSEWHERE:
            seen.setdefault(name, []).append(module)
    shared = {name: ms for name, ms in seen.items() if len(ms) > 1}
    assert not shared, f"one test name for two modules (list all but one): {shared}"


def test_tested_elsewhere_entries_are_live() -> None:
    present, sources, owners = present_tests(), set(modules()), claimed()
    for module in TESTED_ELSEWHERE:
        test = entry_test(module)
        assert module in sources, f"TESTED_ELSEWHERE names a module that is gone: {module}"
        assert test in present, f"{module}: its entry names a test that is gone: {test}"
        assert has_behaviour(module), f"{module} has no behaviour: its entry is not needed"
        own = expected_test(module)
        assert own not in present or own in owners, (
            f"{module} now has its own {own}: drop its TESTED_ELSEWHERE entry")


def named_for(test: str, owners: dict[str, str]) -> Optional[str]:
    """The module ``test`` is named for, exactly or with an aspect added (the longest match)."""
    stem = test[: -len(".py")]
    for name in sorted(owners, key=len, reverse=True):
        if stem == name[: -len(".py")] or stem.startswith(name[: -len(".py")] + "_"):
            return owners[name]
    return None


def test_every_test_module_is_named_for_a_module_or_is_a_topic() -> None:
    owners = claimed()
    stray = sorted(t for t in present_tests() if t not in TOPIC_TESTS and not named_for(t, owners))
    assert not stray, "test modules named for no module and not in TOPIC_TESTS: " + ", ".join(stray)


def test_topic_tests_exist_and_are_named_for_no_module() -> None:
    present, owners = present_tests(), claimed()
    assert present >= TOPIC_TESTS, f"TOPIC_TESTS names tests that are gone: {TOPIC_TESTS - present}"
    misfiled = {t: named_for(t, owners) for t in TOPIC_TESTS if named_for(t, owners)}
    assert not misfiled, f"named for a module, so not a topic: {misfiled}"


def test_the_scheme_names_what_the_repository_names() -> None:
    """The rule itself, on modules whose test modules predate this guard."""
    assert expected_test("_batch.py") == "test_runtime_batch.py"
    assert expected_test("sinks.py") == "test_runtime_sinks.py"
    assert expected_test("_patches/aws_sdk.py") == "test_runtime_aws_sdk.py"
    assert expected_test("_patches/_db.py") == "test_runtime_db.py"
    assert expected_test("_patches/__init__.py") == "test_runtime_patches.py"
    assert expected_test("analyzer/join.py") == "test_join.py"
    assert expected_test("analyzer/render/html.py") == "test_render_html.py"
    assert expected_test("analyzer/findings/__init__.py") == "test_findings.py"
    assert expected_test("local/runner.py") == "test_local_runner.py"
    assert expected_test("cli/shell.py") == "test_cli_shell.py"
    assert expected_test("__init__.py") is None
    assert not has_behaviour("analyzer/__init__.py") and not has_behaviour("cli/__init__.py")
    assert has_behaviour("__init__.py")
    owners = {"test_parse.py": "analyzer/parse.py"}
    assert named_for("test_parse_hotpath.py", owners) == "analyzer/parse.py"
    assert named_for("test_parser.py", owners) is None


def test_entries_read_test_then_why() -> None:
    for module, entry in TESTED_ELSEWHERE.items():
        assert re.fullmatch(r"test_\w+\.py: \S.*", entry), f"{module}: {entry!r}"
