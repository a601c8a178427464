"""Reading and validating a Polis export folder into a :class:`PolisExport`.

Every problem is an :class:`~pluralign.errors.InputError` naming the file, the line (physical line
in the file, header = line 1) and the column, raised before anything is returned, so importers
that read first and write afterwards never store a partial conversation.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from pluralign.data.polis_format import (
    COMMENTS_FILE,
    PARTICIPANT_COLUMNS,
    PARTICIPANTS_FILE,
    SUMMARY_FILE,
    VOTES_FILE,
    PolisClock,
    PolisExport,
    make_polis_export,
)
from pluralign.errors import InputError, at

VOTE_VALUES = {-1, 0, 1}


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) for every record, with strict quoting."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(path)) from exc
    with handle:
        reader = csv.reader(handle, strict=True)
        line = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise InputError(
                    f"malformed CSV ({exc})",
                    where=at(path, reader.line_num),
                    hint="a field with a comma, quote or line break must be quoted, "
                    'and quotes inside it doubled ("")',
                ) from exc
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 text ({exc.reason})", where=str(path)) from exc
            yield line, fields
            line = reader.line_num + 1


class _Table:
    """A CSV file with a header; gives typed access to cells with precise error locations."""

    def __init__(self, path: Path, required: tuple[str, ...]):
        self.path = path
        records = _records(path)
        try:
            _, header = next(records)
        except StopIteration:
            raise InputError(
                "the file is empty (expected a header line)",
                where=at(path, 1),
                hint=f"columns needed: {', '.join(required)}",
            ) from None
        self.header = [h.strip() for h in header]
        missing = [c for c in required if c not in self.header]
        if missing:
            raise InputError(
                f"missing column {', '.join(repr(c) for c in missing)}",
                where=at(path, 1),
                hint=f"columns needed: {', '.join(required)}",
            )
        seen = set()
        for name in self.header:
            if name in seen:
                raise InputError(f"column '{name}' appears twice", where=at(path, 1, name))
            seen.add(name)
        self.index = {name: i for i, name in enumerate(self.header)}
        self.rows: list[tuple[int, list[str]]] = []
        for line, fields in records:
            if not fields:
                continue  # a blank line
            if len(fields) != len(self.header):
                raise InputError(
                    f"{len(fields)} fields but the header has {len(self.header)}",
                    where=at(path, line),
                    hint="a comma inside a text field must be within double quotes",
                )
            self.rows.append((line, fields))

    def has(self, column: str) -> bool:
        return column in self.index

    def text(self, line: int, fields: list[str], column: str) -> str:
        return fields[self.index[column]]

    def int(
        self, line: int, fields: list[str], column: str, *, allowed=None, empty_ok: bool = False
    ) -> int | None:
        raw = fields[self.index[column]].strip()
        if raw == "" and empty_ok:
            return None
        try:
            value = int(raw)
        except ValueError:
            try:  # "3.0" as written by spreadsheets is still the integer 3
                as_float = float(raw)
            except ValueError:
                as_float = None
            if as_float is None or not as_float.is_integer():
                raise InputError(
                    f"expected an integer, found {raw!r}", where=at(self.path, line, column)
                ) from None
            value = int(as_float)
        if allowed is not None and value not in allowed:
            raise InputError(
                f"value {value} is not one of {sorted(allowed)}", where=at(self.path, line, column)
            )
        return value


def _read_comments(path: Path):
    table = _Table(path, ("timestamp", "comment-id", "author-id", "moderated", "comment-body"))
    rows, seen = [], {}
    for line, f in table.rows:
        cid = table.int(line, f, "comment-id")
        if cid in seen:
            raise InputError(
                f"comment id {cid} already used on line {seen[cid]}",
                where=at(path, line, "comment-id"),
            )
        seen[cid] = line
        rows.append(
            {
                "timestamp": table.int(line, f, "timestamp"),
                "datetime": table.text(line, f, "datetime") if table.has("datetime") else None,
                "comment-id": cid,
                "author-id": table.int(line, f, "author-id"),
                "agrees": table.int(line, f, "agrees") if table.has("agrees") else None,
                "disagrees": table.int(line, f, "disagrees") if table.has("disagrees") else None,
                "moderated": table.int(line, f, "moderated", allowed={-1, 0, 1}),
                "comment-body": table.text(line, f, "comment-body"),
            }
        )
    return table, rows


def _read_votes(path: Path, comment_ids: set[int]):
    table = _Table(path, ("timestamp", "comment-id", "voter-id", "vote"))
    rows = []
    for line, f in table.rows:
        cid = table.int(line, f, "comment-id")
        if cid not in comment_ids:
            raise InputError(
                f"comment id {cid} is not in {COMMENTS_FILE}", where=at(path, line, "comment-id")
            )
        rows.append(
            {
                "timestamp": table.int(line, f, "timestamp"),
                "datetime": table.text(line, f, "datetime") if table.has("datetime") else None,
                "comment-id": cid,
                "voter-id": table.int(line, f, "voter-id"),
                "vote": table.int(line, f, "vote", allowed=VOTE_VALUES),
            }
        )
    return table, rows


def _read_summary(path: Path) -> dict[str, str]:
    summary: dict[str, str] = {}
    for line, fields in _records(path):
        if not fields:
            continue
        if len(fields) != 2:
            raise InputError(
                f"expected 'key,value', found {len(fields)} fields", where=at(path, line)
            )
        summary[fields[0]] = fields[1]
    return summary


def _detect_clock(rows: list[dict]) -> PolisClock:
    for row in rows:
        if row.get("datetime"):
            clock = PolisClock.detect(row["timestamp"], row["datetime"])
            if clock is not None:
                return clock
    return PolisClock()


def read_polis(directory: str | Path) -> PolisExport:
    """Read and validate a Polis export folder.

    ``comments.csv`` and ``votes.csv`` are required; ``participants-votes.csv`` (Polis's
    ``group-id`` and participants without votes) and ``summary.csv`` (topic, description) are
    used when present. Columns Polis derives (``agrees``, ``disagrees``, ``datetime``, the ``n-*``
    counts) are taken from the files when present and computed otherwise. A participants-votes
    cell must equal the latest vote of that pair in ``votes.csv``.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise InputError(
            "not a folder",
            where=str(folder),
            hint="give the folder holding comments.csv and votes.csv",
        )
    for name in (COMMENTS_FILE, VOTES_FILE):
        if not (folder / name).is_file():
            raise InputError(
                f"{name} not found",
                where=str(folder),
                hint="a Polis export folder holds comments.csv and votes.csv",
            )
    c_table, comments = _read_comments(folder / COMMENTS_FILE)
    v_table, votes = _read_votes(folder / VOTES_FILE, {r["comment-id"] for r in comments})
    summary = _read_summary(folder / SUMMARY_FILE) if (folder / SUMMARY_FILE).is_file() else {}
    clock = _detect_clock(comments) if comments else _detect_clock(votes)

    cols_c = ["timestamp", "comment-id", "author-id", "moderated", "comment-body"]
    cols_v = ["timestamp", "comment-id", "voter-id", "vote"]
    base_c = (
        pd.DataFrame(comments, columns=cols_c)
        if comments
        else pd.DataFrame(
            {c: pd.Series(dtype="int64" if c != "comment-body" else str) for c in cols_c}
        )
    )
    base_v = (
        pd.DataFrame(votes, columns=cols_v).astype("int64")
        if votes
        else pd.DataFrame({c: pd.Series(dtype="int64") for c in cols_v})
    )

    pv_path = folder / PARTICIPANTS_FILE
    groups = None
    pv_rows: list[tuple[int, list[str]]] = []
    p_table = None
    if pv_path.is_file():
        p_table = _Table(pv_path, ("participant",))
        known = {r["comment-id"] for r in comments}
        for name in p_table.header:
            if name in PARTICIPANT_COLUMNS:
                continue
            try:
                cid = int(name)
            except ValueError:
                raise InputError(
                    f"unexpected column '{name}' (comment columns are comment ids)",
                    where=at(pv_path, 1, name),
                ) from None
            if cid not in known:
                raise InputError(
                    f"comment id {cid} is not in {COMMENTS_FILE}", where=at(pv_path, 1, name)
                )
        order, group_ids, seen = [], [], {}
        for line, f in p_table.rows:
            pid = p_table.int(line, f, "participant")
            if pid in seen:
                raise InputError(
                    f"participant {pid} already listed on line {seen[pid]}",
                    where=at(pv_path, line, "participant"),
                )
            seen[pid] = line
            order.append(pid)
            group_ids.append(
                p_table.int(line, f, "group-id", empty_ok=True) if p_table.has("group-id") else None
            )
            pv_rows.append((line, f))
        groups = pd.DataFrame(
            {"participant": order, "group-id": pd.array(group_ids, dtype="Int64")}
        )

    export = make_polis_export(base_c, base_v, groups, summary=summary or None, clock=clock)
    comments_out = export.comments
    # Keep what the files say for Polis-derived columns that were present.
    for column, present in (
        ("datetime", c_table.has("datetime")),
        ("agrees", c_table.has("agrees")),
        ("disagrees", c_table.has("disagrees")),
    ):
        if present:
            values = [r[column] for r in comments]
            comments_out = comments_out.assign(
                **{column: pd.Series(values, dtype=comments_out[column].dtype)}
            )
    votes_out = export.votes
    if v_table.has("datetime") and votes:
        # make_polis_export sorted the events stably by (comment, voter, time): reorder to match.
        frame = pd.DataFrame(votes)
        frame = frame.sort_values(["comment-id", "voter-id", "timestamp"], kind="stable")
        votes_out = votes_out.assign(datetime=frame["datetime"].astype(str).to_numpy())
    participants_out = export.participants
    if p_table is not None:
        _check_cells(pv_path, p_table, pv_rows, participants_out)
        for column in ("n-comments", "n-votes", "n-agree", "n-disagree"):
            if p_table.has(column):
                values = [p_table.int(line, f, column) for line, f in pv_rows]
                values += list(participants_out[column].iloc[len(values) :])
                participants_out = participants_out.assign(
                    **{column: pd.array(values, dtype="Int64")}
                )
    if summary:
        # Keep the file's summary as written (counts included) rather than recounted ones.
        merged = dict(export.summary)
        merged.update(summary)
        summary_out = {
            k: merged[k] for k in list(summary) + [k for k in merged if k not in summary]
        }
    else:
        summary_out = {}
    return PolisExport(
        comments_out.reset_index(drop=True),
        votes_out.reset_index(drop=True),
        participants_out,
        summary_out,
        clock,
    )


def _check_cells(path: Path, table: _Table, rows, computed: pd.DataFrame) -> None:
    """Every participants-votes cell must equal the latest vote of its pair in votes.csv."""
    vote_columns = [h for h in table.header if h not in PARTICIPANT_COLUMNS]
    if not vote_columns or not rows:
        return
    expected = computed.set_index("participant")[vote_columns].astype("float64")
    pids = [table.int(line, f, "participant") for line, f in rows]
    want = expected.loc[pids].to_numpy()
    positions = [table.index[name] for name in vote_columns]
    raw = pd.DataFrame([[f[k] for k in positions] for _, f in rows], dtype=object)
    fast = {"": np.nan, "1": 1.0, "-1": -1.0, "0": 0.0}
    usual = raw.isin(list(fast)).to_numpy()
    got = raw.where(usual, "").replace(fast).to_numpy(dtype="float64")
    for i, j in np.argwhere(~usual):  # unusual spellings ("1.0", " 1") or errors
        line, f = rows[i]
        value = table.int(line, f, vote_columns[j], allowed=VOTE_VALUES, empty_ok=True)
        got[i, j] = np.nan if value is None else value
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    if same.all():
        return
    i, j = map(int, np.argwhere(~same)[0])
    line, name = rows[i][0], vote_columns[j]
    fmt = lambda x, none: none if np.isnan(x) else str(int(x))  # noqa: E731
    raise InputError(
        f"cell is {fmt(got[i, j], 'empty')} but the latest vote in {VOTES_FILE} is "
        f"{fmt(want[i, j], 'none')}",
        where=at(path, line, name),
        hint="participants-votes.csv must agree with votes.csv (Polis writes both at once); "
        "fix the cell or remove participants-votes.csv",
    )
