"""Where the tests' data lives: ``tests/data``, inside the repository (nothing outside it is read).

``corpus/`` holds real log text from public sources (``corpus/PROVENANCE.md`` says where each
line came from); ``emf_schema.json`` is the EMF JSON schema (``emf_schema.md``: its source).
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
ENVELOPES = CORPUS / "envelopes"
PROVENANCE = CORPUS / "PROVENANCE.md"
EMF_SCHEMA = DATA / "emf_schema.json"


def corpus_files() -> list[Path]:
    """Every log file of the corpus (its provenance notes excluded), in a stable order."""
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p != PROVENANCE)
