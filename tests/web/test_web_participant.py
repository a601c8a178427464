"""Participant pages in-process (httpx via TestClient), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from web_helpers import client, create_assembly, csrf_of, field, join, make_app, vote_current

from pluralign.store.models import Participant, Statement, Vote


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


def test_whole_participant_flow(app_store):
    app, store = app_store
    admin = client(app)
    create_assembly(admin, questions="age | Your age | 18-29; 30-44; 45+")
    p = client(app)
    page = p.get("/a/ai-rules")
    assert "What we collect" in page.text and "How to withdraw" in page.text
    r = p.post("/a/ai-rules/join", data={"csrf": csrf_of(page.text), "consent": "yes"})
    assert r.url.path == "/a/ai-rules/about-you" and "Prefer not to say" in r.text
    # the questions must be answered before voting
    assert p.get("/a/ai-rules/vote").url.path == "/a/ai-rules/about-you"
    bad = p.post("/a/ai-rules/about-you", data={"csrf": csrf_of(r.text), "age": "100"})
    assert bad.status_code == 400
    r = p.post("/a/ai-rules/about-you", data={"csrf": csrf_of(r.text), "age": "30-44"})
    assert r.url.path == "/a/ai-rules/vote"
    seen = []
    for value in (1, -1, 0, 1):
        seen.append(field(r.text, "statement"))
        r = vote_current(p, r.text, value=value)
        assert r.status_code == 200
    assert len(set(seen)) == 4 and 'id="all-done"' in r.text
    # propose a statement: it waits for moderation and is not shown to voters yet
    page = p.get("/a/ai-rules/propose")
    r = p.post(
        "/a/ai-rules/propose", data={"csrf": csrf_of(page.text), "text": "AI should cite sources"}
    )
    assert 'id="proposal-sent"' in r.text
    with store.session() as s:
        st = s.scalar(select(Statement).where(Statement.text == "AI should cite sources"))
        assert st.moderation == "pending" and st.author_id is not None
        participant = s.scalar(select(Participant))
        assert participant.demographics == {"age": "30-44"}
        assert [v for (v,) in s.execute(select(Vote.value).order_by(Vote.id))] == [1, -1, 0, 1]
    assert 'id="all-done"' in p.get("/a/ai-rules/vote").text


def test_htmx_vote_returns_next_card_and_json_ack(app_store):
    app, _store = app_store
    create_assembly(client(app))
    p = client(app)
    r = join(p)
    card = vote_current(p, r.text, **{"HX-Request": "true"})
    assert card.text.lstrip().startswith('<section id="card"')
    assert "<html" not in card.text and field(card.text, "statement") != field(r.text, "statement")
    ack = vote_current(p, card.text, value=-1, accept="application/json")
    assert ack.json()["value"] == -1 and ack.json()["replayed"] is False


def test_retried_vote_counts_once(app_store):
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    r = join(p)
    data = {
        "csrf": csrf_of(r.text),
        "statement": field(r.text, "statement"),
        "value": "1",
        "request_id": field(r.text, "request_id"),
    }
    acks = [
        p.post("/a/ai-rules/vote", data=data, headers={"accept": "application/json"}).json()
        for _ in range(3)
    ]
    assert [a["replayed"] for a in acks] == [False, True, True]
    assert len({a["vote_id"] for a in acks}) == 1
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 1


def test_csrf_is_required_for_every_post(app_store):
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    r = join(p)
    data = {
        "statement": field(r.text, "statement"),
        "value": "1",
        "request_id": field(r.text, "request_id"),
    }
    assert p.post("/a/ai-rules/vote", data=data).status_code == 403
    assert p.post("/a/ai-rules/vote", data={**data, "csrf": "wrong"}).status_code == 403
    other = client(app)  # a token from another session is no good either
    other_token = csrf_of(other.get("/a/ai-rules").text)
    assert p.post("/a/ai-rules/vote", data={**data, "csrf": other_token}).status_code == 403
    ok = p.post("/a/ai-rules/vote", data=data, headers={"X-CSRF-Token": csrf_of(r.text)})
    assert ok.status_code == 200
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 1


def test_rate_limit_per_participant(db_url):
    app, store = make_app(db_url, rate_per_minute=1, burst=2)
    try:
        create_assembly(client(app))
        p, q = client(app), client(app)
        r = join(p)
        codes = []
        for _ in range(3):
            resp = vote_current(p, r.text)
            codes.append(resp.status_code)
            r = resp if resp.status_code == 200 else r
        assert codes == [200, 200, 429]
        assert vote_current(q, join(q).text).status_code == 200  # others are not affected
    finally:
        store.dispose()


def test_statements_are_escaped_and_cookies_hardened(app_store):
    app, store = app_store
    create_assembly(client(app), seeds=('<script>alert("x")</script> & more', "second"))
    p = client(app)
    page = p.get("/a/ai-rules")
    r = p.post(
        "/a/ai-rules/join",
        data={"csrf": csrf_of(page.text), "consent": "yes"},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    text = ""
    r = p.get("/a/ai-rules/vote")
    for _ in range(2):
        text += r.text
        r = vote_current(p, r.text)
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#34;x&#34;)" in text
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_invite_only_assembly(app_store):
    import re

    app, _store = app_store
    admin = client(app)
    token = create_assembly(admin, invite_only=True)
    r = admin.post("/admin/a/ai-rules/invites", data={"csrf": token, "count": "2"})
    links = re.findall(r"/a/ai-rules\?invite=([\w-]+)", r.text)
    assert len(links) == 2
    p = client(app)
    page = p.get("/a/ai-rules")
    assert 'name="invite"' in page.text
    r = p.post("/a/ai-rules/join", data={"csrf": csrf_of(page.text), "consent": "yes"})
    assert r.status_code == 400 and "invitation" in r.text
    page = p.get(f"/a/ai-rules?invite={links[0]}")
    assert links[0] in page.text
    r = p.post(
        "/a/ai-rules/join", data={"csrf": csrf_of(page.text), "consent": "yes", "invite": links[0]}
    )
    assert r.url.path == "/a/ai-rules/vote"
    q = client(app)
    page = q.get("/a/ai-rules")
    r = q.post(
        "/a/ai-rules/join", data={"csrf": csrf_of(page.text), "consent": "yes", "invite": links[0]}
    )
    assert r.status_code == 400 and "used already" in r.text


def test_consent_box_and_open_state(app_store):
    app, _store = app_store
    create_assembly(client(app), open_it=False)
    p = client(app)
    page = p.get("/a/ai-rules")
    assert "not open yet" in page.text and 'id="join"' not in page.text
    r = p.post("/a/ai-rules/join", data={"csrf": csrf_of(page.text), "consent": "yes"})
    assert r.status_code == 400
    assert p.get("/a/nope").status_code == 404


def test_map_after_enough_votes_and_own_group(app_store):
    app, _store = app_store
    create_assembly(client(app), min_votes=3)
    people = []
    for i in range(8):
        c = client(app)
        r = join(c)
        if i == 0:
            assert 'id="map-locked"' in c.get("/a/ai-rules/map").text
        for _ in range(4):
            # two camps: first half agrees with statements 0,1 and disagrees 2,3; second inverse
            number = int(field(r.text, "statement"))
            value = 1 if (number < 2) == (i < 4) else -1
            r = vote_current(c, r.text, value=value)
        people.append(c)
    page = people[0].get("/a/ai-rules/map").text
    assert 'id="my-group"' in page and "<svg" in page and ">you</text>" in page
    groups = {people[i].get("/a/ai-rules/map").text.split("group ")[1][:1] for i in (0, 1, 5, 6)}
    assert len(groups) == 2  # the two camps land in different groups


def test_withdraw_deletes_and_forgets(app_store):
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    r = vote_current(p, join(p).text)
    page = p.get("/a/ai-rules/withdraw")
    assert "1 vote" in page.text
    assert p.post("/a/ai-rules/withdraw", data={"csrf": csrf_of(page.text)}).status_code == 400
    r = p.post("/a/ai-rules/withdraw", data={"csrf": csrf_of(page.text), "confirm": "yes"})
    assert 'id="withdrawn"' in r.text
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 0
        assert s.scalar(select(func.count()).select_from(Vote)) == 0
    assert p.get("/a/ai-rules/vote").url.path == "/a/ai-rules"  # back to the consent page


def test_malformed_votes_are_refused_with_a_reason(app_store):
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    r = join(p)
    token = csrf_of(r.text)
    for data, status, text in (
        ({"statement": "x", "value": "1", "request_id": "a"}, 400, "whole numbers"),
        ({"statement": "0", "value": "2", "request_id": "a"}, 400, "agree"),
        ({"statement": "99", "value": "1", "request_id": "a"}, 404, "no statement 99"),
        ({"statement": "0", "value": "1", "request_id": ""}, 400, "request id"),
    ):
        resp = p.post("/a/ai-rules/vote", data={"csrf": token, **data})
        assert resp.status_code == status and text in resp.text, (data, resp.text[:300])
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 0


def test_vote_form_reader_matches_starlettes(app_store):
    """The vote path reads URL-encoded bodies itself (deps.url_form): a repeated field counts
    its last value as Starlette's form does, escapes decode, and multipart still works."""
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    r = join(p)
    token, number = csrf_of(r.text), field(r.text, "statement")
    body = f"csrf=wrong&csrf={token}&statement={number}&value=0&value=-1&request_id=a%3Ab+c"
    ack = p.post(
        "/a/ai-rules/vote",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
        },
    )
    assert ack.status_code == 200 and ack.json()["value"] == -1
    files = {k: (None, v) for k, v in {"csrf": token, "statement": number, "value": "1"}.items()}
    files["request_id"] = (None, "multipart-1")
    multi = p.post("/a/ai-rules/vote", files=files, headers={"accept": "application/json"})
    assert multi.status_code == 200 and multi.json()["value"] == 1
    with store.session() as s:
        keys = sorted(k.split(":", 1)[1] for k in s.scalars(select(Vote.request_id)))
    assert keys == ["a:b c", "multipart-1"]


def test_gain_routing_weighs_the_groups_model_on_the_vote_page(app_store, monkeypatch):
    """An assembly set to the gain policy: once the routing aggregation has groups, the vote
    page offers the statements the groups' model says place a newcomer (here the two the
    groups split on) far more often than the others."""
    from pluralign.web import results as results_mod
    from pluralign.web.results import Results
    from pluralign.web.routing import GroupModel

    app, store = app_store
    admin = client(app)
    token = create_assembly(admin)  # statements 0-3, min_votes 2
    r = admin.post(
        "/admin/a/ai-rules/settings",
        data={"csrf": token, "topic": "T", "routing": "gain", "min_votes": "2"},
    )
    assert r.status_code == 200 and 'id="routing-gain" checked' in r.text
    for _ in range(2):  # 8 votes: enough for routing to ask for the groups
        page = join(client_ := client(app))
        for _k in range(4):
            page = vote_current(client_, page.text)
    split = GroupModel(  # groups agree on 0 and 1, split on 2 and 3
        [0, 1, 2, 3],
        [[8, 8, 8, 8], [8, 8, 0, 0]],
        [[0, 0, 0, 0], [0, 0, 8, 8]],
        [[8, 8, 8, 8], [8, 8, 8, 8]],
    )
    asked = []

    def latest(store_, slug, *, min_votes):
        asked.append((slug, min_votes))
        return Results(slug, (), (), (), (), (), 8, min_votes, routing_model=split)

    monkeypatch.setattr(results_mod, "routing_results", latest)
    firsts = [int(field(join(client(app)).text, "statement")) for _ in range(24)]
    assert asked and asked[0] == ("ai-rules", 2)
    assert sum(n in (2, 3) for n in firsts) >= 20, firsts
