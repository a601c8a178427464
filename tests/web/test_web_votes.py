"""The vote write path: group commit (VoteWriter), replays inside and across batches, a failing
vote isolated from its batch, and the idempotency property of record_vote."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pluralign.store.models import OPEN, Vote
from pluralign.web import service, votes


def _setup(store, slug="w-one", people=3):
    with store.session() as s:
        form = service.parse_assembly_form("Topic", "", False, "", "", "3")
        a = service.create_assembly(s, slug, form)
        a.state = OPEN
        service.add_seed_statements(s, a, [f"s{i}" for i in range(4)])
        keys = [service.join(s, a, None).key for _ in range(people)]
    return keys


def _prepare(store, key, statement, value, rid, slug="w-one"):
    return votes.prepare_vote(store, slug, key, statement, value, rid, allow_db=True)


def test_writer_stores_each_request_once_and_reports_replays(store):
    keys = _setup(store)
    writer = votes.VoteWriter(store, max_batch=50)

    async def burst():
        jobs = []
        for key in keys:
            for i in range(10):
                # every request is sent twice, concurrently: same participant, same request id
                prepared = _prepare(store, key, i % 4, (i % 3) - 1, f"r{i}")
                jobs += [writer.submit(prepared), writer.submit(prepared)]
        return await asyncio.gather(*jobs)

    try:
        results = asyncio.run(burst())
    finally:
        writer.close()
    pairs = list(zip(results[::2], results[1::2], strict=True))
    assert all(a[0] == b[0] for a, b in pairs)  # both copies name the same stored vote
    assert all(a[3] or b[3] for a, b in pairs)  # at most one copy is new, the other a replay
    assert sum(not r[3] for r in results) == len(keys) * 10
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == len(keys) * 10
    # a later retry (a new batch) is a replay with the stored value, whatever it now says
    writer = votes.VoteWriter(store)
    try:
        again = asyncio.run(writer.submit(_prepare(store, keys[0], 3, 1, "r0")))
    finally:
        writer.close()
    assert again[3] is True and again[2] == -1 and again[0] == results[0][0]


def test_a_vote_that_cannot_be_stored_fails_alone(store):
    keys = _setup(store, slug="w-two")
    good = [_prepare(store, keys[0], i, 1, f"g{i}", slug="w-two") for i in range(4)]
    bad = _prepare(store, keys[1], 0, 1, "b0", slug="w-two")
    with store.session() as s:  # the participant withdraws after their vote was validated
        from pluralign.store.models import Participant

        service.withdraw(s, s.scalar(select(Participant).where(Participant.key == keys[1])))
    writer = votes.VoteWriter(store)

    async def burst():
        return await asyncio.gather(
            *(writer.submit(v) for v in [*good[:2], bad, *good[2:]]), return_exceptions=True
        )

    try:
        results = asyncio.run(burst())
    finally:
        writer.close()
    assert isinstance(results[2], IntegrityError)
    assert all(isinstance(r, tuple) and not r[3] for i, r in enumerate(results) if i != 2)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 4


def test_prepare_vote_needs_no_database_once_cached(store):
    keys = _setup(store, slug="w-three")
    with pytest.raises(votes.CacheMiss):
        votes.prepare_vote(store, "w-three", keys[0], 0, 1, "x", allow_db=False)
    _prepare(store, keys[0], 0, 1, "x", slug="w-three")
    cached = votes.prepare_vote(store, "w-three", keys[0], 1, 1, "y", allow_db=False)
    assert cached.statement == 1 and cached.values["request_id"].endswith(":y")
    with pytest.raises(LookupError):
        _prepare(store, "not-a-participant", 0, 1, "z", slug="w-three")


def test_postgres_writer_keeps_one_autocommit_connection_and_replaces_a_dead_one(pg_url):
    """On PostgreSQL the writer takes one connection from the pool for all its batches (not one
    per batch, each with the pool's pre-ping, BEGIN and COMMIT), and when the server ends that
    connection the next batch opens another: no vote is lost or stored twice."""
    from sqlalchemy import event, text

    from pluralign.store import open_store

    store = open_store(pg_url)
    keys = _setup(store, slug="w-pg")
    checkouts = []
    event.listen(store.engine, "checkout", lambda *a: checkouts.append(1))
    writer = votes.VoteWriter(store)

    def one(i, rid):
        return asyncio.run(writer.submit(_prepare(store, keys[i % 3], i % 4, 1, rid, "w-pg")))

    try:
        _prepare(store, keys[0], 0, 1, "warm", "w-pg")  # the caches, so no checkout below
        _prepare(store, keys[1], 0, 1, "warm", "w-pg")
        _prepare(store, keys[2], 0, 1, "warm", "w-pg")
        checkouts.clear()
        first = [one(i, f"a{i}") for i in range(5)]  # five batches of one vote
        assert len(checkouts) == 1
        with store.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            ).all()
        assert killed  # the writer's connection was there to end
        after = [one(i, f"b{i}") for i in range(3)]
        replay = one(0, "a0")
    finally:
        writer.close()
        store.dispose()
    assert not any(r[3] for r in first + after)
    assert replay[3] is True and replay[0] == first[0][0]
    store = open_store(pg_url, migrate=False)
    try:
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Vote)) == 8
    finally:
        store.dispose()


_PROP: dict = {}


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from([-1, 0, 1]), st.integers(0, 3)),
        min_size=1,
        max_size=15,
    )
)
def test_record_vote_is_idempotent_property(tmp_path_factory, submissions):
    from pluralign.store import open_store
    from pluralign.store.models import Participant

    if "store" not in _PROP:  # one migrated store for all examples; a new assembly each
        _PROP["store"] = open_store(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
        _PROP["n"] = 0
    store = _PROP["store"]
    _PROP["n"] += 1
    slug = f"w-prop-{_PROP['n']}"
    keys = _setup(store, slug=slug, people=1)
    first: dict[int, int] = {}
    with store.session() as s:
        a = service.assembly_info(s, slug)
        pid = s.scalar(select(Participant.id).where(Participant.key == keys[0]))
        for rid, value, statement in submissions:
            ack = service.record_vote(s, a, pid, statement, value, f"k{rid}")
            assert ack.replayed == (rid in first)
            first.setdefault(rid, value)
            assert ack.value == first[rid]  # a replay reports what was stored
    with store.session() as s:
        stored = s.scalar(select(func.count()).select_from(Vote).where(Vote.participant_id == pid))
    assert stored == len(first)
