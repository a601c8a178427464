"""Reading edge rows (upgrade votes) and values cards from files, with errors that name the spot.

Edge rows have the fields ``user, from, to, context, relationship, story`` (``story`` optional).
Accepted aliases: ``participant``/``userId`` for ``user``, ``fromId``/``toId``/``contextId`` (the
Democratic Fine-Tuning database names) and ``type`` for ``relationship``. Files may be CSV, a JSON
array of objects, or JSON Lines (one object a line); the format is chosen by extension (``.csv``,
``.json``, ``.jsonl``/``.ndjson``). Value ids that all look like integers become ints (as in the
published JSON); otherwise they stay strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pluralign.csvtable import read_table
from pluralign.errors import InputError, at
from pluralign.io import iter_jsonl, read_json
from pluralign.moralgraph.types import RELATIONSHIPS, ValuesCard

FIELDS = ("user", "from", "to", "context", "relationship", "story")
ALIASES = {
    "participant": "user", "userId": "user", "fromId": "from", "toId": "to",
    "contextId": "context", "type": "relationship",
}
REQUIRED = ("user", "from", "to", "context", "relationship")


def _normalise_columns(columns, path: Path) -> dict[str, str]:
    mapping = {}
    for c in columns:
        name = ALIASES.get(c, c)
        if name in FIELDS:
            if name in mapping.values():
                raise InputError(f"two columns mean '{name}'", where=str(path),
                                 hint=f"keep one of: {name}, "
                                      + ", ".join(k for k, v in ALIASES.items() if v == name))
            mapping[c] = name
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        raise InputError(f"missing field(s) {', '.join(missing)}", where=str(path),
                         hint="edge rows need: user, from, to, context, relationship[, story]")
    return mapping


def _rows_json(path: Path) -> tuple[list[dict], list[int]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        numbered = list(iter_jsonl(path))
        return [obj for _, obj in numbered], [n for n, _ in numbered]
    data = read_json(path)
    if isinstance(data, dict) and "edges" in data:
        data = data["edges"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError("expected a JSON array of edge objects", where=str(path),
                         hint='[{"user": "p1", "from": 1, "to": 2, "context": "...", '
                              '"relationship": "upgrade"}, ...]')
    return data, []


def _ids(series: pd.Series) -> pd.Series:
    as_text = series.astype(str).str.strip()
    if as_text.str.fullmatch(r"-?\d+").all():
        return as_text.astype("int64").astype(object)
    return as_text.astype(object)


def read_edges(path: str | Path, cards: Sequence[ValuesCard] | None = None,
               cards_file: str | Path | None = None) -> pd.DataFrame:
    """Read edge rows into a DataFrame
    ``participant, from_id, to_id, context, relationship, story``.

    With ``cards`` (read from ``cards_file``), every ``from``/``to`` must be one of their ids
    (compared as text, then given the card's own id, so ``7`` in a CSV is card ``7`` of a JSON).
    Raises :class:`InputError` naming the file, line (CSV/JSONL line number, or array index for a
    JSON array) and field of the first bad row.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", where=str(path))
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = read_table(path)
        frame = table.frame()
        lines = pd.Series(table.lines)
        locate = lambda i, col: at(path, int(lines[i]), col)  # noqa: E731
    elif suffix in (".json", ".jsonl", ".ndjson"):
        rows, line_numbers = _rows_json(path)
        frame = pd.DataFrame(rows)
        if line_numbers:
            locate = lambda i, col: at(path, line_numbers[i], col)  # noqa: E731
        else:
            locate = lambda i, col: f"{path}, edge [{i}], field '{col}'"  # noqa: E731
    else:
        raise InputError(f"unknown edge file type '{path.suffix}'", where=str(path),
                         hint="use .csv, .json or .jsonl")
    mapping = _normalise_columns(frame.columns, path)
    frame = frame.rename(columns=mapping)[[c for c in FIELDS if c in mapping.values()]]
    if "story" not in frame.columns:
        frame["story"] = ""
    for col in REQUIRED:
        values = frame[col]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            i = int(empty.to_numpy().nonzero()[0][0])
            raise InputError("empty value", where=locate(i, col))
    rel = frame["relationship"].astype(str).str.strip()
    bad = ~rel.isin(RELATIONSHIPS)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(f"relationship {rel.iloc[i]!r} is not one of {', '.join(RELATIONSHIPS)}",
                         where=locate(i, "relationship"))
    ids = _ids(pd.concat([frame["from"], frame["to"]], ignore_index=True))
    if cards is not None:
        ids = _card_ids(ids, cards, cards_file, lambda k: locate(k % len(frame),
                                                                  REQUIRED[1 + k // len(frame)]))
    from_id = ids.iloc[: len(frame)].reset_index(drop=True)
    to_id = ids.iloc[len(frame) :].reset_index(drop=True)
    same = (from_id.astype(str) == to_id.astype(str)).to_numpy()
    if same.any():
        i = int(same.nonzero()[0][0])
        raise InputError(f"'from' and 'to' are the same value ({from_id.iloc[i]!r})",
                         where=locate(i, "to"), hint="an upgrade goes between two different values")
    return pd.DataFrame({
        "participant": frame["user"].astype(str).str.strip().to_numpy(),
        "from_id": from_id.to_numpy(), "to_id": to_id.to_numpy(),
        "context": frame["context"].astype(str).str.strip().to_numpy(),
        "relationship": rel.to_numpy(),
        "story": frame["story"].fillna("").astype(str).to_numpy(),
    })


def _card_ids(ids: pd.Series, cards: Sequence[ValuesCard], cards_file, locate) -> pd.Series:
    """``ids`` as the cards' own ids; the first that is no card's is an error at its cell."""
    by_text = {str(card.id): card.id for card in cards}
    mapped = ids.astype(str).map(by_text)
    unknown = mapped.isna().to_numpy()
    if unknown.any():
        k = int(unknown.nonzero()[0][0])
        where = f" of {Path(cards_file).name}" if cards_file else ""
        raise InputError(f"value {ids.iloc[k]!r} is not among the values cards{where}",
                         where=locate(k), hint="every 'from'/'to' id must be a card id in --values")
    return mapped.astype(object)


def read_cards(path: str | Path) -> list[ValuesCard]:
    """Read values cards: a JSON array of ``{id, title, description, policies}`` or a moral-graph
    JSON file (its ``values``)."""
    from pluralign.moralgraph.dftjson import document_from_json

    path = Path(path)
    data = read_json(path)
    if isinstance(data, list):
        data = {"values": data, "edges": []}
    return list(document_from_json(data, str(path)).values)
