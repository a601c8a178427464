"""Read and write constitutions (YAML) for the LLM commands.

Format (shared with ``pluralign.constitution``)::

    title: Our assembly's constitution
    clauses:
      - id: c1
        text: The assistant should ...
        provenance: {...}        # statement ids, per-group agreement, or interview turn
    provenance: {...}            # what produced the file

A bare list of clauses, or clauses given as strings, are accepted on reading (ids ``c1``, ``c2``
... are then assigned in order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pluralign.errors import InputError, at


@dataclass(frozen=True)
class Clause:
    id: str
    text: str
    provenance: dict = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The opinion group the clause comes from, when its provenance names one."""
        g = self.provenance.get("group") if isinstance(self.provenance, dict) else None
        return str(g) if g is not None else "all"


def read_clauses(path: Path) -> list[Clause]:
    """The clauses of a constitution YAML file, validated (unique non-empty ids and texts)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the constitution: {exc.strerror}", where=str(path)) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", where=str(path)) from exc
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


def write_constitution(path: Path, title: str, clauses: list[Clause], provenance: dict) -> None:
    """Write a constitution YAML atomically (temp file, then rename)."""
    import os

    import yaml

    doc = {
        "title": title,
        "clauses": [{"id": c.id, "text": c.text, "provenance": c.provenance} for c in clauses],
        "provenance": provenance,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(
        yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    os.replace(tmp, path)
