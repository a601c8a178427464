"""Authorisation: walk EVERY route of the app as anonymous, participant, moderator and admin.

The table below must list every route: a new route without an entry fails this test, so nobody
can add a page without deciding who may use it.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from web_helpers import client, create_assembly, csrf_of, join, login, make_app

PUBLIC, PARTICIPANT, MODERATOR, ADMIN = "public", "participant", "moderator", "admin"
EXPECTED = {
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/a/{slug}"): PUBLIC,
    ("POST", "/a/{slug}/join"): PUBLIC,
    ("GET", "/a/{slug}/about-you"): PARTICIPANT,
    ("POST", "/a/{slug}/about-you"): PARTICIPANT,
    ("GET", "/a/{slug}/vote"): PARTICIPANT,
    ("POST", "/a/{slug}/vote"): PARTICIPANT,
    ("GET", "/a/{slug}/propose"): PARTICIPANT,
    ("POST", "/a/{slug}/propose"): PARTICIPANT,
    ("GET", "/a/{slug}/map"): PARTICIPANT,
    ("GET", "/a/{slug}/withdraw"): PARTICIPANT,
    ("POST", "/a/{slug}/withdraw"): PARTICIPANT,
    ("GET", "/admin/login"): PUBLIC,
    ("POST", "/admin/login"): PUBLIC,
    ("POST", "/admin/logout"): PUBLIC,
    ("GET", "/admin"): MODERATOR,
    ("GET", "/admin/new"): ADMIN,
    ("POST", "/admin/new"): ADMIN,
    ("GET", "/admin/a/{slug}"): MODERATOR,
    ("GET", "/admin/a/{slug}/counts"): MODERATOR,
    ("POST", "/admin/a/{slug}/settings"): ADMIN,
    ("POST", "/admin/a/{slug}/seed"): ADMIN,
    ("POST", "/admin/a/{slug}/invites"): ADMIN,
    ("POST", "/admin/a/{slug}/state"): ADMIN,
    ("GET", "/admin/a/{slug}/moderation"): MODERATOR,
    ("POST", "/admin/a/{slug}/statements/{number}/moderate"): MODERATOR,
    ("GET", "/admin/a/{slug}/moderation/log.csv"): ADMIN,
    ("GET", "/admin/a/{slug}/results"): MODERATOR,
    ("GET", "/admin/a/{slug}/export/polis.zip"): ADMIN,
    ("GET", "/admin/a/{slug}/export/constitution.{fmt}"): ADMIN,
    ("GET", "/a/{slug}/values"): PARTICIPANT,
    ("GET", "/a/{slug}/values/case/{case_id}"): PARTICIPANT,
    ("POST", "/a/{slug}/values/case/{case_id}/chat"): PARTICIPANT,
    ("POST", "/a/{slug}/values/case/{case_id}/card"): PARTICIPANT,
    ("GET", "/a/{slug}/upgrades"): PARTICIPANT,
    ("POST", "/a/{slug}/upgrades"): PARTICIPANT,
    ("GET", "/admin/a/{slug}/moralgraph"): MODERATOR,
    ("POST", "/admin/a/{slug}/moralgraph/contexts"): ADMIN,
    ("POST", "/admin/a/{slug}/moralgraph/cases"): ADMIN,
    ("GET", "/admin/a/{slug}/moralgraph/graph.json"): ADMIN,
    ("GET", "/a/{slug}/rate"): PARTICIPANT,
    ("POST", "/a/{slug}/rate"): PARTICIPANT,
    ("GET", "/admin/a/{slug}/public-eval"): MODERATOR,
    ("GET", "/admin/a/{slug}/public-eval/public_eval.json"): MODERATOR,
    ("GET", "/admin/a/{slug}/public-eval/pairs.jsonl"): ADMIN,
    ("POST", "/admin/a/{slug}/public-eval/models"): ADMIN,
    ("POST", "/admin/a/{slug}/public-eval/clauses"): ADMIN,
    ("POST", "/admin/a/{slug}/public-eval/prompts"): ADMIN,
    ("POST", "/admin/a/{slug}/public-eval/generate"): ADMIN,
    ("POST", "/admin/a/{slug}/public-eval/state"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/interview"): ADMIN,
    ("POST", "/admin/a/{slug}/workbench/interview/turn"): ADMIN,
    ("POST", "/admin/a/{slug}/workbench/interview/decide"): ADMIN,
    ("POST", "/admin/a/{slug}/workbench/interview/save"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/interview/status"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/constitution.yaml"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/practice"): ADMIN,
    ("POST", "/admin/a/{slug}/workbench/practice/start"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/practice/status"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/integration"): ADMIN,
    ("POST", "/admin/a/{slug}/workbench/integration/start"): ADMIN,
    ("GET", "/admin/a/{slug}/workbench/integration/status"): ADMIN,
    ("POST", "/lang"): PUBLIC,
    ("GET", "/admin/a/{slug}/translations"): ADMIN,
    ("POST", "/admin/a/{slug}/translations/all"): ADMIN,
    ("POST", "/admin/a/{slug}/translations/{number}"): ADMIN,
}
RANK = {PUBLIC: 0, PARTICIPANT: 0, MODERATOR: 1, ADMIN: 2}


def _flatten(routes):
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI >= 0.16x keeps included routers
            yield from _flatten(route.original_router.routes)


def _routes(app):
    for route in _flatten(app.routes):
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path


@pytest.fixture
def actors(db_url):
    app, store = make_app(db_url)
    admin = client(app)
    admin_token = create_assembly(admin)
    participant = client(app)
    join(participant)
    participant_token = csrf_of(participant.get("/a/ai-rules/vote").text)
    moderator = client(app)
    moderator_token = login(moderator, "mod")
    anonymous = client(app)
    anonymous_token = csrf_of(anonymous.get("/").text)
    yield (
        app,
        {
            "anonymous": (anonymous, anonymous_token, -1),
            "participant": (participant, participant_token, 0),
            "moderator": (moderator, moderator_token, 1),
            "admin": (admin, admin_token, 2),
        },
    )
    store.dispose()


def test_every_route_is_classified(tmp_path):
    app, store = make_app(f"sqlite:///{tmp_path / 'routes.db'}")
    store.dispose()
    assert set(_routes(app)) == set(EXPECTED)


def test_every_route_as_every_actor(actors):
    app, who = actors
    for method, path in sorted(_routes(app), key=lambda r: (r[0] == "POST", r[1])):
        if path.endswith(("/withdraw", "/logout")) and method == "POST":
            continue  # they end the session; covered by their own tests below
        need = EXPECTED[(method, path)]
        url = (
            path.replace("{slug}", "ai-rules")
            .replace("{number}", "0")
            .replace("{fmt}", "md")
            .replace("{case_id}", "1")
        )
        for actor, (c, token, rank) in who.items():
            r = c.request(
                method,
                url,
                data={"csrf": token} if method == "POST" else None,
                follow_redirects=False,
            )
            where = f"{actor} {method} {url} -> {r.status_code}"
            location = r.headers.get("location", "")
            if need in (MODERATOR, ADMIN):
                if rank < 1:
                    assert r.status_code == 303 and location.startswith("/admin/login"), where
                elif rank < RANK[need]:
                    assert r.status_code == 403, where
                else:
                    assert r.status_code not in (401, 403), where
                    assert not location.startswith("/admin/login"), where
            elif need == PARTICIPANT:
                if actor == "participant":
                    assert r.status_code not in (401, 403), where
                    assert location != "/a/ai-rules", where
                else:  # organisers are not participants either
                    assert r.status_code == 303 and location == "/a/ai-rules", where
            elif (method, path) == ("POST", "/admin/login"):
                assert r.status_code == 401, where  # no credentials given
            else:
                assert r.status_code not in (401, 403), where


def test_session_ending_posts_need_csrf_and_identity(actors):
    app, who = actors
    anonymous, token, _ = who["anonymous"]
    r = anonymous.post(
        "/a/ai-rules/withdraw", data={"csrf": token, "confirm": "yes"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/a/ai-rules"
    participant, p_token, _ = who["participant"]
    assert participant.post("/a/ai-rules/withdraw", data={"confirm": "yes"}).status_code == 403
    admin, a_token, _ = who["admin"]
    assert admin.post("/admin/logout").status_code == 403
    assert admin.get("/admin").status_code == 200  # still signed in


def test_every_unsafe_route_rejects_a_missing_csrf_token(actors):
    app, who = actors
    admin, _token, _ = who["admin"]
    participant = who["participant"][0]
    for method, path in _routes(app):
        if method == "GET":
            continue
        url = (
            path.replace("{slug}", "ai-rules")
            .replace("{number}", "0")
            .replace("{fmt}", "md")
            .replace("{case_id}", "1")
        )
        for c in (admin, participant):
            r = c.request(method, url, data={"decision": "accepted"}, follow_redirects=False)
            assert r.status_code == 403, f"{method} {url} accepted a request without CSRF token"
