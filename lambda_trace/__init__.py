"""lambda-trace: time every downstream call of an AWS Lambda handler with one decorator.

Importing this package imports no botocore, boto3, urllib3, requests, wrapt or Powertools:
patches are installed when their targets are imported, Powertools on the first metrics flush.
"""

from __future__ import annotations

from lambda_trace._config import Settings, Sink
from lambda_trace._decorator import trace
from lambda_trace._segment import segment
from lambda_trace._user import annotate, metric

__all__ = ["Settings", "Sink", "annotate", "metric", "segment", "trace"]
__version__ = "0.1.0"
