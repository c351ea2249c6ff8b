"""Validate EMF documents against AWS's JSON schema plus the rules it cannot express.

The schema is tests/data/emf_schema.json (Powertools 1.10.0's copy, see tests/data/README.md)
with DimensionSet ``maxItems`` raised from 9 to CloudWatch's current 30; the semantic rules
(root members, finite values, 100-metric / 100-value limits, timestamp window, size) are
``lambda_trace.testing.emf_problems``.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any, Union

from lambda_trace.testing import emf_problems

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "emf_schema.json"


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    schema = copy.deepcopy(schema)
    directive = schema["properties"]["_aws"]["properties"]["CloudWatchMetrics"]["items"]
    directive["properties"]["Dimensions"]["items"]["maxItems"] = 30
    return jsonschema.Draft7Validator(schema)


def emf_document_problems(doc: Union[str, dict[str, Any]]) -> list[str]:
    """Schema errors and semantic problems of one EMF document (a line or a decoded dict)."""
    line = doc if isinstance(doc, str) else None
    decoded = json.loads(doc) if isinstance(doc, str) else doc
    problems = [f"schema: {e.message}" for e in _validator().iter_errors(decoded)]
    return problems + emf_problems(decoded, line)


def assert_valid_emf(doc: Union[str, dict[str, Any]]) -> None:
    problems = emf_document_problems(doc)
    assert not problems, problems
