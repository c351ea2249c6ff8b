"""The analyzer on the real log lines in tests/data/field/ (provenance: PROVENANCE.md there).

One test per pasted block: the platform events it holds and the failure causes a report on it
names, against the values read off the lines by hand (tests/field_corpus.py).
"""

from __future__ import annotations

from collections import Counter

import pytest
from field_corpus import CASES, FIELD, Case, _norm, actual


def test_the_field_corpus_is_at_least_150_lines_from_at_least_10_sources() -> None:
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in FIELD.glob("*.log"))
    provenance = (FIELD / "PROVENANCE.md").read_text(encoding="utf-8")
    sources = {line.split("|")[2].strip() for line in provenance.splitlines()
               if line.startswith("| ") and "https://github.com/" in line}
    assert lines >= 150
    assert len(sources) >= 10
    for case in CASES:  # every case's lines exist
        text = (FIELD / case.file).read_text(encoding="utf-8").split("\n")
        assert case.lines[1] <= len(text) - 1, case.name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_platform_events_and_causes(case: Case) -> None:
    events, causes = actual(case)
    assert Counter(events) == Counter(tuple(_norm(v) for v in e) for e in case.events)
    assert causes == case.causes
