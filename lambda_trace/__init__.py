"""lambda-trace: time every downstream call of an AWS Lambda handler with one decorator.

The public names are loaded on first use (PEP 562), so ``import lambda_trace`` costs almost
nothing and ``lambda_trace.analyzer`` / ``lambda_trace.local`` never load the runtime. Using
``trace`` imports no botocore, boto3, urllib3, requests, wrapt or Powertools: patches are
installed when their targets are imported, Powertools on the first metrics flush.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambda_trace._config import Settings, Sink
    from lambda_trace._decorator import trace
    from lambda_trace._segment import segment
    from lambda_trace._user import annotate, metric

__all__ = ["Settings", "Sink", "annotate", "metric", "segment", "trace"]
__version__ = "0.1.0"

#: public name -> the private module defining it
_HOMES = {
    "Settings": "_config",
    "Sink": "_config",
    "trace": "_decorator",
    "segment": "_segment",
    "annotate": "_user",
    "metric": "_user",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'lambda_trace' has no attribute {name!r}")
    module = f"lambda_trace.{home}"
    __import__(module)
    value = getattr(sys.modules[module], name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
