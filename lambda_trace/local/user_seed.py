"""``--seed FILE.py``: the user's own test data, put in before the first invocation.

The file defines ``seed(session)``; ``session`` is a boto3 session whose clients and resources
go to the local endpoint with the runner's administrator credentials, so
``session.client("s3").put_object(...)`` lands where the function will look.
"""

from __future__ import annotations

import importlib.util
import traceback
from pathlib import Path
from typing import Any

from lambda_trace.local.intrinsics import TemplateError
from lambda_trace.local.provision import Account


class SeedError(TemplateError):
    """The seed file is missing, has no ``seed(session)``, or raised."""


def run(path: Path, account: Account) -> None:
    """Import ``path`` and call its ``seed(session)`` against ``account``'s endpoint."""
    function = _load(Path(path))
    try:
        function(local_session(account))
    except Exception as exc:
        # Name the file and line inside the seed script, not this module's frames.
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        at = f" at line {frames[-1].lineno}" if frames else ""
        message = str(exc).splitlines()[0] if str(exc) else ""
        raise SeedError(f"seed {path}{at} failed: {type(exc).__name__}: {message}") from exc


def local_session(account: Account) -> Any:
    """A boto3 session whose clients and resources default to the local endpoint."""
    import boto3

    endpoint, admin = account.endpoint_url, account.admin

    class LocalSession(boto3.session.Session):  # type: ignore[misc]  # (boto3 has no stubs here)
        def client(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint)
            return super().client(*args, **kwargs)

        def resource(self, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint)
            return super().resource(*args, **kwargs)

    return LocalSession(region_name=account.region, **admin.client_kwargs())


def _load(path: Path) -> Any:
    if not path.is_file():
        raise SeedError(f"no seed file at {path}")
    spec = importlib.util.spec_from_file_location(f"lambda_trace_seed_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SeedError(f"cannot import seed file {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise SeedError(f"seed file {path} failed to import: {type(exc).__name__}: {exc}") from exc
    function = getattr(module, "seed", None)
    if not callable(function):
        raise SeedError(f"seed file {path} defines no seed(session) function")
    return function
