"""Organiser pages in-process, on SQLite and PostgreSQL: sign-in, set-up, seed upload,
moderation, results, exports (no personal data), closing."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select
from web_helpers import (
    ADMIN_PASSWORD,
    client,
    create_assembly,
    csrf_of,
    field,
    join,
    login,
    make_app,
    vote_current,
)

from pluralign.store.models import Participant


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


def test_login_rejects_wrong_password_and_logout_works(app_store):
    app, _store = app_store
    c = client(app)
    page = c.get("/admin/login")
    r = c.post(
        "/admin/login", data={"username": "admin", "password": "nope", "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 401 and "wrong username or password" in r.text
    r = c.post(
        "/admin/login",
        data={"username": "ghost", "password": ADMIN_PASSWORD, "csrf": csrf_of(page.text)},
    )
    assert r.status_code == 401
    token = login(c)
    assert c.get("/admin").status_code == 200
    r = c.post("/admin/logout", data={"csrf": token})
    assert r.url.path == "/admin/login"
    assert c.get("/admin").url.path == "/admin/login"


def test_login_next_is_never_an_open_redirect(app_store):
    app, _store = app_store
    c = client(app)
    page = c.get("/admin/login?next=https://evil.example/")
    assert 'value="/admin"' in page.text
    r = c.post(
        "/admin/login",
        follow_redirects=False,
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "//evil.example/",
        },
    )
    assert r.headers["location"] == "/admin"


def test_create_configure_and_bad_inputs(app_store):
    app, store = app_store
    c = client(app)
    token = create_assembly(c, open_it=False)
    r = c.post("/admin/new", data={"csrf": token, "slug": "ai-rules", "topic": "again"})
    assert r.status_code == 400 and "exists already" in r.text
    r = c.post("/admin/new", data={"csrf": token, "slug": "Bad Slug!", "topic": "t"})
    assert r.status_code == 400 and "not a valid link name" in r.text
    r = c.post(
        "/admin/a/ai-rules/settings",
        data={
            "csrf": token,
            "topic": "New topic",
            "questions": "age | Age | a; b",
            "closes_at": "2031-05-06T07:08",
            "min_votes": "5",
            "invite_only": "yes",
        },
    )
    assert r.status_code == 200 and "settings saved" in r.text
    assert "age | Age | a; b" in r.text and 'value="2031-05-06T07:08"' in r.text
    r = c.post(
        "/admin/a/ai-rules/settings", data={"csrf": token, "topic": "T", "questions": "age | Age"}
    )
    assert r.status_code == 400 and "questions, line 1" in r.text
    r = c.post(
        "/admin/a/ai-rules/seed",
        data={"csrf": token},
        files={"file": ("s.csv", b'text\nfine\n\n""\n', "text/csv")},
    )
    assert r.status_code == 400 and "s.csv, line 4" in r.text
    with store.session() as s:
        from pluralign.store.queries import get_assembly

        a = get_assembly(s, "ai-rules")
        assert a.topic == "New topic" and a.invite_only and a.settings["min_votes"] == 5
        assert len(a.statements) == 4  # the bad upload added nothing


def test_moderation_queue(app_store):
    app, _store = app_store
    admin = client(app)
    create_assembly(admin)
    mod = client(app)
    token = login(mod, "mod")
    p = client(app)
    join(p)
    for text in ("idea one", "idea two"):
        page = p.get("/a/ai-rules/propose")
        p.post("/a/ai-rules/propose", data={"csrf": csrf_of(page.text), "text": text})
    queue = mod.get("/admin/a/ai-rules/moderation").text
    assert "idea one" in queue and "idea two" in queue
    r = mod.post(
        "/admin/a/ai-rules/statements/4/moderate",
        data={"csrf": token, "decision": "accepted"},
        headers={"HX-Request": "true"},
    )
    assert "accepted" in r.text and "<html" not in r.text
    mod.post(
        "/admin/a/ai-rules/statements/5/moderate", data={"csrf": token, "decision": "rejected"}
    )
    assert 'id="queue-empty"' in mod.get("/admin/a/ai-rules/moderation").text
    seen = set()
    r = p.get("/a/ai-rules/vote")
    while field(r.text, "statement") is not None:
        seen.add(int(field(r.text, "statement")))
        r = vote_current(p, r.text)
    assert seen == {0, 1, 2, 3, 4}  # the accepted proposal is voted on, the rejected is not
    counts = mod.get("/admin/a/ai-rules/counts").text
    assert 'id="count-votes">5<' in counts and 'id="count-pending">0<' in counts


def _camps(app, n=8, min_votes=3):
    for i in range(n):
        c = client(app)
        r = join(c, answers={"age": "18-29"})
        while field(r.text, "statement") is not None:
            number = int(field(r.text, "statement"))
            value = 1 if number == 0 or (number < 2) == (i < n // 2) else -1
            r = vote_current(c, r.text, value=value)


def test_results_and_exports_without_personal_data(app_store):
    app, store = app_store
    admin = client(app)
    create_assembly(admin, questions="age | Age group | 18-29; 30+", min_votes=3)
    _camps(app)
    res = admin.get("/admin/a/ai-rules/results").text
    assert 'id="group-1"' in res and 'id="group-2"' in res and "<svg" in res
    assert 'id="consensus"' in res and "AI should be honest" in res  # everyone agreed with 0
    z = admin.get("/admin/a/ai-rules/export/polis.zip")
    assert z.headers["content-type"] == "application/zip"
    files = zipfile.ZipFile(io.BytesIO(z.content))
    names = {n.split("/")[-1] for n in files.namelist()}
    assert {"comments.csv", "votes.csv"} <= names
    blob = b"".join(files.read(n) for n in files.namelist()).decode()
    with store.session() as s:
        keys = [p.key for p in s.scalars(select(Participant))]
    assert keys and not any(k in blob for k in keys)  # no pseudonymous cookie keys
    assert "18-29" not in blob and "Age group" not in blob  # no answers about people
    votes = [line for line in files.read("ai-rules/votes.csv").decode().splitlines()[1:]]
    assert len(votes) == 8 * 4
    md = admin.get("/admin/a/ai-rules/export/constitution.md")
    assert md.headers["content-type"].startswith("text/markdown")
    assert "## c1. AI should be honest" in md.text and "| #0 | 8 / 0 / 0 |" in md.text
    yml = admin.get("/admin/a/ai-rules/export/constitution.yaml")
    assert yml.headers["content-type"].startswith("application/yaml")
    from pluralign.constitution import Constitution

    constitution = Constitution.from_yaml(yml.text)
    assert constitution.clauses[0].statements == [0]  # the clause keeps its provenance
    assert constitution.provenance["n_groups"] == 2
    assert admin.get("/admin/a/ai-rules/export/constitution.pdf").status_code == 404


def test_closing_stops_votes(app_store):
    app, _store = app_store
    admin = client(app)
    token = create_assembly(admin)
    p = client(app)
    r = join(p)
    admin.post("/admin/a/ai-rules/state", data={"csrf": token, "state": "closed"})
    assert vote_current(p, r.text).status_code == 400
    assert "closed" in p.get("/a/ai-rules/vote").text
    assert 'id="open"' in admin.get("/admin/a/ai-rules").text
