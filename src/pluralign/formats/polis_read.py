"""Reading and validating a Polis export folder: the one reader of the format.

:func:`read_polis_tables` checks every file, row and cell and returns the validated tables;
both ``pluralign import polis`` (:func:`read_polis`, a full :class:`PolisExport`) and
``pluralign aggregate`` (:func:`pluralign.aggregate.read_polis`, a vote matrix) build on it, so
a folder one of them refuses the other refuses too, with the same message. Every problem is an
:class:`~pluralign.errors.InputError` naming the file, the physical line (header = line 1) and the
column, raised before anything is returned, so an import never stores part of a conversation.

What is checked: the four files' columns; ids are integers from 0 to 2,147,483,647 (the store
keeps them as 32-bit integers) and comment ids unique; timestamps are milliseconds since 1970
before the year 10000; votes are 1, -1 or 0 on comments that exist; ``moderated`` is 1, 0 or -1;
a ``participants-votes.csv`` cell equals the latest vote of its pair in ``votes.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pluralign.csvtable import Table, read_table, records
from pluralign.errors import InputError, at
from pluralign.formats.polis import (
    COMMENTS_FILE,
    PARTICIPANT_COLUMNS,
    PARTICIPANTS_FILE,
    SUMMARY_FILE,
    VOTES_FILE,
    PolisClock,
    PolisExport,
    make_polis_export,
)

VOTE_VALUES = (1, -1, 0)
ID_MAX = 2**31 - 1
"""Largest id the store keeps (a PostgreSQL ``integer``)."""
TIMESTAMP_MAX = 253_402_128_000_000 - 1
"""Last millisecond of 9999-12-28 UTC: Python's datetimes end with the year 9999 (a margin of
three days keeps a time-zone offset inside)."""
TEXT_COLUMNS = ("xid",)
"""Participant columns newer Polis exports add (the participant's external id), kept as text."""
COMMENT_REQUIRED = ("timestamp", "comment-id", "author-id", "moderated", "comment-body")
VOTE_REQUIRED = ("timestamp", "comment-id", "voter-id", "vote")


@dataclass(frozen=True, eq=False)
class PolisTables:
    """A validated Polis export folder, as plain typed frames in file order.

    ``comments``: ``timestamp, comment-id, author-id, moderated, comment-body`` plus ``datetime``,
    ``agrees`` and ``disagrees`` when the file has them (None when not). ``votes``: ``timestamp,
    comment-id, voter-id, vote`` plus ``datetime`` (None when absent), one row per vote event.
    ``participants``: ``participant, group-id`` (nullable ``Int64``) in file order, or None without
    ``participants-votes.csv``; ``participant_table`` is that file as read. ``summary``: the
    ``summary.csv`` pairs (empty without the file)."""

    folder: Path
    comments: pd.DataFrame
    votes: pd.DataFrame
    participants: pd.DataFrame | None
    participant_table: Table | None
    summary: dict[str, str]

    def latest_votes(self) -> pd.DataFrame:
        """The vote that counts per (voter, comment): the last event by timestamp, ties broken
        by file order (as Polis writes ``participants-votes.csv``)."""
        ordered = self.votes.sort_values("timestamp", kind="stable")
        return ordered.drop_duplicates(["comment-id", "voter-id"], keep="last")


def _ids(table: Table, column: str, **kw) -> np.ndarray:
    return table.ints(column, low=0, high=ID_MAX, **kw)


def _times(table: Table) -> np.ndarray:
    return table.ints(
        "timestamp", low=0, high=TIMESTAMP_MAX, what="a time in milliseconds since 1970"
    )


def _unique(table: Table, column: str, values: np.ndarray, what: str, verb: str) -> None:
    """Refuse the first row whose ``column`` repeats an earlier row's, naming both lines."""
    repeated = pd.Series(values).duplicated().to_numpy()
    if repeated.any():
        again = int(np.flatnonzero(repeated)[0])
        first = int(np.flatnonzero(values == values[again])[0])
        raise table.fail(again, column, f"{what} {values[again]} already {verb} on line "
                                        f"{table.lines[first]}")


def _read_comments(path: Path) -> pd.DataFrame:
    table = read_table(path, COMMENT_REQUIRED)
    ids = _ids(table, "comment-id")
    _unique(table, "comment-id", ids, "comment id", "used")
    frame = {
        "timestamp": _times(table),
        "datetime": table.column("datetime") if table.has("datetime") else None,
        "comment-id": ids,
        "author-id": _ids(table, "author-id"),
        "agrees": table.ints("agrees", low=0) if table.has("agrees") else None,
        "disagrees": table.ints("disagrees", low=0) if table.has("disagrees") else None,
        "moderated": table.ints("moderated", allowed=(1, 0, -1)),
        "comment-body": table.column("comment-body"),
    }
    return pd.DataFrame({k: v for k, v in frame.items() if v is not None})


def _read_votes(path: Path, comment_ids: np.ndarray) -> pd.DataFrame:
    table = read_table(path, VOTE_REQUIRED)
    cids = _ids(table, "comment-id")
    unknown = ~np.isin(cids, comment_ids)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise table.fail(i, "comment-id", f"comment id {cids[i]} is not in {COMMENTS_FILE}")
    frame = {
        "timestamp": _times(table),
        "datetime": table.column("datetime") if table.has("datetime") else None,
        "comment-id": cids,
        "voter-id": _ids(table, "voter-id"),
        "vote": table.ints("vote", allowed=VOTE_VALUES),
    }
    return pd.DataFrame({k: v for k, v in frame.items() if v is not None})


def _read_summary(path: Path) -> dict[str, str]:
    summary: dict[str, str] = {}
    for line, fields in records(path):
        if not fields:
            continue
        if len(fields) != 2:
            raise InputError(
                f"expected 'key,value', found {len(fields)} fields", where=at(path, line)
            )
        summary[fields[0]] = fields[1]
    return summary


def _read_participants(path: Path, comment_ids: np.ndarray) -> tuple[Table, pd.DataFrame]:
    table = read_table(path, ("participant",))
    known = set(comment_ids.tolist())
    columns: dict[int, str] = {}
    for name in table.header:
        if name in PARTICIPANT_COLUMNS or name in TEXT_COLUMNS:
            continue
        try:
            cid = int(name)
        except ValueError:
            raise InputError(
                f"unexpected column '{name}' (comment columns are comment ids)",
                where=at(path, 1, name),
            ) from None
        if cid not in known:
            raise InputError(
                f"comment id {cid} is not in {COMMENTS_FILE}", where=at(path, 1, name)
            )
        if cid in columns:
            raise InputError(
                f"comment {cid} has two columns ('{columns[cid]}' and '{name}')",
                where=at(path, 1, name),
            )
        columns[cid] = name
    pids = _ids(table, "participant")
    _unique(table, "participant", pids, "participant", "listed")
    groups = (
        table.ints("group-id", low=0, empty_ok=True) if table.has("group-id")
        else np.full(len(table), np.nan)
    )
    for column in ("n-comments", "n-votes", "n-agree", "n-disagree"):
        if table.has(column):
            table.ints(column, low=0)
    frame = pd.DataFrame(
        {
            "participant": pids,
            "group-id": pd.array([None if np.isnan(g) else int(g) for g in groups], dtype="Int64"),
        }
    )
    return table, frame


def _check_cells(table: Table, participants: pd.DataFrame, latest: pd.DataFrame) -> None:
    """Every participants-votes cell must equal the latest vote of its pair in votes.csv."""
    columns = [h for h in table.header if h not in PARTICIPANT_COLUMNS and h not in TEXT_COLUMNS]
    if not columns or not len(table):
        return
    row_of = pd.Series(np.arange(len(participants)), index=participants["participant"].to_numpy())
    col_of = pd.Series(np.arange(len(columns)), index=[int(c) for c in columns])
    want = np.full((len(participants), len(columns)), np.nan)
    listed = latest[latest["voter-id"].isin(row_of.index) & latest["comment-id"].isin(col_of.index)]
    want[
        row_of[listed["voter-id"]].to_numpy(), col_of[listed["comment-id"]].to_numpy()
    ] = listed["vote"].to_numpy()
    got = table.int_columns(columns, allowed=VOTE_VALUES, empty_ok=True)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    if same.all():
        return
    i, j = map(int, np.argwhere(~same)[0])

    def show(x: float, none: str) -> str:
        return none if np.isnan(x) else str(int(x))

    raise table.fail(
        i,
        columns[j],
        f"cell is {show(got[i, j], 'empty')} but the latest vote in {VOTES_FILE} is "
        f"{show(want[i, j], 'none')}",
        hint="participants-votes.csv must agree with votes.csv (Polis writes both at once); "
        "fix the cell or remove participants-votes.csv",
    )


def read_polis_tables(directory: str | Path) -> PolisTables:
    """Read and validate a Polis export folder (see the module docstring for the checks).

    ``comments.csv`` and ``votes.csv`` are required; ``participants-votes.csv`` and
    ``summary.csv`` are read and checked when present."""
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
    comments = _read_comments(folder / COMMENTS_FILE)
    ids = comments["comment-id"].to_numpy()
    votes = _read_votes(folder / VOTES_FILE, ids)
    summary = _read_summary(folder / SUMMARY_FILE) if (folder / SUMMARY_FILE).is_file() else {}
    tables = PolisTables(folder, comments, votes, None, None, summary)
    if (folder / PARTICIPANTS_FILE).is_file():
        table, participants = _read_participants(folder / PARTICIPANTS_FILE, ids)
        _check_cells(table, participants, tables.latest_votes())
        tables = PolisTables(folder, comments, votes, participants, table, summary)
    return tables


def _detect_clock(comments: pd.DataFrame, votes: pd.DataFrame) -> PolisClock:
    for frame in (comments, votes):
        if "datetime" not in frame:
            continue
        for ms, text in zip(frame["timestamp"], frame["datetime"], strict=True):
            if text:
                clock = PolisClock.detect(int(ms), text)
                if clock is not None:
                    return clock
    return PolisClock()


def read_polis(directory: str | Path) -> PolisExport:
    """Read and validate a Polis export folder into a complete :class:`PolisExport`.

    Columns Polis derives (``agrees``, ``disagrees``, ``datetime``, the ``n-*`` counts, the
    summary's counts) are taken from the files when present and computed otherwise."""
    t = read_polis_tables(directory)
    comments, votes = t.comments, t.votes
    clock = _detect_clock(comments, votes)
    base_c = comments[list(COMMENT_REQUIRED)]
    base_v = votes[list(VOTE_REQUIRED)]
    export = make_polis_export(base_c, base_v, t.participants, summary=t.summary or None,
                               clock=clock)
    comments_out = export.comments
    for column in ("datetime", "agrees", "disagrees"):  # keep what the file says
        if column in comments:
            comments_out = comments_out.assign(
                **{column: comments[column].astype(comments_out[column].dtype).to_numpy()}
            )
    votes_out = export.votes
    if "datetime" in votes and len(votes):
        # make_polis_export sorted the events stably by (comment, voter, time): reorder to match.
        frame = votes.sort_values(["comment-id", "voter-id", "timestamp"], kind="stable")
        votes_out = votes_out.assign(datetime=frame["datetime"].astype(str).to_numpy())
    participants_out = export.participants
    table = t.participant_table
    if table is not None:
        for column in ("n-comments", "n-votes", "n-agree", "n-disagree"):
            if table.has(column):
                values = list(table.ints(column, low=0))
                values += list(participants_out[column].iloc[len(values) :])
                participants_out = participants_out.assign(
                    **{column: pd.array(values, dtype="Int64")}
                )
    summary_out: dict[str, str] = {}
    if t.summary:
        # Keep the file's summary as written (counts included) rather than recounted ones.
        merged = {**export.summary, **t.summary}
        summary_out = {
            k: merged[k] for k in list(t.summary) + [k for k in merged if k not in t.summary]
        }
    return PolisExport(
        comments_out.reset_index(drop=True),
        votes_out.reset_index(drop=True),
        participants_out,
        summary_out,
        clock,
    )
