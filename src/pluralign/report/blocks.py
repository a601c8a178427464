"""The report's building blocks: a :class:`Section` of figures, tables, facts and notes, and the
small readers every section loader shares (errors name the file and line).

A table cell is text, or a :class:`Cell` (a value with a smaller second line, e.g. an interval,
and an optional badge such as "worst"); the template renders both. Sections belong to one of the
report's three parts (:data:`PARTS`): the result, how it was made, and the appendix.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.errors import InputError

MAX_TABLE_ROWS = 40

PARTS = (
    ("result", "Result"),
    ("process", "How the result was made"),
    ("appendix", "Appendix"),
)
"""The report's parts in reading order: (id, heading)."""


@dataclass(frozen=True)
class Cell:
    """A table cell: ``text``, an optional smaller line under it (``sub``), an optional badge
    (``badge``, e.g. "worst") and CSS classes (``cls``: ``num``, ``small-n``, ``bad`` ...)."""

    text: str
    sub: str = ""
    badge: str = ""
    cls: str = ""

    def __len__(self) -> int:  # the template's "long cell" test
        return len(self.text) + len(self.sub)


@dataclass
class Section:
    """One report section: a title, optional intro text, and blocks (figures, tables, lists)."""

    id: str
    title: str
    intro: str = ""
    sources: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    part: str = "process"

    def figure(self, uri: str, caption: str = "") -> None:
        self.blocks.append({"type": "figure", "uri": uri, "caption": caption})

    def figures(self, images: Sequence[tuple[str, str]], caption: str = "") -> None:
        """Small figures side by side that wrap on a narrow screen: (uri, alt text) each."""
        self.blocks.append({"type": "figures", "images": list(images), "caption": caption})

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        caption: str = "",
        limit: int = MAX_TABLE_ROWS,
        numeric: Sequence[str] = (),
        links: Mapping[str, str] | None = None,
        optional: Sequence[str] = (),
    ) -> None:
        """Rows of mappings as a table. ``numeric``: right-aligned columns; ``links``: column →
        glossary anchor (the header links to the term's explanation); ``optional``: columns a
        phone leaves out (shown from 481 px on; the page says so)."""
        rows = list(rows)
        columns = list(columns) if columns else column_names(rows)
        cells = [[cell(r.get(c)) for c in columns] for r in rows[:limit]]
        self.blocks.append(
            {
                "type": "table",
                "columns": columns,
                "rows": cells,
                "caption": caption,
                "more": max(0, len(rows) - limit),
                "colcls": _column_classes(columns, numeric, optional),
                "links": [dict(links or {}).get(c, "") for c in columns],
            }
        )

    def grouped_table(
        self,
        columns: Sequence[str],
        groups: Sequence[tuple[Any, Sequence[Sequence[Any]]]],
        caption: str = "",
        numeric: Sequence[str] = (),
        links: Mapping[str, str] | None = None,
        optional: Sequence[str] = (),
    ) -> None:
        """A table in blocks: each ``(heading, rows)`` starts with a full-width heading row
        (text or a :class:`Cell`), then its rows (lists of cells in ``columns`` order); the
        options as for :meth:`table`."""
        self.blocks.append(
            {
                "type": "grouped",
                "columns": list(columns),
                "groups": [(cell(h), [[cell(c) for c in r] for r in rows]) for h, rows in groups],
                "caption": caption,
                "colcls": _column_classes(columns, numeric, optional),
                "links": [dict(links or {}).get(c, "") for c in columns],
            }
        )

    def keyvalues(self, items: Mapping[str, Any], caption: str = "") -> None:
        self.blocks.append(
            {"type": "kv", "items": [(k, cell(v)) for k, v in items.items()], "caption": caption}
        )

    def facts(self, items: Sequence[tuple[str, str]], kind: str = "facts") -> None:
        """A short list of (label, text) facts (``kind``: ``facts`` or ``flow``, a pipeline
        strip whose items read left to right)."""
        self.blocks.append({"type": kind, "items": list(items)})

    def details(self, summary: str, blocks: list[dict[str, Any]], open_: bool = False) -> None:
        """A collapsible group of blocks (HTML ``<details>``; no script needed)."""
        self.blocks.append({"type": "details", "summary": summary, "blocks": blocks, "open": open_})

    def text(self, text: str, kind: str = "p") -> None:
        self.blocks.append({"type": kind, "text": text})

    def sub(self) -> Section:
        """A scratch section whose blocks can go into :meth:`details`."""
        return Section(self.id, self.title)

    def json_keyvalues(self, run: Path, path: Path, caption: str) -> None:
        """When ``path`` exists: name it as a source and, if it holds a JSON object, list its
        top-level scalars (nested values are left out)."""
        if not path.is_file():
            return
        self.sources.append(rel(run, path))
        obj = read_json(path)
        if isinstance(obj, dict):
            self.keyvalues(scalars(obj), caption)


def _column_classes(
    columns: Sequence[str], numeric: Sequence[str], optional: Sequence[str]
) -> list[str]:
    return [
        " ".join(x for x in ("num" if c in numeric else "", "opt" if c in optional else "") if x)
        for c in columns
    ]


def column_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    return cols


def cell(value: Any) -> str | Cell:
    return value if isinstance(value, Cell) else fmt(value)


def fmt(value: Any) -> str:
    """A cell's text: floats (also numeric strings from CSV files) with 3 decimals; lists as
    comma-separated text; mappings as ``key: value`` pairs (never raw JSON)."""
    if value is None:
        return ""
    if isinstance(value, str) and "." in value and len(value) < 40:
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def flatten(obj: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (``train.learning_rate``); lists stay values."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def read_json(path: Path) -> Any:
    """Strict JSON (:func:`pluralign.io.read_json`: errors name the file and line)."""
    from pluralign.io import read_json as strict

    return strict(path)


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; ``None`` when the file is absent. Not an object: an error."""
    if not path.is_file():
        return None
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", where=str(path))
    return obj


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line (:func:`pluralign.io.iter_jsonl`)."""
    from pluralign.io import iter_jsonl as strict

    return strict(path)


def count_lines(path: Path) -> int | None:
    """Non-blank lines of a JSONL file (``None`` when absent)."""
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def read_csv(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV ({exc})", where=str(path)) from exc


def last_round(run: Path) -> Path:
    """The folder of the run's last round (``RUN/rounds.json``, docs/rounds.md): its data,
    training and evaluation are the ones the report shows; the run folder itself for a run of
    one round."""
    path = run / "rounds.json"
    if not path.is_file():
        return run
    rounds = (read_json_object(path) or {}).get("rounds") or []
    return run / rounds[-1]["dir"] if rounds else run


def rel(run: Path, path: Path) -> str:
    return str(path.relative_to(run))


def scalars(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if isinstance(v, str | int | float | bool) or v is None}


def number(value: Any) -> str:
    """An integer count with thousands separators (``1,685``); other values as :func:`fmt`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return fmt(value)
