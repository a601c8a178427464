"""The store on SQLite and PostgreSQL: schema, latest-vote semantics, history, idempotency."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pluralign.errors import NotFoundError, StoreError
from pluralign.store import (
    ACCEPTED,
    AGREE,
    DISAGREE,
    PASS,
    Assembly,
    Panel,
    PanelMember,
    Participant,
    Statement,
    Vote,
    open_store,
)
from pluralign.store.queries import get_assembly, latest_votes, next_number, vote_history


def _seed(store):
    with store.session() as s:
        a = Assembly(slug="ai", topic="How should AI assistants behave?")
        s.add(a)
        s.flush()
        people = [
            Participant(assembly_id=a.id, number=i, key=f"p{i}", demographics={"age": "18-29"})
            for i in range(3)
        ]
        stmts = [
            Statement(assembly_id=a.id, number=i, text=f"s{i}", moderation=ACCEPTED, is_seed=True)
            for i in range(2)
        ]
        s.add_all(people + stmts)
        s.flush()
        return a.id, [p.id for p in people], [t.id for t in stmts]


def test_latest_vote_counts_and_history_is_kept(store):
    aid, people, stmts = _seed(store)
    with store.session() as s:
        s.add_all(
            [
                Vote(assembly_id=aid, participant_id=people[0], statement_id=stmts[0], value=AGREE),
                Vote(
                    assembly_id=aid, participant_id=people[0], statement_id=stmts[0], value=DISAGREE
                ),
                Vote(assembly_id=aid, participant_id=people[1], statement_id=stmts[0], value=PASS),
                Vote(assembly_id=aid, participant_id=people[2], statement_id=stmts[1], value=AGREE),
            ]
        )
    with store.session() as s:
        latest = latest_votes(s, aid)
        history = vote_history(s, aid)
    assert len(history) == 4
    assert len(latest) == 3
    cell = latest[(latest.participant == 0) & (latest.statement == 0)]
    assert cell.value.tolist() == [DISAGREE]
    assert sorted(latest.value.tolist()) == [DISAGREE, PASS, AGREE]


def test_idempotency_key_is_unique(store):
    aid, people, stmts = _seed(store)
    with store.session() as s:
        s.add(
            Vote(
                assembly_id=aid,
                participant_id=people[0],
                statement_id=stmts[0],
                value=1,
                request_id="req-1",
            )
        )
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(
            Vote(
                assembly_id=aid,
                participant_id=people[0],
                statement_id=stmts[0],
                value=1,
                request_id="req-1",
            )
        )
    with store.session() as s:  # the first vote survived the failed retry
        assert len(s.scalars(select(Vote)).all()) == 1


def test_numbers_unique_per_assembly_and_next_number(store):
    aid, _, _ = _seed(store)
    with store.session() as s:
        assert next_number(s, Participant, aid) == 3
        assert next_number(s, Statement, aid) == 2
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(Participant(assembly_id=aid, number=0, key="dup"))


def test_panel_members_cascade(store):
    with store.session() as s:
        panel = Panel(name="p", method="leximin", size=2, seed=1, report={"min_probability": 0.5})
        panel.members = [
            PanelMember(person=str(i), probability=0.5, weight=1.0, selected=i < 2)
            for i in range(4)
        ]
        s.add(panel)
    with store.session() as s:
        panel = s.scalars(select(Panel)).one()
        assert sum(m.probability for m in panel.members) == pytest.approx(2.0)
        assert panel.report["min_probability"] == 0.5
        s.delete(panel)
    with store.session() as s:
        assert s.scalars(select(PanelMember)).all() == []


def test_unknown_assembly_names_known_ones(store):
    _seed(store)
    with store.session() as s, pytest.raises(NotFoundError, match="known assemblies: ai"):
        get_assembly(s, "nope")


def test_reopen_is_idempotent(db_url):
    first = open_store(db_url)
    first.dispose()
    second = open_store(db_url)
    assert second.has_schema()
    second.dispose()


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(StoreError, match="cannot open the database"):
        open_store("postgresql://nobody@127.0.0.1:1/none")


def test_the_newest_migration_is_what_alembic_finds():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pluralign.store.session import MIGRATIONS, head_revision

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_a_current_store_opens_without_alembic_and_an_old_one_migrates(db_url, monkeypatch):
    """Opening a store whose schema is at the newest migration runs no alembic (it imports
    itself and every feature's tables: most of a store command's start); one at another
    revision, or an empty database, goes through alembic as before."""
    from sqlalchemy import text

    from pluralign.store import session

    calls = []
    real = session.upgrade
    monkeypatch.setattr(session, "upgrade", lambda engine: calls.append(1) or real(engine))
    open_store(db_url).dispose()  # a fresh database: migrated
    assert calls == [1]
    store = open_store(db_url)
    assert calls == [1] and store.has_schema()  # already current: no alembic
    with store.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not session.is_current(store.engine)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert session.is_current(store.engine)
    store.dispose()
