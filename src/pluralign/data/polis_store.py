"""Moving a Polis conversation into and out of the store.

Import maps Polis ids onto the store's ``number`` columns (``voter-id``/``participant`` →
``Participant.number``, ``comment-id`` → ``Statement.number``), keeps every vote event with its
time (inserted in time order, so the store's "latest vote counts" equals Polis's latest by
timestamp), keeps ``group-id`` and row order in ``meta``, and the summary and time zone in the
assembly's ``settings["polis"]``. Everything is validated first (:func:`read_polis`) and written
in one transaction: a bad file stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from pluralign.errors import InputError
from pluralign.formats.polis import PolisClock, PolisExport, make_polis_export, write_polis
from pluralign.formats.polis_read import read_polis
from pluralign.store.models import (
    CLOSED,
    MODERATION_TO_POLIS,
    POLIS_TO_MODERATION,
    Assembly,
    Participant,
    Statement,
    Vote,
)
from pluralign.store.queries import get_assembly
from pluralign.store.session import Store

OWNER = 0
"""Polis gives the conversation owner participant id 0; their comments are the seed statements."""
SUMMARY_KEPT = ("url", "views", "voters-in-conv")


def _time(ms: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=int(ms))


def _ms(value: dt.datetime) -> int:
    if value.tzinfo is None:  # SQLite hands back naive datetimes: they were stored as UTC
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def load_polis_export(
    store: Store,
    export: PolisExport,
    slug: str,
    *,
    topic: str | None = None,
    description: str | None = None,
    participants: Mapping[int, Mapping[str, Any]] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """Store ``export`` as a new assembly ``slug`` in one transaction; returns the slug.

    ``participants`` optionally maps a Polis participant id to ``{"key": ..., "demographics":
    {...}}`` (the simulator passes pool ids and demographics). ``settings`` are merged into the
    assembly's settings.
    """
    summary = dict(export.summary)
    comments, votes, pv = export.comments, export.votes, export.participants
    info = participants or {}
    with store.session() as session:
        if session.scalar(select(Assembly.id).where(Assembly.slug == slug)) is not None:
            raise InputError(
                f"an assembly '{slug}' already exists",
                where="--slug",
                hint="choose another --slug (pluralign db list shows the used ones)",
            )
        polis_settings = {
            "summary": {k: summary[k] for k in SUMMARY_KEPT if k in summary},
            "clock": {"name": export.clock.name, "offset_minutes": export.clock.offset_minutes},
        }
        assembly = Assembly(
            slug=slug,
            topic=topic or summary.get("topic") or slug,
            description=description
            if description is not None
            else summary.get("conversation-description", ""),
            state=CLOSED,
            settings={"source": "polis", "polis": polis_settings, **dict(settings or {})},
        )
        session.add(assembly)
        session.flush()
        aid = assembly.id

        first_seen: dict[int, int] = {}
        for frame, column in ((votes, "voter-id"), (comments, "author-id")):
            if len(frame):
                earliest = frame.groupby(column)["timestamp"].min()
                for pid, ts in earliest.items():
                    first_seen[int(pid)] = min(int(ts), first_seen.get(int(pid), int(ts)))
        order = [int(x) for x in pv["participant"]]
        groups = dict(zip(order, pv["group-id"], strict=True))
        everyone = order + sorted(set(first_seen) - set(order))
        rows = []
        for row, pid in enumerate(everyone):
            extra = info.get(pid, {})
            meta: dict[str, Any] = {"polis_row": row}
            group = groups.get(pid)
            if group is not None and group is not pd.NA:
                meta["group-id"] = int(group)
            rows.append(
                {
                    "assembly_id": aid,
                    "number": pid,
                    "key": str(extra.get("key", f"polis-{pid}")),
                    "demographics": dict(extra.get("demographics", {})),
                    "meta": meta,
                    "created_at": _time(first_seen[pid])
                    if pid in first_seen
                    else assembly.created_at,
                }
            )
        if rows:
            session.execute(insert(Participant), rows)
        pid_of = dict(
            session.execute(
                select(Participant.number, Participant.id).where(Participant.assembly_id == aid)
            ).all()
        )

        rows = [
            {
                "assembly_id": aid,
                "number": int(c["comment-id"]),
                "text": c["comment-body"],
                "author_id": pid_of[int(c["author-id"])],
                "moderation": POLIS_TO_MODERATION[int(c["moderated"])],
                "is_seed": int(c["author-id"]) == OWNER,
                "meta": {"polis_row": i},
                "created_at": _time(c["timestamp"]),
            }
            for i, c in enumerate(comments.to_dict("records"))
        ]
        if rows:
            session.execute(insert(Statement), rows)
        sid_of = dict(
            session.execute(
                select(Statement.number, Statement.id).where(Statement.assembly_id == aid)
            ).all()
        )

        # Insert in time order (stable: file order breaks ties) so that id order = time order.
        ordered = votes.sort_values("timestamp", kind="stable")
        rows = [
            {
                "assembly_id": aid,
                "participant_id": pid_of[int(p)],
                "statement_id": sid_of[int(c)],
                "value": int(v),
                "created_at": _time(t),
            }
            for t, c, p, v in zip(
                ordered["timestamp"],
                ordered["comment-id"],
                ordered["voter-id"],
                ordered["vote"],
                strict=True,
            )
        ]
        for start in range(0, len(rows), 5000):
            session.execute(insert(Vote), rows[start : start + 5000])
    return slug


def simulated_participants(directory: str | Path) -> dict[int, dict[str, Any]] | None:
    """Pool ids and demographics of a ``pluralign simulate`` folder (``pool.csv`` and
    ``truth.json`` beside the Polis files), keyed by participant number; None elsewhere."""
    from pluralign.io import read_json
    from pluralign.panel.inputs import read_pool

    folder = Path(directory)
    pool_path, truth_path = folder / "pool.csv", folder / "truth.json"
    if not (pool_path.is_file() and truth_path.is_file()):
        return None
    frame = read_pool(pool_path)  # the one pool reader: unique, non-empty ids
    pool = {row["id"]: row for row in frame.to_dict("records")}
    truth = read_json(truth_path)
    entries = truth.get("participants", []) if isinstance(truth, dict) else None
    if not isinstance(entries, list):
        raise InputError("expected an object with a 'participants' list", where=str(truth_path))
    people = {}
    for i, entry in enumerate(entries):
        number = entry.get("participant") if isinstance(entry, dict) else None
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InputError(
                f"participants[{i}] needs a 'participant' number >= 0", where=str(truth_path)
            )
        row = pool.get(str(entry.get("id")))
        if row is not None:
            demographics = {k: v for k, v in row.items() if k != "id"}
            people[number] = {"key": row["id"], "demographics": demographics}
    return people


def import_polis(
    store: Store,
    directory: str | Path,
    slug: str | None = None,
    *,
    topic: str | None = None,
    description: str | None = None,
    participants: Mapping[int, Mapping[str, Any]] | None = None,
) -> str:
    """Read, validate and store the Polis export in ``directory`` as assembly ``slug`` (default:
    the folder's name); returns the slug. Nothing is stored if any file is malformed.

    For a ``pluralign simulate`` folder the participants get their pool ids as keys and their
    demographics (see :func:`simulated_participants`) unless ``participants`` is given.
    """
    export = read_polis(directory)
    if participants is None:
        participants = simulated_participants(directory)
    return load_polis_export(
        store,
        export,
        slug or Path(directory).resolve().name,
        topic=topic,
        description=description,
        participants=participants,
    )


def assembly_to_polis(store: Store, slug: str) -> PolisExport:
    """The Polis export of a stored assembly (derived columns recomputed, see
    :func:`make_polis_export`); row order and group ids come from an earlier import if any."""
    with store.session() as session:
        assembly = get_assembly(session, slug)
        aid = assembly.id
        polis_settings = dict((assembly.settings or {}).get("polis", {}))
        people = session.execute(
            select(Participant.id, Participant.number, Participant.meta).where(
                Participant.assembly_id == aid
            )
        ).all()
        number_of = {pid: num for pid, num, _ in people}
        statements = session.execute(
            select(
                Statement.number,
                Statement.author_id,
                Statement.created_at,
                Statement.moderation,
                Statement.text,
                Statement.meta,
            ).where(Statement.assembly_id == aid)
        ).all()
        vote_rows = session.execute(
            select(Vote.created_at, Statement.number, Participant.number, Vote.value)
            .join(Statement, Statement.id == Vote.statement_id)
            .join(Participant, Participant.id == Vote.participant_id)
            .where(Vote.assembly_id == aid)
            .order_by(Vote.id)
        ).all()
        topic, description = assembly.topic, assembly.description

    def by_row(meta, fallback):
        row = (meta or {}).get("polis_row")
        return (0, row) if row is not None else (1, fallback)

    statements = sorted(statements, key=lambda s: by_row(s.meta, s.number))
    comments = pd.DataFrame(
        {
            "comment-id": [s.number for s in statements],
            "author-id": [number_of.get(s.author_id, OWNER) for s in statements],
            "timestamp": [_ms(s.created_at) for s in statements],
            "moderated": [MODERATION_TO_POLIS[s.moderation] for s in statements],
            "comment-body": [s.text for s in statements],
        }
    )
    votes = pd.DataFrame(
        [(_ms(t), c, p, v) for t, c, p, v in vote_rows],
        columns=["timestamp", "comment-id", "voter-id", "vote"],
    )
    people = sorted(people, key=lambda p: by_row(p.meta, p.number))
    roster = pd.DataFrame(
        {
            "participant": [p.number for p in people],
            "group-id": pd.array([(p.meta or {}).get("group-id") for p in people], dtype="Int64"),
        }
    )
    summary = {
        "topic": topic,
        **polis_settings.get("summary", {}),
        "conversation-description": description,
    }
    clock = PolisClock(**polis_settings["clock"]) if "clock" in polis_settings else PolisClock()
    return make_polis_export(comments, votes, roster, summary=summary, clock=clock)


def export_polis(store: Store, slug: str, out_dir: str | Path) -> PolisExport:
    """Write assembly ``slug`` as Polis CSVs into ``out_dir``; returns the export written."""
    export = assembly_to_polis(store, slug)
    write_polis(export, out_dir)
    return export
