"""Moral-graph tables: migration 0003 on SQLite and PostgreSQL, writes, reads, summary."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from pluralign.moralgraph.models import (
    MoralCase,
    MoralContext,
    MoralEdge,
    MoralImpression,
    ValuesCardRow,
    load_cards,
    load_edges,
    record_edge,
)
from pluralign.moralgraph.summary import summarize
from pluralign.store import Assembly, Base, Participant

TABLES = {"moral_context", "moral_case", "moral_case_context", "values_card", "moral_edge",
          "moral_impression"}


def test_migration_creates_tables_matching_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert set(inspect(store.engine).get_table_names()) >= TABLES
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diff if any(t in repr(d) for t in TABLES)]
    assert mine == []


def _seed(session):
    a = Assembly(slug="mg", topic="How should the assistant respond?")
    session.add(a)
    session.flush()
    people = [Participant(assembly_id=a.id, number=i, key=f"p{i}") for i in range(4)]
    ctx = MoralContext(assembly_id=a.id, key="user-in-distress", description="distress")
    session.add_all([*people, ctx])
    session.flush()
    case = MoralCase(assembly_id=a.id, key="c1", title="Panic", prompt="I can't breathe",
                     contexts=[ctx])
    cards = [ValuesCardRow(assembly_id=a.id, title=t, description="", policies=["X"],
                           context_id=ctx.id, author_id=people[0].id)
             for t in ("Quick Fixes", "Presence", "Agency", "Presence (dup)")]
    session.add_all([case, *cards])
    session.flush()
    return a, people, ctx, cards


def test_edges_round_trip_and_summarise(store):
    with store.session() as s:
        a, people, ctx, cards = _seed(s)
        q, p, g, dup = (c.id for c in cards)
        for person in people[:3]:
            record_edge(s, assembly_id=a.id, participant_id=person.id, from_id=q, to_id=p,
                        context_id=ctx.id, relationship="upgrade")
            record_edge(s, assembly_id=a.id, participant_id=person.id, from_id=dup, to_id=g,
                        context_id=ctx.id, relationship="upgrade", story="s")
        s.add(MoralImpression(assembly_id=a.id, participant_id=people[3].id, from_id=q, to_id=p,
                              context_id=ctx.id))
        # a changed answer replaces the earlier one
        record_edge(s, assembly_id=a.id, participant_id=people[2].id, from_id=q, to_id=p,
                    context_id=ctx.id, relationship="not_sure")
        # merge the duplicate into "Presence": both sources kept
        cards[3].canonical_id = p
        cards[1].sources = [p, dup]
        aid = a.id
    with store.session() as s:
        assert s.scalar(select(MoralCase)).contexts[0].key == "user-in-distress"
        assert len(s.scalars(select(MoralEdge)).all()) == 6
        frame = load_edges(s, aid)
        cards = load_cards(s, aid)
    assert [c.title for c in cards] == ["Quick Fixes", "Presence", "Agency"]
    assert cards[1].sources == (p, dup)
    assert sorted(frame["relationship"]) == ["not_sure"] + ["upgrade"] * 5
    graph = summarize(frame, cards)
    # Quick Fixes → Presence: W=2, U=1; Presence (merged dup) → Agency: W=3
    assert set(zip(graph.edges["source"], graph.edges["wiser"], strict=True)) == {(q, p), (p, g)}
    assert graph.winners == {"user-in-distress": g}


def test_bad_answers_are_refused(store):
    with store.session() as s:
        a, people, ctx, cards = _seed(s)
        with pytest.raises(ValueError, match="relationship"):
            record_edge(s, assembly_id=a.id, participant_id=people[0].id, from_id=cards[0].id,
                        to_id=cards[1].id, context_id=ctx.id, relationship="wiser")
        with pytest.raises(ValueError, match="two different"):
            record_edge(s, assembly_id=a.id, participant_id=people[0].id, from_id=cards[0].id,
                        to_id=cards[0].id, context_id=ctx.id, relationship="upgrade")


def test_downgrade_removes_tables(db_url):
    from pluralign.store.session import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0003")
    assert set(inspect(engine).get_table_names()) >= TABLES
    from alembic import command
    from alembic.config import Config

    from pluralign.store.session import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
