"""Who may use each public-evaluation route: the web app's route-walking check
(tests/web/test_web_routes_auth.py) run with this router's table added."""

from __future__ import annotations

import public_eval_kit  # noqa: F401  (puts tests/web on sys.path)
import test_web_routes_auth as routes_auth
from test_web_routes_auth import ADMIN, MODERATOR, PARTICIPANT, actors

__all__ = ["actors"]  # fixture reused from the web app's authorisation tests
PUBLIC_EVAL_ROUTES = {
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
}


def test_every_public_eval_route_is_classified():
    from pluralign.publiceval.web import router

    mine = {(m, r.path) for r in routes_auth._flatten(router.routes) for m in r.methods - {"HEAD"}}
    assert mine == set(PUBLIC_EVAL_ROUTES)


def test_public_eval_routes_as_every_actor(actors, monkeypatch):
    expected = {**routes_auth.EXPECTED, **PUBLIC_EVAL_ROUTES}
    monkeypatch.setattr(routes_auth, "EXPECTED", expected)
    routes_auth.test_every_route_as_every_actor(actors)
