"""Read and write constitutions for the LLM commands.

The file format is ``pluralign.constitution``'s ``constitution.yaml``
(``format: pluralign-constitution/1``; see docs/constitution.md)::

    format: pluralign-constitution/1
    title: Our assembly's constitution
    provenance: {...}
    clauses:
      - id: c1
        text: The assistant should ...
        statements: [...]        # the votes behind the clause (drafted from deliberation)

Such files are validated by :func:`pluralign.constitution.yamlio.constitution_from_yaml`. For
hand-written lists, a file without ``format`` is also read leniently: ``clauses:`` (or a bare
list) of ``{id, text, provenance}`` mappings or plain strings (ids ``c1``, ``c2`` ... in order);
a clause's ``provenance.group`` then sets the opinion group of the preference pairs made from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pluralign.errors import InputError, at
from pluralign.io import atomic_write_text


@dataclass(frozen=True)
class Clause:
    id: str
    text: str
    provenance: dict = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The opinion group the clause speaks for, when its provenance names one; else ``""``
        (no single group: a drafted clause is agreed across every opinion group)."""
        g = self.provenance.get("group") if isinstance(self.provenance, dict) else None
        return str(g) if g is not None else ""


def read_clauses(path: Path) -> list[Clause]:
    """The clauses of a constitution file, validated (unique ids, non-empty texts)."""
    from pluralign.io import parse_yaml, read_text

    path = Path(path)
    text = read_text(path, what="constitution")
    data = parse_yaml(text, str(path))
    if isinstance(data, dict) and "format" in data:
        from pluralign.constitution.yamlio import constitution_from_yaml

        c = constitution_from_yaml(text, str(path))
        return [Clause(cl.id, cl.text.strip(), {"statements": cl.statements}) for cl in c.clauses]
    items = data.get("clauses") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InputError(
            "expected a non-empty 'clauses:' list",
            where=str(path),
            hint="see docs/llm.md, 'Constitution format'",
        )
    clauses: list[Clause] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        if isinstance(item, str):
            item = {"id": f"c{i}", "text": item}
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            raise InputError(f"clause {i} has no text", where=at(path, column=f"clauses[{i}]"))
        cid = str(item.get("id") or f"c{i}")
        if cid in seen:
            raise InputError(
                f"clause id {cid!r} appears twice", where=at(path, column=f"clauses[{i}].id")
            )
        seen.add(cid)
        clauses.append(Clause(cid, str(item["text"]).strip(), item.get("provenance") or {}))
    return clauses


def constitution_yaml(title: str, clauses: list[Clause], provenance: dict) -> str:
    """The text of a ``pluralign-constitution/1`` file of ``clauses``.

    Clauses written here have no votes behind them (``statements: []``); their own provenance
    goes under ``provenance.clauses[<id>]``.
    """
    from pluralign.constitution.draft import Clause as DraftClause
    from pluralign.constitution.draft import Constitution

    prov = {**provenance, "clauses": {c.id: c.provenance for c in clauses}}
    doc = Constitution(
        title=title,
        clauses=tuple(DraftClause(id=c.id, text=c.text, evidence=()) for c in clauses),
        provenance=prov,
    )
    return doc.to_yaml()


def write_constitution(path: Path, title: str, clauses: list[Clause], provenance: dict) -> None:
    """Write :func:`constitution_yaml` atomically (temp file, then rename)."""
    atomic_write_text(path, constitution_yaml(title, clauses, provenance))
