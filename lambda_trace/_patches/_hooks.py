"""Post-import hooks by module name, without importing the module or wrapt ourselves.

``when_imported("botocore.client", hook)`` runs ``hook(module)`` now if the module is already
imported, or right after its import otherwise. It works like ``wrapt.register_post_import_hook``
(a meta-path finder whose loader runs the hooks after ``exec_module``), but importing wrapt itself
costs ≈30 ms in a handler that never imports botocore or urllib3; this way wrapt is imported only
once a patch target actually arrives. Hooks cannot be unregistered: wrappers are inert outside an
invocation instead.
"""

from __future__ import annotations

import sys
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: `typing` costs ≈5 ms of cold start
    from types import ModuleType
    from typing import Any, Callable, Optional

    Hook = Callable[[ModuleType], None]

_hooks: dict[str, list[Hook]] = {}
_lock = threading.RLock()


def when_imported(module_name: str, hook: Hook) -> None:
    """Run ``hook(module)`` once ``module_name`` is imported (immediately if it already is)."""
    with _lock:
        module = sys.modules.get(module_name)
        if module is None or not _fully_loaded(module):
            _hooks.setdefault(module_name, []).append(hook)
            _install_finder()
            return
    hook(module)


def _fully_loaded(module: ModuleType) -> bool:
    # A module mid-import is in sys.modules already; its spec says so while it executes.
    spec = getattr(module, "__spec__", None)
    return not getattr(spec, "_initializing", False)


def _run_hooks(module_name: str) -> None:
    with _lock:
        hooks = _hooks.pop(module_name, [])
    module = sys.modules.get(module_name)
    if module is None:
        return
    for hook in hooks:
        try:
            hook(module)
        except Exception as exc:  # never break the user's import
            from lambda_trace import _safety

            _safety.report(f"patching {module_name}", exc)


class _HookLoader:
    """Wraps the real loader; runs the hooks after the module body has executed."""

    def __init__(self, loader: Any, module_name: str) -> None:
        self._loader = loader
        self._module_name = module_name

    def create_module(self, spec: Any) -> Optional[ModuleType]:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        # Present the real loader to everything that inspects the module afterwards.
        module.__loader__ = self._loader
        spec = getattr(module, "__spec__", None)
        if spec is not None:
            spec.loader = self._loader
        self._loader.exec_module(module)
        _run_hooks(self._module_name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _Finder:
    """A meta-path finder that only answers for modules with pending hooks."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in _hooks:
            return None
        for finder in list(sys.meta_path):
            if finder is self or isinstance(finder, _Finder):
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _HookLoader(loader, fullname)
        return spec

    def invalidate_caches(self) -> None:
        pass


_finder = _Finder()


def _install_finder() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _finder)
