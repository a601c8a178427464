"""Web service functions on the store (both databases): spreading, idempotency, invitations,
withdrawal, and the organiser's inputs (questions, seed CSV)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from pluralign.errors import InputError, NotFoundError
from pluralign.store.models import ACCEPTED, OPEN, PENDING, Participant, Statement, Vote
from pluralign.web import service
from pluralign.web.models import InviteToken, Withdrawal


def _assembly(s, slug="t-one", invite_only=False, n_statements=4):
    form = service.parse_assembly_form("Topic", "", invite_only, "", "", "3")
    a = service.create_assembly(s, slug, form)
    a.state = OPEN
    service.add_seed_statements(s, a, [f"statement {i}" for i in range(n_statements)])
    return a


def test_next_statement_offers_each_unseen_statement_once_by_policy(store):
    with store.session() as s:
        a = _assembly(s)
        p1 = service.join(s, a, None)
        p2 = service.join(s, a, None)
        service.record_vote(s, a, p2, 0, 1, "r0")
        service.record_vote(s, a, p2, 1, -1, "r1")
        for policy in ("priority", "random"):
            first = service.next_statement(s, a.id, p1.id, policy=policy)
            assert first.remaining == 4
            again = service.next_statement(s, a.id, p1.id, policy=policy)
            assert again == first  # a reload shows the same statement
        seen = set()
        for k in range(4):
            nxt = service.next_statement(s, a.id, p1.id)
            assert nxt.number not in seen and nxt.remaining == 4 - k
            seen.add(nxt.number)
            service.record_vote(s, a, p1, nxt.number, 0, f"a{k}")
        assert seen == {0, 1, 2, 3}
        assert service.next_statement(s, a.id, p1.id) is None
        # p2 has voted on 0 and 1: only 2 and 3 are offered, never a repeat
        for _ in range(2):
            nxt = service.next_statement(s, a.id, p2.id, policy="random")
            assert nxt.number in (2, 3)
            service.record_vote(s, a, p2, nxt.number, 1, f"x{nxt.number}")
        assert service.next_statement(s, a.id, p2.id) is None


def test_gain_policy_uses_the_group_model_and_the_participants_own_votes(store):
    from pluralign.web.routing import GroupModel

    # statements 0-3; the model (keyed by statement number) says groups split on 2 and 3 and
    # agree on 0 and 1; nobody has voted yet, so the vote counts are equal
    split = GroupModel(
        [0, 1, 2, 3],
        [[8, 8, 8, 8], [8, 8, 0, 0]],
        [[0, 0, 0, 0], [0, 0, 8, 8]],
        [[8, 8, 8, 8], [8, 8, 8, 8]],
    )
    with store.session() as s:
        a = _assembly(s)
        people = [service.join(s, a, None) for _ in range(60)]
        firsts = [
            service.next_statement(s, a.id, p.id, policy="gain", model=split).number
            for p in people
        ]
        assert sum(n in (2, 3) for n in firsts) >= 50  # the splitting statements first
        p = people[0]
        again = service.next_statement(s, a.id, p.id, policy="gain", model=split)
        assert again.number == firsts[0]  # a reload shows the same statement
        # the participant's own votes enter the posterior: after an agree on 2 (group 0) the
        # gain of 3 falls, and the next draw weighs it with the participant's gains
        service.record_vote(s, a, p, 2, 1, "g0")
        assert split.gains({2: 1})[3] < split.gains({})[3]
        nxt = service.next_statement(s, a.id, p.id, policy="gain", model=split)
        assert nxt.number != 2 and nxt.remaining == 3
        # without a model (no groups yet) the policy still offers every unseen statement
        assert service.next_statement(s, a.id, p.id, policy="gain").number in (0, 1, 3)


def test_seed_statements_first(store):
    with store.session() as s:
        a = _assembly(s)  # statements 0-3 are seed statements
        author = service.join(s, a, None)
        proposed = service.propose(s, a, author, "A proposed statement")
        service.moderate(s, a, proposed.number, "accepted")
        p = service.join(s, a, None)
        order = []
        for k in range(5):
            nxt = service.next_statement(s, a.id, p.id, seed_first=True)
            order.append(nxt.number)
            service.record_vote(s, a, p, nxt.number, 1, f"s{k}")
        assert order[-1] == proposed.number and sorted(order[:4]) == [0, 1, 2, 3]


def test_vote_is_idempotent_per_participant_and_request(store):
    with store.session() as s:
        a = _assembly(s)
        p1, p2 = service.join(s, a, None), service.join(s, a, None)
        ack = service.record_vote(s, a, p1, 0, 1, "same-key")
        again = service.record_vote(s, a, p1, 0, -1, "same-key")
        assert again.replayed and again.vote_id == ack.vote_id and again.value == 1
        other = service.record_vote(s, a, p2, 0, -1, "same-key")  # another person, same key
        assert not other.replayed
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 2


def test_vote_errors(store):
    with store.session() as s:
        a = _assembly(s)
        p = service.join(s, a, None)
        with pytest.raises(InputError, match="agree"):
            service.record_vote(s, a, p, 0, 2, "k")
        with pytest.raises(NotFoundError, match="no statement 99"):
            service.record_vote(s, a, p, 99, 1, "k")
        s.add(Statement(assembly_id=a.id, number=10, text="pending", moderation=PENDING))
        s.flush()
        with pytest.raises(NotFoundError):  # pending statements cannot be voted on
            service.record_vote(s, a, p, 10, 1, "k")
        service.set_state(a, "closed")
        with pytest.raises(InputError, match="closed"):
            service.record_vote(s, a, p, 0, 1, "k")


def test_invitation_admits_exactly_one_participant(store):
    with store.session() as s:
        a = _assembly(s, invite_only=True)
        tokens = service.create_invites(s, a, 2)
        with pytest.raises(InputError, match="invitation"):
            service.join(s, a, None)
        with pytest.raises(InputError, match="not valid"):
            service.join(s, a, "forged-token")
        p = service.join(s, a, tokens[0])
        with pytest.raises(InputError, match="used already"):
            service.join(s, a, tokens[0])
        service.join(s, a, tokens[1])
        row = s.scalar(select(InviteToken).where(InviteToken.participant_id == p.id))
        assert row.used_at is not None and row.token_hash != tokens[0]  # stored hashed


def test_withdraw_deletes_votes_answers_and_unpublished_statements(store):
    with store.session() as s:
        a = _assembly(s)
        p, other = service.join(s, a, None), service.join(s, a, None)
        service.record_vote(s, a, p, 0, 1, "1")
        service.record_vote(s, a, other, 0, 1, "2")
        mine_pending = service.propose(s, a, p, "pending idea")
        mine_published = service.propose(s, a, p, "published idea")
        service.moderate(s, a, mine_published.number, ACCEPTED)
        pid, pending_id, published_id = p.id, mine_pending.id, mine_published.id
        assert service.withdraw(s, p) == 1
    with store.session() as s:
        assert s.get(Participant, pid) is None
        assert s.scalar(select(func.count()).select_from(Vote)) == 1
        assert s.get(Statement, pending_id) is None
        published = s.get(Statement, published_id)
        assert published is not None and published.author_id is None
        assert s.scalar(select(Withdrawal.votes_deleted)) == 1


def test_parse_questions_and_errors():
    qs = service.parse_questions("age | Your age | 18-29; 30+\n\nregion | Region | N; S; E")
    assert [q["key"] for q in qs] == ["age", "region"]
    assert qs[0]["options"] == ["18-29", "30+", service.PREFER_NOT]
    assert service.parse_questions(service.questions_text(qs)) == qs
    with pytest.raises(InputError, match="line 2"):
        service.parse_questions("age | Age | a; b\nbad line")
    with pytest.raises(InputError, match="twice"):
        service.parse_questions("age | Age | a; b\nage | Again | a; b")
    with pytest.raises(InputError, match="two options"):
        service.parse_questions("age | Age | only")
    with pytest.raises(InputError, match="lower-case"):
        service.parse_questions("Age! | Age | a; b")


def test_parse_seed_csv():
    assert service.parse_seed_csv('\ufefftext,source\nOne,x\n"Two, with comma",y\n'.encode()) == [
        "One",
        "Two, with comma",
    ]
    with pytest.raises(InputError, match="'text' column"):
        service.parse_seed_csv(b"statement\nOne\n")
    with pytest.raises(InputError, match=r"seed.csv, line 3, column 'text'"):
        service.parse_seed_csv(b'text\nOne\n""\n')
    with pytest.raises(InputError, match="UTF-8"):
        service.parse_seed_csv("text\nZürich\n".encode("latin-1"))
    with pytest.raises(InputError, match="no statements"):
        service.parse_seed_csv(b"text\n")


def test_assembly_form_errors():
    with pytest.raises(InputError, match="topic"):
        service.parse_assembly_form(" ", "", False, "", "", "7")
    with pytest.raises(InputError, match="date"):
        service.parse_assembly_form("T", "", False, "tomorrow", "", "7")
    with pytest.raises(InputError, match="min_votes"):
        service.parse_assembly_form("T", "", False, "", "", "0")
    form = service.parse_assembly_form("T", "", True, "2030-01-02T03:04", "", "")
    assert form.closes_at.tzinfo is not None and form.min_votes == service.DEFAULT_MIN_VOTES


@given(st.text(max_size=120))
def test_parse_questions_never_crashes_unexpectedly(text):
    try:
        qs = service.parse_questions(text)
    except InputError as exc:
        assert exc.where.startswith("questions")
    else:
        for q in qs:
            assert q["options"][-1] == service.PREFER_NOT and len(q["options"]) >= 3


def test_closing_time_closes(store):
    import datetime as dt

    with store.session() as s:
        a = _assembly(s)
        assert service.is_open(a)
        a.closes_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        assert not service.is_open(a)
        service.set_state(a, "open")  # re-opening clears a past closing time
        assert service.is_open(a)


def test_migration_0002_downgrades_and_upgrades(tmp_path):
    from sqlalchemy import inspect

    from pluralign.store.session import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert inspect(engine).has_table("web_user")
    from alembic import command
    from alembic.config import Config

    from pluralign.store.session import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert not inspect(engine).has_table("web_user") and inspect(engine).has_table("vote")
    upgrade(engine)
    assert inspect(engine).has_table("web_invite")
    engine.dispose()
