"""Benchmark: importing a Polis conversation into the store (target: a few seconds).

Peers measured in the same run on the same file and database kind:

* reading: ``pandas.read_csv`` of the three CSVs with no validation, against :func:`read_polis`
  (which validates every cell and reports file/line/column);
* storing: one ORM object per vote (``session.add``), against the bulk ``insert(Vote)`` path of
  :func:`load_polis_export`.

    PYTHONPATH=src /work/venv/bin/python benchmarks/polis_import.py \
        [--polis ../shared/data/polis/football-concussions] [--db postgresql://...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from pluralign.data.polis import load_polis_export, read_polis
from pluralign.store import Participant, Statement, Vote, open_store

HERE = Path(__file__).resolve().parents[1]


def clock(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def naive_votes(store, export, slug) -> None:
    """Peer: the same import, but one ORM object per vote."""
    load_polis_export(
        store,
        export.__class__(
            export.comments,
            export.votes.iloc[:0],
            export.participants,
            export.summary,
            export.clock,
        ),
        slug,
    )
    with store.session() as s:
        pid = dict(s.execute(select(Participant.number, Participant.id)).all())
        sid = dict(s.execute(select(Statement.number, Statement.id)).all())
        aid = s.scalar(select(Participant.assembly_id).limit(1))
        for row in export.votes.sort_values("timestamp", kind="stable").itertuples(index=False):
            s.add(
                Vote(
                    assembly_id=aid,
                    participant_id=pid[row[3]],
                    statement_id=sid[row[2]],
                    value=int(row[4]),
                    created_at=pd.Timestamp(row[0], unit="ms", tz="UTC").to_pydatetime(),
                )
            )


@contextmanager
def scratch_database(server: str | None):
    """A fresh SQLite file, or a fresh database on the PostgreSQL server (dropped afterwards),
    so the benchmark never writes into a database someone uses."""
    if server is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"{tmp}/bench.db"
        return
    from sqlalchemy import create_engine, text

    from pluralign.store import resolve_url

    admin_url = resolve_url(server)
    name = f"pluralign_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--polis",
        type=Path,
        default=HERE.parent / "shared" / "data" / "polis" / "football-concussions",
    )
    ap.add_argument(
        "--db",
        default=None,
        help="a PostgreSQL server URL: the benchmark creates and drops its own "
        "database there (default: a temporary SQLite file)",
    )
    args = ap.parse_args()

    _, t_pandas = clock(
        lambda: [
            pd.read_csv(args.polis / f)
            for f in ("comments.csv", "votes.csv", "participants-votes.csv")
        ]
    )
    export, t_read = clock(lambda: read_polis(args.polis))
    print(
        f"read   {len(export.votes)} vote events: read_polis {t_read:.2f} s, "
        f"pandas.read_csv (no checks) {t_pandas:.2f} s, ratio {t_read / t_pandas:.1f}x"
    )

    with scratch_database(args.db) as url:
        store = open_store(url)
        try:
            _, t_bulk = clock(lambda: load_polis_export(store, export, "bulk"))
            _, t_naive = clock(lambda: naive_votes(store, export, "naive"))
        finally:
            store.dispose()
    print(
        f"store  ({store.engine.dialect.name}): bulk insert {t_bulk:.2f} s, one ORM object "
        f"per vote {t_naive:.2f} s, ratio {t_naive / t_bulk:.1f}x faster"
    )


if __name__ == "__main__":
    main()
