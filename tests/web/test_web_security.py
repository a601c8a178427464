"""Regressions of the security and data defects found by probing the web app (issue 14, 1-10),
in-process on SQLite and PostgreSQL. Each test failed before its fix."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import func, select
from web_helpers import (
    ADMIN_PASSWORD,
    client,
    create_assembly,
    csrf_of,
    field,
    join,
    login,
    make_app,
)

from pluralign.moralgraph import service as mg
from pluralign.moralgraph.dialogue import card_from_form
from pluralign.moralgraph.models import MoralEdge, ValuesCardRow
from pluralign.store.models import Statement
from pluralign.store.queries import get_assembly

SLUG = "ai-rules"


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


def _graph(store, n_cards=2):
    """A context, a case and ``n_cards`` values cards written by other participants."""
    from pluralign.web import service

    with store.session() as s:
        a = get_assembly(s, SLUG)
        ctx = mg.add_context(s, a.id, "distress", "When the user is in distress")
        mg.add_case(s, a.id, "panic", "Panic at night", "I can't breathe", ["distress"])
        for i in range(n_cards):
            author = service.join(s, a, None)
            mg.submit_card(
                s,
                a.id,
                card_from_form(f"Value {i}", "It matters.", "X"),
                participant_id=author.id,
                context_key="distress",
            )
        return ctx.id


def _count(store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_closed_assembly_refuses_moral_graph_input(app_store):  # defect 1
    app, store = app_store
    admin = client(app)
    token = create_assembly(admin, seeds=())
    _graph(store)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/upgrades")  # the story is shown while the assembly is open
    story = {k: field(page.text, k) for k in ("from_id", "to_id", "context_id")}
    card = p.get(f"/a/{SLUG}/values/case/1")
    admin.post(f"/admin/a/{SLUG}/state", data={"csrf": token, "state": "closed"})
    cards, edges = _count(store, ValuesCardRow), _count(store, MoralEdge)
    r = p.post(
        f"/a/{SLUG}/values/case/1/card",
        data={
            "csrf": csrf_of(card.text),
            "title": "Late",
            "description": "Too late.",
            "policies": "X",
            "context": "distress",
            "transcript": "",
        },
    )
    assert r.status_code == 400 and "closed" in r.text
    r = p.post(
        f"/a/{SLUG}/upgrades", data={"csrf": csrf_of(page.text), "relationship": "upgrade", **story}
    )
    assert r.status_code == 400 and "closed" in r.text
    assert (_count(store, ValuesCardRow), _count(store, MoralEdge)) == (cards, edges)
    assert 'id="closed"' in p.get(f"/a/{SLUG}/upgrades").text
    assert 'id="confirm-card"' not in p.get(f"/a/{SLUG}/values/case/1").text


def test_withdrawal_deletes_values_cards_and_judgments(app_store):  # defect 2
    app, store = app_store
    create_assembly(client(app), seeds=())
    _graph(store)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/values/case/1")
    p.post(
        f"/a/{SLUG}/values/case/1/card",
        data={
            "csrf": csrf_of(page.text),
            "title": "Mine",
            "description": "My value.",
            "policies": "MOMENTS to listen",
            "context": "distress",
            "transcript": '[{"role": "user", "content": "a private story"}]',
        },
    )
    page = p.get(f"/a/{SLUG}/upgrades")
    p.post(
        f"/a/{SLUG}/upgrades",
        data={
            "csrf": csrf_of(page.text),
            "relationship": "upgrade",
            **{k: field(page.text, k) for k in ("from_id", "to_id", "context_id")},
        },
    )
    assert _count(store, ValuesCardRow) == 3 and _count(store, MoralEdge) == 1
    page = p.get(f"/a/{SLUG}/withdraw")
    assert "values cards" in page.text  # the page says what is deleted
    r = p.post(f"/a/{SLUG}/withdraw", data={"csrf": csrf_of(page.text), "confirm": "yes"})
    assert 'id="withdrawn"' in r.text
    with store.session() as s:
        titles = set(s.scalars(select(ValuesCardRow.title)))
        dialogues = [d for d in s.scalars(select(ValuesCardRow.dialogue)) if d]
        graph = mg.assembly_graph(s, get_assembly(s, SLUG).id)
    assert titles == {"Value 0", "Value 1"} and dialogues == []
    assert _count(store, MoralEdge) == 0 and "Mine" not in {v.title for v in graph.values.values()}


def test_sign_out_ends_the_session_on_the_server(app_store):  # defect 3
    app, _store = app_store
    admin = client(app)
    token = create_assembly(admin)
    copied = dict(admin.cookies)
    thief = client(app)
    thief.cookies.update(copied)
    assert thief.get("/admin", follow_redirects=False).status_code == 200
    admin.post("/admin/logout", data={"csrf": token})
    for path in ("/admin", f"/admin/a/{SLUG}/export/polis.zip"):
        r = thief.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login"), path
    login(admin)  # signing in again works, with a new session
    assert admin.get("/admin", follow_redirects=False).status_code == 200


def test_sign_in_limit_per_account_whatever_the_address(app_store):  # defect 4
    from fastapi.testclient import TestClient

    app, _store = app_store
    codes = []
    for i in range(15):  # a new client address each time (as behind a rotating proxy)
        c = TestClient(app, client=(f"10.0.{i}.1", 40000))
        page = c.get("/admin/login")
        r = c.post(
            "/admin/login",
            data={"username": "admin", "password": f"guess {i}", "csrf": csrf_of(page.text)},
        )
        codes.append(r.status_code)
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}, codes
    c = TestClient(app, client=("10.9.9.9", 40000))
    page = c.get("/admin/login")
    r = c.post(
        "/admin/login",
        data={  # the right password is refused too while blocked
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf": csrf_of(page.text),
        },
    )
    assert r.status_code == 429 and "for this account" in r.text
    login(client(app), "mod")  # other accounts are not affected


def test_bad_ids_in_an_upgrade_answer_are_a_clear_error(app_store):  # defect 5
    app, store = app_store
    create_assembly(client(app), seeds=())
    context_id = _graph(store)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/upgrades")
    ids = {k: field(page.text, k) for k in ("from_id", "to_id")}
    for bad in ("999", str(context_id + 1)):
        r = p.post(
            f"/a/{SLUG}/upgrades",
            data={"csrf": csrf_of(page.text), "relationship": "upgrade", "context_id": bad, **ids},
        )
        assert r.status_code in (400, 404) and "reload the page" in r.text, r.text[:200]
    assert _count(store, MoralEdge) == 0


def test_the_upgrade_story_is_written_by_the_server(app_store):  # defect 6
    app, store = app_store
    create_assembly(client(app), seeds=())
    _graph(store, n_cards=3)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/upgrades")
    assert 'name="story"' not in page.text
    shown = page.text.split('id="story-text">')[1].split("<")[0]
    r = p.post(
        f"/a/{SLUG}/upgrades",
        data={
            "csrf": csrf_of(page.text),
            "relationship": "upgrade",
            "story": "<b>forged</b>",
            **{k: field(page.text, k) for k in ("from_id", "to_id", "context_id")},
        },
    )
    assert r.status_code == 200
    with store.session() as s:
        story = s.scalar(select(MoralEdge.story))
    import html

    assert story == html.unescape(shown) and "forged" not in story
    # an answer to a story that was never shown is refused
    shown_ids = {field(page.text, "from_id"), field(page.text, "to_id")}
    other = ({"1", "2", "3"} - shown_ids).pop()
    r = p.post(
        f"/a/{SLUG}/upgrades",
        data={
            "csrf": csrf_of(page.text),
            "relationship": "upgrade",
            "context_id": field(page.text, "context_id"),
            "from_id": min(shown_ids),
            "to_id": other,
        },
    )
    assert r.status_code == 400 and "not shown to you" in r.text


def test_invitation_links_use_the_configured_public_url(db_url):  # defect 7
    import re

    app, store = make_app(db_url, public_url="https://vote.example.org/")
    try:
        admin = client(app)
        token = create_assembly(admin, invite_only=True)
        r = admin.post(
            f"/admin/a/{SLUG}/invites",
            data={"csrf": token, "count": "2"},
            headers={"host": "evil.example"},
        )
        links = re.findall(r"(https?://[^\s/<]+)/a/ai-rules\?invite=", r.text)
        assert links == ["https://vote.example.org"] * 2 and "evil.example" not in r.text
    finally:
        store.dispose()
    from pluralign.errors import InputError
    from pluralign.web.app import WebSettings

    with pytest.raises(InputError, match="public base URL"):
        WebSettings(public_url="vote.example.org")


@pytest.mark.parametrize("char", ["\x00", "\u202e", "\u2066", "\x1b"])
def test_control_and_bidi_characters_are_refused(app_store, char):  # defect 8
    app, store = app_store
    admin = client(app)
    token = create_assembly(admin)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/propose")
    r = p.post(
        f"/a/{SLUG}/propose", data={"csrf": csrf_of(page.text), "text": f"AI should{char} be fair"}
    )
    assert r.status_code == 400 and f"U+{ord(char):04X}" in r.text
    r = admin.post(
        f"/admin/a/{SLUG}/seed",
        data={"csrf": token},
        files={"file": ("s.csv", f"text\nfine\nbad{char}one\n".encode(), "text/csv")},
    )
    assert r.status_code == 400 and "s.csv, line 3" in r.text
    with store.session() as s:
        texts = s.scalars(select(Statement.text)).all()
    assert not any(char in t for t in texts) and len(texts) == 4
    # right-to-left text with its ordinary marks is fine
    page = p.get(f"/a/{SLUG}/propose")
    r = p.post(
        f"/a/{SLUG}/propose",
        data={"csrf": csrf_of(page.text), "text": "\u05e9\u05dc\u05d5\u05dd \u200f!"},
    )
    assert r.status_code == 200 and 'id="proposal-sent"' in r.text


def test_questions_about_participants_have_limits(app_store):  # defect 9
    app, _store = app_store
    admin = client(app)
    token = create_assembly(admin, open_it=False)
    huge = [
        "age | " + "x" * 10_000 + " | a; b",
        "age | Age | " + "; ".join(f"option {i}" for i in range(5_000)),
        "age | Age | " + "y" * 500 + "; b",
        "\n".join(f"q{i} | Question {i} | a; b" for i in range(25)),
    ]
    for questions in huge:
        r = admin.post(
            f"/admin/a/{SLUG}/settings", data={"csrf": token, "topic": "T", "questions": questions}
        )
        assert r.status_code == 400 and "questions, line" in r.text, questions[:40]
    ok = admin.post(
        f"/admin/a/{SLUG}/settings",
        data={"csrf": token, "topic": "T", "questions": "age | Age | 18-29; 30+"},
    )
    assert ok.status_code == 200


def test_seed_statements_do_not_share_an_author_with_a_participant(app_store):  # defect 10
    app, _store = app_store
    admin = client(app)
    create_assembly(admin)
    p = client(app)
    join(p)
    page = p.get(f"/a/{SLUG}/propose")
    p.post(f"/a/{SLUG}/propose", data={"csrf": csrf_of(page.text), "text": "Proposed by p"})
    z = zipfile.ZipFile(io.BytesIO(admin.get(f"/admin/a/{SLUG}/export/polis.zip").content))
    comments = list(csv.DictReader(io.StringIO(z.read(f"{SLUG}/comments.csv").decode())))
    people = list(csv.DictReader(io.StringIO(z.read(f"{SLUG}/participants-votes.csv").decode())))
    seed_authors = {c["author-id"] for c in comments if c["comment-body"].startswith("AI should")}
    proposer = {c["author-id"] for c in comments if c["comment-body"] == "Proposed by p"}
    assert len(seed_authors) == 1 and seed_authors != proposer
    joined = {row["participant"] for row in people} - seed_authors
    assert proposer <= joined


def test_migration_0006_matches_the_models_and_downgrades(store):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from pluralign.store.models import Base
    from pluralign.store.session import MIGRATIONS, upgrade

    tables = {"web_session", "web_login_failure", "web_moderation_log"}
    assert tables <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if any(t in repr(d) for t in tables)] == []
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert not tables & set(inspect(store.engine).get_table_names())
    upgrade(store.engine)
    assert tables <= set(inspect(store.engine).get_table_names())
