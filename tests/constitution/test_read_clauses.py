"""One reader of constitution files for every command that uses clauses: a drafted
``constitution.yaml`` (validated) or a hand-written list, giving the one clause type."""

from __future__ import annotations

import pytest

from pluralign.constitution.document import read_clauses
from pluralign.errors import InputError


def test_read_clauses_forms_and_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("- Be honest.\n- id: k\n  text: Be kind.\n  provenance: {group: g2}\n")
    cs = read_clauses(p)
    assert [(c.id, c.text, c.group) for c in cs] == [
        ("c1", "Be honest.", ""),
        ("k", "Be kind.", "g2"),
    ]
    p.write_text("clauses:\n  - id: a\n    text: ''\n")
    with pytest.raises(InputError, match="clause 1 has no text"):
        read_clauses(p)
    p.write_text("title: x\n")
    with pytest.raises(InputError, match="clauses"):
        read_clauses(p)


def test_constitution_round_trip_in_the_shared_format(tmp_path):
    import yaml

    from pluralign.constitution import write_constitution
    from pluralign.constitution.document import Clause, Constitution

    c = Constitution("T", (Clause("i1", "Be kind.", note={"turn": 1, "group": "g2"}),))
    p = write_constitution(c, tmp_path)[0]
    assert yaml.safe_load(p.read_text())["format"] == "pluralign-constitution/1"
    assert read_clauses(p) == list(c.clauses)
    assert read_clauses(p)[0].group == "g2" and read_clauses(p)[0].statements == []
    p.write_text(p.read_text().replace("title: T", "title: ''"))
    with pytest.raises(InputError, match="title"):
        read_clauses(p)  # files in the shared format are validated by pluralign.constitution
