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
        command.downgrade(cfg, "0002")
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()


def test_service_flow_contexts_cards_stories_graph(store):
    from pluralign.errors import InputError, NotFoundError
    from pluralign.moralgraph import service
    from pluralign.moralgraph.dialogue import card_from_form

    with store.session() as s:
        a = Assembly(slug="svc", topic="t")
        s.add(a)
        s.flush()
        people = [Participant(assembly_id=a.id, number=i, key=f"p{i}") for i in range(3)]
        s.add_all(people)
        s.flush()
        service.add_context(s, a.id, "distress", "When the user is in distress")
        with pytest.raises(InputError, match="exists"):
            service.add_context(s, a.id, "distress")
        with pytest.raises(NotFoundError, match="known: distress"):
            service.add_case(s, a.id, "c", "t", "p", ["nope"])
        service.add_case(s, a.id, "panic", "Panic", "I can't breathe", ["distress"])
        cards = [service.submit_card(s, a.id, card_from_form(t, "d.", "X"),
                                     participant_id=people[0].id, context_key="distress")
                 for t in ("Fixes", "Presence", "Agency")]
        seen = []
        for _ in range(3):  # three pairs, each once
            story = service.next_story(s, a.id, people[1].id)
            assert story is not None and story.context == "distress"
            pair = {story.from_card.id, story.to_card.id}
            assert pair not in seen
            seen.append(pair)
            service.answer_story(s, a.id, people[1].id, story.from_card.id, story.to_card.id,
                                 story.context_id, "not_sure", story.text)
        assert service.next_story(s, a.id, people[1].id) is None
        # the other participant starts with a pair shown least often: all shown once → any
        assert service.next_story(s, a.id, people[2].id, record=False) is not None
        with pytest.raises(InputError):
            service.answer_story(s, a.id, people[2].id, cards[0].id, cards[1].id,
                                 story.context_id, "better")
        with pytest.raises(NotFoundError):
            service.answer_story(s, a.id, people[2].id, cards[0].id, 99999, story.context_id,
                                 "upgrade")
        for p in people[:2]:
            service.answer_story(s, a.id, p.id, cards[0].id, cards[2].id, story.context_id,
                                 "upgrade")
        graph = service.assembly_graph(s, a.id)
    assert graph.winners == {"distress": cards[2].id}
    assert graph.values[cards[2].id].title == "Agency"


def test_cli_export_from_store(tmp_path, capsys):
    from conftest import run_cli
    from pluralign.moralgraph import service
    from pluralign.moralgraph.dialogue import card_from_form
    from pluralign.store import open_store

    db = f"sqlite:///{tmp_path / 'a.db'}"
    store = open_store(db)
    with store.session() as s:
        a = Assembly(slug="exp", topic="t")
        s.add(a)
        s.flush()
        people = [Participant(assembly_id=a.id, number=i, key=f"p{i}") for i in range(2)]
        s.add_all(people)
        ctx = service.add_context(s, a.id, "distress")
        c1, c2 = (service.submit_card(s, a.id, card_from_form(t, "d.", "X"),
                                      context_key="distress") for t in ("Fixes", "Agency"))
        for p in people:
            service.answer_story(s, a.id, p.id, c1.id, c2.id, ctx.id, "upgrade")
    store.dispose()
    out = tmp_path / "g.json"
    res = run_cli("moralgraph", "export", "--db", db, "--assembly", "exp", "--out", out)
    assert res.returncode == 0, res.stderr
    import json

    data = json.loads(out.read_text())
    assert [v["title"] for v in data["values"]] == ["Fixes", "Agency"]
    assert data["pluralign"]["contexts"][0]["winner"] == c2.id
    from pluralign.cli import main

    with pytest.raises(SystemExit) as info:
        main(["moralgraph", "export", "--db", db, "--assembly", "nope", "--out", str(out)])
    assert info.value.code == 1 and "nope" in capsys.readouterr().err


def test_merge_duplicates_in_store(store):
    import numpy as np

    from pluralign.moralgraph import service
    from pluralign.moralgraph.dialogue import card_from_form

    with store.session() as s:
        a = Assembly(slug="merge", topic="t")
        s.add(a)
        s.flush()
        people = [Participant(assembly_id=a.id, number=i, key=f"p{i}") for i in range(2)]
        s.add_all(people)
        ctx = service.add_context(s, a.id, "distress")
        rows = [service.submit_card(s, a.id, card_from_form(t, "d.", "X"), context_key="distress")
                for t in ("Presence", "Being present", "Agency")]
        for p in people:  # votes on the duplicate count for the canonical card after merging
            service.answer_story(s, a.id, p.id, rows[1].id, rows[2].id, ctx.id, "upgrade")
        vectors = {"Presence": [1.0, 0.0], "Being present": [0.99, 0.05], "Agency": [0.0, 1.0]}
        merged = service.merge_duplicates(
            s, a.id, 0.95, embed=lambda cards: np.array([vectors[c.title] for c in cards]))
        assert len(merged) == 1
        (old, new), = merged.items()
        assert {old, new} == {rows[0].id, rows[1].id}
        graph = service.assembly_graph(s, a.id)
        assert service.merge_duplicates(s, a.id, 0.95, embed=lambda cards: np.array(
            [vectors[c.title] for c in cards])) == {}  # idempotent
    assert set(graph.values) == {new, rows[2].id}
    assert set(graph.values[new].sources) == {rows[0].id, rows[1].id}
    assert list(zip(graph.edges["source"], graph.edges["wiser"], strict=True)) == [
        (new, rows[2].id)]
