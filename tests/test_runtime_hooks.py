"""Post-import hooks by module name: run now if imported, else right after the import."""

from __future__ import annotations

import sys

from lambda_trace._patches import _hooks


def test_hook_runs_immediately_for_an_imported_module():
    seen = []
    _hooks.when_imported("json", seen.append)
    assert seen == [sys.modules["json"]]


def test_hook_runs_after_a_later_import(tmp_path, monkeypatch):
    """The hook sees the fully executed module, which keeps its real loader."""
    (tmp_path / "lt_hook_target.py").write_text("VALUE = 41\nVALUE += 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    _hooks.when_imported("lt_hook_target", lambda m: seen.append(m.VALUE))
    assert seen == []
    import lt_hook_target

    assert seen == [42]
    assert type(lt_hook_target.__loader__).__name__ == "SourceFileLoader"
    sys.modules.pop("lt_hook_target", None)


def test_a_failing_hook_never_breaks_the_import(tmp_path, monkeypatch, capsys):
    (tmp_path / "lt_hook_broken.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    def broken(module):
        raise RuntimeError("patch failed")

    _hooks.when_imported("lt_hook_broken", broken)
    import lt_hook_broken

    assert lt_hook_broken.X == 1
    assert "patch failed" in capsys.readouterr().err
    sys.modules.pop("lt_hook_broken", None)


def test_modules_without_hooks_are_left_to_the_normal_finders():
    assert _hooks._finder.find_spec("some_module_nobody_hooks") is None
