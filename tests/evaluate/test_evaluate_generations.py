"""A held-out prompt is attributed to the constitution clause whose statements it was written for:
the clauses come from the one constitution reader (a drafted clause lists its statements)."""

from __future__ import annotations

from pluralign.constitution import write_constitution
from pluralign.constitution.document import Clause, Constitution, Evidence, read_clauses
from pluralign.evaluate.generations import clause_of_statements, heldout_prompts


def _evidence(sid: int) -> Evidence:
    return Evidence(sid, f"statement {sid}", 9, 1, 0, {}, 0.7, 0.2)


def test_prompts_get_the_clause_built_on_their_statements(tmp_path):
    c = Constitution("T", (
        Clause("c1", "Keep parks open.", (_evidence(4), _evidence(7))),
        Clause("c2", "Fix the roads.", (_evidence(7), _evidence(9))),  # 7 is c1's first
        Clause("h1", "Be kind."),  # hand-written: no statements
    ))
    path = write_constitution(c, tmp_path)[0]
    by_statement = clause_of_statements(read_clauses(path))
    assert by_statement == {"4": "c1", "7": "c1", "9": "c2"}
    rows = [
        {"prompt": "p1", "provenance": {"statement_ids": [9], "kind": "divisive"}},
        {"prompt": "p2", "provenance": {"statement_ids": [5, 4], "kind": "consensus"}},
        {"prompt": "p3", "provenance": {"statement_ids": [5]}},
        {"prompt": "p2", "provenance": {"statement_ids": [5, 4], "kind": "consensus"}},
    ]
    items = heldout_prompts(rows, 10, by_statement)
    assert [(i["prompt"], i.get("clause"), i["pairs"]) for i in items] == [
        ("p2", "c1", 2), ("p1", "c2", 1), ("p3", None, 1)]
