"""The vote endpoint's fast path (web/hotpath.py): JSON votes answered without FastAPI's route,
everything else handed to the route with its body intact, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from web_helpers import client, create_assembly, csrf_of, field, join, login, make_app

import pluralign.web.routers.participant as participant_routes
from pluralign.store.models import Vote

JSON = {"accept": "application/json"}


@pytest.fixture
def app_store(db_url):
    app, store = make_app(db_url)
    yield app, store
    store.dispose()


def _vote(c, html: str, value: int = 1, request_id: str | None = None, **headers):
    return c.post(
        "/a/ai-rules/vote",
        headers=headers,
        data={
            "csrf": csrf_of(html),
            "statement": field(html, "statement"),
            "value": str(value),
            "request_id": request_id or field(html, "request_id"),
        },
    )


def _route_disabled(monkeypatch):
    """Make the FastAPI vote route fail if it is reached (its form reader raises)."""

    async def refuse(request):
        raise AssertionError("the vote reached the FastAPI route")

    monkeypatch.setattr(participant_routes, "_vote_form", refuse)


def test_a_cached_json_vote_never_reaches_the_route(app_store, monkeypatch):
    app, store = app_store
    create_assembly(client(app))
    p = client(app)
    page = join(p)
    first = _vote(p, page.text, **JSON)  # a cold cache: the route answers (and fills it)
    assert first.status_code == 200 and first.json()["replayed"] is False
    _route_disabled(monkeypatch)
    second = _vote(p, page.text, value=-1, request_id="fast-1", **JSON)
    assert second.status_code == 200, second.text
    ack = second.json()
    assert set(ack) == {"vote_id", "statement", "value", "replayed"}
    assert ack["value"] == -1 and ack["replayed"] is False
    assert ack["statement"] == int(field(page.text, "statement"))
    again = _vote(p, page.text, value=-1, request_id="fast-1", **JSON)
    assert again.json() == {**ack, "replayed": True}  # a retry is found, not stored twice
    # the same headers as the route's answer: security headers, Vary: Cookie (the session)
    assert sorted(second.headers.keys()) == sorted(first.headers.keys())
    assert "content-security-policy" in second.headers and "Cookie" in second.headers["vary"]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 2


def test_what_the_fast_path_does_not_answer_gets_the_routes_answer(app_store):
    app, store = app_store
    admin = client(app)
    create_assembly(admin)
    p = client(app)
    page = join(p)
    assert _vote(p, page.text, **JSON).status_code == 200  # caches warm
    # a wrong CSRF token: the route's 403 (the body replayed to the app, not lost)
    bad = p.post(
        "/a/ai-rules/vote",
        headers=JSON,
        data={"csrf": "nope", "statement": "0", "value": "1", "request_id": "x1"},
    )
    assert bad.status_code == 403 and "CSRF" in bad.text
    # a malformed field: the route's 400, worded
    odd = p.post(
        "/a/ai-rules/vote",
        headers=JSON,
        data={"csrf": csrf_of(page.text), "statement": "zero", "value": "1", "request_id": "x2"},
    )
    assert odd.status_code == 400 and "whole numbers" in odd.text
    # htmx still gets the next card from the route
    card = _vote(p, page.text, value=0, request_id="x3", **{"HX-Request": "true"})
    assert card.text.lstrip().startswith('<section id="card"')
    # a closed assembly refuses, through the route
    token = login(admin)
    admin.post("/admin/a/ai-rules/state", data={"csrf": token, "state": "closed"})
    from pluralign.web import votes

    votes.ASSEMBLIES.clear()  # as after CACHE_SECONDS
    closed = _vote(p, page.text, request_id="x4", **JSON)
    assert closed.status_code == 400 and "closed" in closed.text
    # a browser that never joined goes to the consent page
    stranger = client(app)
    consent = stranger.get("/a/ai-rules")
    r = stranger.post(
        "/a/ai-rules/vote",
        headers=JSON,
        data={"csrf": csrf_of(consent.text), "statement": "0", "value": "1", "request_id": "x5"},
    )
    assert r.url.path == "/a/ai-rules"
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 2  # the first and the card's


def _age_caches():
    """Make the assembly and statement caches older than CACHE_SECONDS (as if time passed)."""
    from pluralign.web import votes

    old = votes.CACHE_SECONDS + 1
    for cache in (votes.ASSEMBLIES._data, votes.STATEMENTS._data):
        for k, entry in list(cache.items()):
            cache[k] = (entry[0] - old, *entry[1:])


def test_expired_caches_are_reloaded_by_the_fast_path_once(app_store, monkeypatch):
    """A known participant's vote after the caches expired is still answered without the route
    (one reload, not every request in flight going to the route), and a closed assembly found
    by that reload is refused by the route."""
    from pluralign.web import votes

    app, store = app_store
    admin = client(app)
    create_assembly(admin)
    p = client(app)
    page = join(p)
    assert _vote(p, page.text, **JSON).status_code == 200  # the route: caches and voter filled
    reloads = []
    real = votes.refresh_caches
    monkeypatch.setattr(votes, "refresh_caches", lambda *a: reloads.append(1) or real(*a))
    with monkeypatch.context() as m:
        _route_disabled(m)
        _age_caches()
        r = _vote(p, page.text, value=-1, request_id="late-1", **JSON)
        assert r.status_code == 200, r.text
        assert r.json()["replayed"] is False and reloads == [1]
        assert _vote(p, page.text, request_id="late-2", **JSON).status_code == 200
        assert reloads == [1]  # fresh again: no second reload
    token = login(admin)
    admin.post("/admin/a/ai-rules/state", data={"csrf": token, "state": "closed"})
    _age_caches()
    closed = _vote(p, page.text, request_id="late-3", **JSON)
    assert closed.status_code == 400 and "closed" in closed.text
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 3


def test_concurrent_requests_share_one_cache_reload(monkeypatch):
    import asyncio
    import threading

    from pluralign.web import hotpath, votes

    calls, gate = [], threading.Event()

    def slow_reload(store, slug):
        calls.append(slug)
        gate.wait(5)

    monkeypatch.setattr(votes, "refresh_caches", slow_reload)
    store = type("S", (), {"engine": type("E", (), {"url": "sqlite:///x"})()})()
    refresh = hotpath._Refresh()

    async def many():
        jobs = [asyncio.ensure_future(refresh(store, "a")) for _ in range(8)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*jobs)

    assert asyncio.run(many()) == [True] * 8
    assert calls == ["a"]

    def broken(store, slug):
        raise votes.NotFoundError("gone")

    monkeypatch.setattr(votes, "refresh_caches", broken)
    assert asyncio.run(refresh(store, "a")) is False  # the route then answers, worded
