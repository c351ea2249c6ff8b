"""The test data is self-contained: every corpus file has its provenance, the schema its source."""

from __future__ import annotations

import hashlib
import re

from testdata import CORPUS, DATA, EMF_SCHEMA, PROVENANCE, corpus_files

SECTION = re.compile(r"^## `(?P<name>[^`]+)` — (?P<lines>\d+) lines?$", re.M)


def sections() -> dict[str, tuple[int, str]]:
    """File name -> (line count it states, the text of its section)."""
    text = PROVENANCE.read_text(encoding="utf-8")
    found = list(SECTION.finditer(text))
    out = {}
    for match, following in zip(found, [*found[1:], None]):
        body = text[match.end() : following.start() if following else len(text)]
        out[match["name"]] = (int(match["lines"]), body)
    return out


def test_every_corpus_file_has_a_provenance_section_with_links():
    """Each file is named in PROVENANCE.md, with its line count and at least one public URL."""
    names = sorted(str(p.relative_to(CORPUS)) for p in corpus_files())
    assert len(names) >= 20
    listed = sections()
    assert sorted(listed) == names
    for name, (_, body) in listed.items():
        assert re.search(r"\| https://", body), f"{name}: no source URL"


def test_each_file_has_the_number_of_lines_its_provenance_states():
    """Line numbers in PROVENANCE.md refer to the files as stored (split on LF, CR kept)."""
    for name, (stated, _) in sections().items():
        data = (CORPUS / name).read_bytes()
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        assert len(lines) == stated, name


def test_raw_carriage_returns_survive_in_the_stored_corpus():
    """python_errors.log line 1 holds a raw CR inside the line (kept by .gitattributes -text)."""
    first = (CORPUS / "python_errors.log").read_bytes().split(b"\n")[0]
    assert first.startswith(b"LAMBDA_WARNING") and b"\r{" in first


def test_the_emf_schema_is_the_one_its_source_note_names():
    note = (DATA / "emf_schema.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(EMF_SCHEMA.read_bytes()).hexdigest()
    assert digest in note and "https://" in note
