"""The report's building blocks: a :class:`Section` of figures, tables and key/value lists, and
the small readers every section loader shares (errors name the file and line)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at

MAX_TABLE_ROWS = 40


@dataclass
class Section:
    """One report section: a title, optional intro text, figures, tables and key/value lists."""

    id: str
    title: str
    intro: str = ""
    sources: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def figure(self, uri: str, caption: str = "") -> None:
        self.blocks.append({"type": "figure", "uri": uri, "caption": caption})

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        caption: str = "",
        limit: int = MAX_TABLE_ROWS,
    ) -> None:
        rows = list(rows)
        columns = list(columns) if columns else column_names(rows)
        cells = [[fmt(r.get(c)) for c in columns] for r in rows[:limit]]
        self.blocks.append(
            {
                "type": "table",
                "columns": columns,
                "rows": cells,
                "caption": caption,
                "more": max(0, len(rows) - limit),
            }
        )

    def keyvalues(self, items: Mapping[str, Any], caption: str = "") -> None:
        self.blocks.append(
            {"type": "kv", "items": [(k, fmt(v)) for k, v in items.items()], "caption": caption}
        )

    def text(self, text: str, kind: str = "p") -> None:
        self.blocks.append({"type": kind, "text": text})

    def json_keyvalues(self, run: Path, path: Path, caption: str) -> None:
        """When ``path`` exists: name it as a source and, if it holds a JSON object, list its
        top-level scalars (nested values are left out)."""
        if not path.is_file():
            return
        self.sources.append(rel(run, path))
        obj = read_json(path)
        if isinstance(obj, dict):
            self.keyvalues(scalars(obj), caption)


def column_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    return cols


def fmt(value: Any) -> str:
    """A cell's text: floats (also numeric strings from CSV files) with 3 decimals."""
    if value is None:
        return ""
    if isinstance(value, str) and "." in value and len(value) < 40:
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON ({exc.msg})", where=at(path, exc.lineno)) from exc


def read_csv(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV ({exc})", where=str(path)) from exc


def rel(run: Path, path: Path) -> str:
    return str(path.relative_to(run))


def scalars(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if isinstance(v, str | int | float | bool) or v is None}
