"""The Polis export format: the :class:`PolisExport` dataclass, building one, writing one.

A Polis conversation export is a folder of CSV files (see ``docs/formats.md``):

* ``comments.csv`` — one row per comment (statement): ``timestamp, datetime, comment-id,
  author-id, agrees, disagrees, moderated, comment-body``;
* ``votes.csv`` — one row per vote *event* (history: a pair voted twice has two rows):
  ``timestamp, datetime, comment-id, voter-id, vote``, sorted by comment, voter, time;
* ``participants-votes.csv`` — one row per participant: ``participant, group-id, n-comments,
  n-votes, n-agree, n-disagree`` then one column per comment id holding the participant's
  *latest* vote (empty: never voted);
* ``summary.csv`` — ``key,value`` lines without a header (topic, url, counts, description).

Facts checked on the three public conversations in ``../shared/data/polis`` (and relied on here
to regenerate the derived columns exactly): ``agrees``/``disagrees`` count agree/disagree *events*
in ``votes.csv`` (repeat votes included); participants-votes cells are the latest vote per pair by
timestamp; ``n-votes``/``n-agree``/``n-disagree`` count that row's non-empty/1/-1 cells;
``n-comments`` counts the comments the participant authored; ``datetime`` is ``timestamp``
(milliseconds since the epoch) printed like JavaScript's ``Date.toString`` in one time zone.

Data format by The Computational Democracy Project (compdemocracy.org/polis).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pluralign.io import atomic_open

COMMENTS_FILE = "comments.csv"
VOTES_FILE = "votes.csv"
PARTICIPANTS_FILE = "participants-votes.csv"
SUMMARY_FILE = "summary.csv"

COMMENT_COLUMNS = (
    "timestamp",
    "datetime",
    "comment-id",
    "author-id",
    "agrees",
    "disagrees",
    "moderated",
    "comment-body",
)
VOTE_COLUMNS = ("timestamp", "datetime", "comment-id", "voter-id", "vote")
PARTICIPANT_COLUMNS = ("participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree")
SUMMARY_KEYS = (
    "topic",
    "url",
    "views",
    "voters",
    "voters-in-conv",
    "commenters",
    "comments",
    "groups",
    "conversation-description",
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class PolisClock:
    """The time zone Polis printed ``datetime`` columns in (e.g. ``WIB`` = UTC+7 h)."""

    name: str = "UTC"
    offset_minutes: int = 0

    def format(self, ms: int) -> str:
        """``Mon Jul 17 16:10:15 WIB 2017`` for a millisecond timestamp (locale independent)."""
        local = _EPOCH + dt.timedelta(milliseconds=int(ms) + self.offset_minutes * 60_000)
        return (
            f"{_DAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
            f"{local:%H:%M:%S} {self.name} {local.year}"
        )

    @staticmethod
    def detect(ms: int, text: str) -> PolisClock | None:
        """The clock that prints ``ms`` as ``text``, or None if ``text`` is not in that form."""
        parts = str(text).split()
        if len(parts) != 6 or parts[1] not in _MONTHS:
            return None
        try:
            hh, mm, ss = (int(x) for x in parts[3].split(":"))
            local = dt.datetime(
                int(parts[5]), _MONTHS.index(parts[1]) + 1, int(parts[2]), hh, mm, ss
            )
        except ValueError:
            return None
        utc = _EPOCH + dt.timedelta(seconds=int(ms) // 1000)
        minutes = round((local - utc).total_seconds() / 60)
        clock = PolisClock(parts[4], minutes)
        return clock if clock.format(ms) == str(text) else None


@dataclass(frozen=True)
class PolisExport:
    """One Polis conversation as pandas frames, columns named exactly as in the CSV files.

    ``comments``: COMMENT_COLUMNS, in file order. ``votes``: VOTE_COLUMNS, one row per vote event.
    ``participants``: PARTICIPANT_COLUMNS then one column per comment id (as a string, ascending),
    integer columns nullable (``Int64``; empty cell = ``<NA>``). ``summary``: the ``summary.csv``
    pairs in file order (empty if the file is absent). ``clock``: the time zone of ``datetime``.
    """

    comments: pd.DataFrame
    votes: pd.DataFrame
    participants: pd.DataFrame
    summary: Mapping[str, str] = field(default_factory=dict)
    clock: PolisClock = PolisClock()

    @property
    def comment_ids(self) -> list[int]:
        return [int(x) for x in self.comments["comment-id"]]

    def latest_votes(self) -> pd.DataFrame:
        """The vote that counts per (voter, comment): the last event by timestamp."""
        return _latest(self.votes)

    def vote_matrix(self) -> pd.DataFrame:
        """Participants × comments of latest votes (float, NaN = none), from participants-votes."""
        cells = self.participants.set_index("participant").iloc[:, 5:]
        cells.columns = [int(c) for c in cells.columns]
        return cells.astype("float64")


def _latest(votes: pd.DataFrame) -> pd.DataFrame:
    ordered = votes.sort_values("timestamp", kind="stable")
    return ordered.drop_duplicates(["comment-id", "voter-id"], keep="last")


def make_polis_export(
    comments: pd.DataFrame,
    votes: pd.DataFrame,
    participants: pd.DataFrame | None = None,
    *,
    summary: Mapping[str, str | int] | None = None,
    clock: PolisClock = PolisClock(),
) -> PolisExport:
    """Build a complete export, computing every derived column the way Polis does.

    ``comments`` needs ``comment-id, author-id, timestamp, moderated, comment-body`` (row order is
    kept). ``votes`` needs ``timestamp, comment-id, voter-id, vote``, one row per vote event; for
    equal timestamps within a pair the given order decides which is later. ``participants``
    (optional) gives ``participant`` and ``group-id`` and the row order of participants-votes;
    voters and authors missing from it are appended in ascending id. ``summary`` supplies
    ``topic``, ``url``, ``views``, ``voters-in-conv`` and ``conversation-description``;
    ``voters``, ``commenters``, ``comments`` and ``groups`` are always recounted.
    """
    c = comments.reset_index(drop=True)
    v = votes.reset_index(drop=True)
    ts_c = c["timestamp"].astype("int64")
    ids = c["comment-id"].astype("int64")
    v = v.assign(
        **{k: v[k].astype("int64") for k in ("timestamp", "comment-id", "voter-id", "vote")}
    )
    v = v.sort_values(["comment-id", "voter-id", "timestamp"], kind="stable").reset_index(drop=True)
    agrees = (v["vote"] == 1).groupby(v["comment-id"]).sum()
    disagrees = (v["vote"] == -1).groupby(v["comment-id"]).sum()
    comments_out = pd.DataFrame(
        {
            "timestamp": ts_c,
            "datetime": [clock.format(t) for t in ts_c],
            "comment-id": ids,
            "author-id": c["author-id"].astype("int64"),
            "agrees": ids.map(agrees).fillna(0).astype("int64"),
            "disagrees": ids.map(disagrees).fillna(0).astype("int64"),
            "moderated": c["moderated"].astype("int64"),
            "comment-body": c["comment-body"].astype(str),
        }
    )
    votes_out = pd.DataFrame(
        {
            "timestamp": v["timestamp"],
            "datetime": [clock.format(t) for t in v["timestamp"]],
            "comment-id": v["comment-id"],
            "voter-id": v["voter-id"],
            "vote": v["vote"],
        }
    )

    # participants-votes: row order from `participants`, then new ids ascending.
    order: list[int] = []
    groups: dict[int, object] = {}
    if participants is not None and len(participants):
        order = [int(x) for x in participants["participant"]]
        if "group-id" in participants:
            groups = dict(zip(order, participants["group-id"], strict=True))
    known = set(order)
    extra = sorted((set(v["voter-id"].tolist()) | set(comments_out["author-id"].tolist())) - known)
    order += extra
    columns = sorted(int(x) for x in ids)
    latest = _latest(v)
    row_of = {p: i for i, p in enumerate(order)}
    col_of = {cid: j for j, cid in enumerate(columns)}
    cells = np.full((len(order), len(columns)), np.nan)
    rows = latest["voter-id"].map(row_of).to_numpy(dtype=np.int64)
    cols = latest["comment-id"].map(col_of).to_numpy(dtype=np.int64)
    cells[rows, cols] = latest["vote"].to_numpy()
    authored = comments_out.groupby("author-id").size()
    group_col = pd.array([_opt_int(groups.get(p)) for p in order], dtype="Int64")
    pv = pd.DataFrame(
        {
            "participant": pd.array(order, dtype="Int64"),
            "group-id": group_col,
            "n-comments": pd.array([int(authored.get(p, 0)) for p in order], dtype="Int64"),
            "n-votes": pd.array((~np.isnan(cells)).sum(axis=1), dtype="Int64"),
            "n-agree": pd.array((cells == 1).sum(axis=1), dtype="Int64"),
            "n-disagree": pd.array((cells == -1).sum(axis=1), dtype="Int64"),
        }
    )
    matrix = pd.DataFrame(cells, columns=[str(c) for c in columns]).astype("Int64")
    pv = pd.concat([pv, matrix], axis=1)

    base = dict(summary or {})
    out_summary: dict[str, str] = {}
    if base:
        counted = {
            "voters": votes_out["voter-id"].nunique(),
            "commenters": comments_out["author-id"].nunique(),
            "comments": len(comments_out),
            "groups": int(pd.Series(group_col).dropna().nunique()),
        }
        defaults = {"views": len(order), "voters-in-conv": counted["voters"], "url": ""}
        for key in SUMMARY_KEYS:
            value = counted.get(key, base.get(key, defaults.get(key, "")))
            out_summary[key] = str(value)
        for key, value in base.items():  # keep unknown keys too, after the known ones
            out_summary.setdefault(key, str(value))
    return PolisExport(comments_out, votes_out, pv, out_summary, clock)


def _opt_int(value: object) -> int | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)  # type: ignore[arg-type]


def _cell(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_line(fields: Sequence[str]) -> str:
    """One RFC 4180 record ending in ``\n``: a field holding a comma, quote, CR or LF is quoted
    and its quotes doubled (``csv.writer`` leaves a lone CR unquoted when the line end is LF,
    which a reader then takes for a line break)."""
    out = []
    for text in fields:
        if _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\n"


def _write_rows(path: Path, header: Sequence[str] | None, rows) -> None:
    with atomic_open(path) as handle:
        if header is not None:
            handle.write(csv_line(header))
        handle.writelines(csv_line(row) for row in rows)


def _frame_rows(frame: pd.DataFrame):
    for row in frame.itertuples(index=False, name=None):
        yield [_cell(x) for x in row]


def write_polis(export: PolisExport, out_dir: str | Path) -> list[Path]:
    """Write ``comments.csv``, ``votes.csv``, ``participants-votes.csv`` and (when the export has
    a summary) ``summary.csv`` into ``out_dir``. Each file is written to a temporary file and
    renamed, so a reader never sees half a file. Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (
        (COMMENTS_FILE, export.comments),
        (VOTES_FILE, export.votes),
        (PARTICIPANTS_FILE, export.participants),
    ):
        _write_rows(out / name, list(frame.columns), _frame_rows(frame))
        written.append(out / name)
    if export.summary:
        _write_rows(out / SUMMARY_FILE, None, ([k, v] for k, v in export.summary.items()))
        written.append(out / SUMMARY_FILE)
    return written
