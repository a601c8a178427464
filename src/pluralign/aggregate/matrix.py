"""The vote matrix: participants × statements, sparse.

Cells hold agree=1, disagree=-1, pass=0; a statement a participant never saw is *missing* (not
stored). Because pass is 0 and also the sparse "empty" value, the matrix keeps an explicit
``seen`` mask next to the values.

Sources: Polis export CSVs (``comments.csv`` + ``votes.csv``), a vote table (``participant,
statement, value[, created_at]``, the shape :func:`pluralign.store.queries.latest_votes`
returns), or an assembly in the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pluralign.errors import InputError, at

VOTE_COLUMNS = ("participant", "statement", "value")


@dataclass(frozen=True, eq=False)
class VoteMatrix:
    """Votes of ``participants`` (rows) on ``statements`` (columns).

    Attributes:
        values: CSR matrix of votes (1 agree, -1 disagree, 0 pass or unseen).
        seen: CSR matrix with 1 where the participant voted (agree, disagree or pass).
        participants: participant ids, one per row.
        statements: statement ids, one per column (moderated-out statements already removed).
        texts: statement text per column ("" when unknown).
        vote_counts: votes each participant cast on *all* statements, moderated-out ones
            included (Polis counts these when deciding who is "in the conversation").
        source_sha256: hash of the input the matrix was built from (provenance).
        clustered: the source's own record of who its clustering included (a boolean mask over
            ``participants``), or None when the source has none. A Polis export records it as a
            non-empty ``group-id`` in ``participants-votes.csv``; only this membership is kept,
            never the group labels.
    """

    values: sp.csr_matrix
    seen: sp.csr_matrix
    participants: np.ndarray
    statements: np.ndarray
    texts: tuple[str, ...]
    vote_counts: np.ndarray
    source_sha256: str = ""
    excluded_statements: tuple[int, ...] = field(default=())
    clustered: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def n_votes(self) -> int:
        return int(self.seen.nnz)

    def counts(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(agrees, disagrees, passes) per statement, over ``rows`` (a boolean mask) or everyone."""
        vals, seen = self.values, self.seen
        if rows is not None:
            vals, seen = vals[rows], seen[rows]
        agree = np.asarray((vals > 0).sum(axis=0)).ravel()
        disagree = np.asarray((vals < 0).sum(axis=0)).ravel()
        total = np.asarray(seen.sum(axis=0)).ravel().astype(np.int64)
        return agree, disagree, total - agree - disagree

    def to_dense(self) -> np.ndarray:
        """Dense float array with NaN for unseen (small matrices only)."""
        out = np.full(self.shape, np.nan)
        coo = self.seen.tocoo()
        out[coo.row, coo.col] = np.asarray(self.values[coo.row, coo.col]).ravel()
        return out


def from_votes(
    votes: pd.DataFrame,
    *,
    texts: dict[int, str] | None = None,
    exclude: set[int] | frozenset[int] = frozenset(),
    statements: list[int] | None = None,
    source: str = "votes",
    clustered: set[int] | frozenset[int] | None = None,
) -> VoteMatrix:
    """Build a :class:`VoteMatrix` from a vote table.

    ``votes`` has columns ``participant``, ``statement``, ``value`` and optionally ``created_at``;
    when a participant voted on a statement more than once the latest row counts (by
    ``created_at`` if present, else by row order). ``exclude`` lists moderated-out statements:
    their votes count towards ``vote_counts`` but they get no column. ``statements`` fixes the
    column order (default: sorted ids seen in votes or ``texts``). ``clustered`` is the
    source's record of which participants its clustering included (see
    :attr:`VoteMatrix.clustered`), None if it has none.
    """
    missing = [c for c in VOTE_COLUMNS if c not in votes.columns]
    if missing:
        raise InputError(
            f"vote table lacks column(s) {', '.join(missing)}",
            where=source,
            hint="expected columns participant, statement, value",
        )
    p = votes["participant"].to_numpy()
    st = votes["statement"].to_numpy()
    v = votes["value"].to_numpy()
    if "created_at" in votes.columns:  # latest by time, ties by row order
        order = np.argsort(votes["created_at"].to_numpy(), kind="stable")
        p, st, v = p[order], st[order], v[order]
    # keep the last vote per (participant, statement), rows in their original order
    participants, row = np.unique(p, return_inverse=True)
    stmt_ids, stmt_pos = np.unique(st, return_inverse=True)
    key = row.astype(np.int64) * max(len(stmt_ids), 1) + stmt_pos
    _, first_of_reversed = np.unique(key[::-1], return_index=True)
    last = np.sort(len(key) - 1 - first_of_reversed)
    p, st, v, row = p[last], st[last], v[last], row[last]
    bad = ~np.isin(v, [-1, 0, 1])
    if bad.any():
        raise InputError(
            f"vote value {v[bad][0]!r} is not 1, -1 or 0",
            where=source,
            hint="votes are agree=1, disagree=-1, pass=0",
        )
    if statements is None:
        ids = {int(x) for x in stmt_ids} | {int(x) for x in (texts or {})}
        statements = sorted(x for x in ids if x not in exclude)
    else:
        statements = [int(x) for x in statements if x not in exclude]
    stmt_arr = np.array(statements, dtype=np.int64)
    vote_counts = np.bincount(row, minlength=len(participants)).astype(np.int64)
    col = np.searchsorted(stmt_arr, st)
    keep = col < len(stmt_arr)
    keep[keep] = stmt_arr[col[keep]] == st[keep]
    r, c = row[keep], col[keep].astype(np.int64)
    vals = v[keep].astype(np.float64)
    shape = (len(participants), len(stmt_arr))
    values = sp.csr_matrix((vals, (r, c)), shape=shape)
    values.eliminate_zeros()
    seen = sp.csr_matrix((np.ones_like(vals), (r, c)), shape=shape)
    texts = texts or {}
    digest = hashlib.sha256()
    for arr in (p, st, v):  # the votes that count, in order
        if arr.dtype.kind in "biuf":
            digest.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        else:
            digest.update(pd.util.hash_array(np.asarray(arr, dtype=object)).tobytes())
    digest = digest.hexdigest()
    return VoteMatrix(
        values=values,
        seen=seen,
        participants=participants,
        statements=stmt_arr,
        texts=tuple(texts.get(int(s), "") for s in stmt_arr),
        vote_counts=vote_counts,
        source_sha256=digest,
        excluded_statements=tuple(sorted(int(s) for s in exclude)),
        clustered=None if clustered is None else np.isin(participants, list(clustered)),
    )


def read_polis(folder: str | Path, *, strict_moderation: bool = False) -> VoteMatrix:
    """Read a Polis export folder (``comments.csv``, ``votes.csv``) into a vote matrix.

    The folder is read and validated by :func:`pluralign.formats.polis_read.read_polis_tables`, the
    one reader of the format (``pluralign import polis`` uses it too), so every malformed file is
    an :class:`~pluralign.errors.InputError` naming file, line and column. Statements with
    ``moderated == -1`` are excluded; with ``strict_moderation`` so are the unmoderated (``0``)
    ones, as in a Polis conversation with strict moderation. When the folder also holds
    ``participants-votes.csv`` with a ``group-id`` filled for some participants, those
    participants are Polis's record of whom it clustered (:attr:`VoteMatrix.clustered`).
    """
    from pluralign.formats.polis_read import read_polis_tables
    from pluralign.io import sha256_files

    tables = read_polis_tables(folder)
    comments, votes = tables.comments, tables.votes
    if comments.empty:  # a valid export of a conversation nobody has spoken in yet
        raise InputError(
            "no comments (the file holds only its header): nothing to aggregate",
            where=at(tables.folder / "comments.csv", 1),
        )
    limit = 1 if strict_moderation else 0
    exclude = set(comments.loc[comments["moderated"] < limit, "comment-id"].astype(int))
    texts = dict(zip(comments["comment-id"].astype(int), comments["comment-body"], strict=True))
    table = pd.DataFrame(
        {
            "participant": votes["voter-id"].to_numpy(dtype=np.int64),
            "statement": votes["comment-id"].to_numpy(dtype=np.int64),
            "value": votes["vote"].to_numpy(dtype=np.int64),
            "created_at": votes["timestamp"].to_numpy(dtype=np.int64),
        }
    )
    clustered = None
    if tables.participants is not None:
        marked = tables.participants.dropna(subset=["group-id"])
        if len(marked):
            clustered = {int(p) for p in marked["participant"]}
    matrix = from_votes(
        table,
        texts=texts,
        exclude=exclude,
        source=str(tables.folder / "votes.csv"),
        clustered=clustered,
    )
    digest = sha256_files([tables.folder / "comments.csv", tables.folder / "votes.csv"])
    return _with_sha(matrix, digest)


def _with_sha(matrix: VoteMatrix, digest: str) -> VoteMatrix:
    from dataclasses import replace

    return replace(matrix, source_sha256=digest)


def from_store(db, slug: str) -> VoteMatrix:
    """The latest votes of assembly ``slug``; rejected statements excluded.

    ``db`` is an open :class:`~pluralign.store.Store` (left open) or a database URL / SQLite
    path / None for the default store (opened and closed here).
    """
    from sqlalchemy import select

    from pluralign.store import REJECTED, Statement, Store, open_store
    from pluralign.store.queries import get_assembly, latest_votes

    store = db if isinstance(db, Store) else open_store(db)
    try:
        with store.session() as session:
            assembly = get_assembly(session, slug)
            votes = latest_votes(session, assembly.id)
            rows = session.execute(
                select(Statement.number, Statement.text, Statement.moderation).where(
                    Statement.assembly_id == assembly.id
                )
            ).all()
    finally:
        if store is not db:
            store.dispose()
    texts = {int(n): t for n, t, _ in rows}
    exclude = {int(n) for n, _, m in rows if m == REJECTED}
    votes = votes.drop(columns=["created_at"])
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(votes, index=False).to_numpy().tobytes()
        + repr(sorted(texts.items())).encode()
    ).hexdigest()
    matrix = from_votes(votes, texts=texts, exclude=exclude, source=f"assembly '{slug}'")
    return _with_sha(matrix, digest)


def in_conversation(
    vote_counts: np.ndarray, n_statements: int, *, min_votes: int = 7, greedy_n: int = 15
) -> np.ndarray:
    """Boolean mask of participants Polis clusters ("in-conv").

    A participant is in when they voted on at least ``min(min_votes, n_statements)`` statements;
    if fewer than ``greedy_n`` qualify, the most active others are added until ``greedy_n``
    (Polis ``conversation.clj``, ``:in-conv``).
    """
    counts = np.asarray(vote_counts)
    mask = counts >= min(min_votes, n_statements)
    missing = greedy_n - int(mask.sum())
    if missing > 0:
        rest = np.flatnonzero(~mask & (counts > 0))
        order = rest[np.argsort(-counts[rest], kind="stable")]
        mask[order[:missing]] = True
    return mask
