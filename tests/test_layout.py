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
* a package's ``__init__.py`` is named for the package: ``analyzer/findings/`` -> ``test_findings``;
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
import re
from pathlib import Path
from typing import Optional

PACKAGE = Path(__file__).resolve().parent.parent / "lambda_trace"
TESTS = Path(__file__).resolve().parent

#: module (relative to lambda_trace/) -> "test_x.py: why it has no test module of its own"
TESTED_ELSEWHERE: dict[str, str] = {}

#: test modules about a topic across modules, named for no one module
TOPIC_TESTS: set[str] = set()


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


def has_behaviour(module: str) -> bool:
    """Anything beyond a docstring, imports and ``__all__`` (checked on the code, not claimed)."""
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
    """Test module name -> the source module it is named for (modules listed in TESTED_ELSEWHERE
    claim no name; where two modules share a name, the one with behaviour holds it)."""
    owners: dict[str, str] = {}
    for module in sorted(modules(), key=lambda m: not has_behaviour(m)):
        name = expected_test(module)
        if name is not None and module not in TESTED_ELSEWHERE:
            owners.setdefault(name, module)
    return owners


def test_every_module_with_behaviour_has_its_test_module_or_an_entry() -> None:
    present = present_tests()
    missing = [f"{m} (wants {expected_test(m)})" for m in modules()
               if has_behaviour(m) and m not in TESTED_ELSEWHERE and expected_test(m) not in present]
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
    present, sources = present_tests(), set(modules())
    for module in TESTED_ELSEWHERE:
        test = entry_test(module)
        assert module in sources, f"TESTED_ELSEWHERE names a module that is gone: {module}"
        assert test in present, f"{module}: its entry names a test that is gone: {test}"
        assert has_behaviour(module), f"{module} has no behaviour: its entry is not needed"
        own = expected_test(module)
        assert own not in present or own in claimed(), (
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
    assert TOPIC_TESTS <= present, f"TOPIC_TESTS names tests that are gone: {TOPIC_TESTS - present}"
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
