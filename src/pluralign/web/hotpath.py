"""The vote endpoint's fast path: ``POST /a/<slug>/vote`` answered in JSON without FastAPI.

A vote through FastAPI spends most of its CPU in the framework, not in the vote: matching the
path against every route, solving the app-wide CSRF dependency and the route's ``joined``
dependency, the exception-handler wrappers (``benchmarks/web_votes.py`` with a cProfile of the
server, 2026-12-03: route matching and dependency solving were about a third of the event
loop's time per vote, the vote itself, :func:`~pluralign.web.votes.prepare_vote` and the
writer's queue, under a tenth). :class:`FastVote` is a pure ASGI middleware, inside the session
middleware (so the signed cookie is read and re-sent exactly as for any page) and inside the
security-header middleware, that answers the one common case itself: a JSON vote (``Accept:
application/json``) from a joined participant with a valid CSRF token (header or form field),
a well-formed form, everything in the per-process caches (:func:`votes.prepare_vote` with
``allow_db=False``), within the rate limit. When only the assembly's and statements' caches
expired (every ``votes.CACHE_SECONDS``) and the participant is known, one request reloads them
in a thread and the others of this process wait for that one reload (:class:`_Refresh`)
instead of every request in flight going to the route, each with its own lookups (the tail of
the latency under load: sixteen route answers and their queries at each expiry). The vote
goes to the same group-commit writer (:class:`~pluralign.web.votes.VoteWriter`) and the answer
is sent only after its transaction committed, the same JSON as the route's.

Anything else (another path or method, htmx or a plain form post, a missing or wrong token, a
bad field, a participant this process has not seen, a closed assembly, the rate limit, a
withdrawn participant) goes to the app unchanged, with the body it sent replayed, so every
error and redirect is the route's own (``routers/participant.py: vote``); nothing is decided
here that the route would decide differently.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import parse_qsl

from sqlalchemy.exc import IntegrityError

from pluralign.web import votes
from pluralign.web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid

_PATH = re.compile(r"^/a/([^/]+)/vote$")
_MAX_BODY = 4096  # a vote's form is under 100 bytes; anything larger is the route's business
_URLENCODED = b"application/x-www-form-urlencoded"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class FastVote:
    """ASGI middleware: see the module docstring. Add it before ``SessionMiddleware`` (so it
    runs inside it: ``scope["session"]`` is the decoded cookie)."""

    def __init__(self, app):
        self.app = app
        self._refresh = _Refresh()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        match = _PATH.match(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])  # lower-case names (ASGI)
        if b"application/json" not in headers.get(b"accept", b""):
            return await self.app(scope, receive, send)
        body, complete = await _read_body(receive)
        answer = None
        if complete:
            answer = await self._vote(scope, headers, match.group(1), body)
        if answer is None:  # the route decides (and words any error)
            return await self.app(scope, _replay(body, complete, receive), send)
        payload = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _vote(self, scope, headers: dict, slug: str, body: bytes) -> dict | None:
        """The JSON answer, or None to hand the request to the app."""
        if not headers.get(b"content-type", b"").startswith(_URLENCODED):
            return None
        session = scope.get("session")
        if session is None:
            return None
        if hasattr(session, "mark_accessed"):  # as ``request.session`` does: Vary: Cookie
            session.mark_accessed()
        key = (session.get("p") or {}).get(slug)
        if not key:
            return None
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            sent = headers.get(CSRF_HEADER.encode(), b"").decode("latin-1") or form.get(CSRF_FIELD)
            statement, value, request_id = (
                int(form["statement"]),
                int(form["value"]),
                str(form["request_id"]),
            )
        except (UnicodeDecodeError, KeyError, ValueError):
            return None
        if not csrf_valid(session, sent):
            return None
        state = scope["app"].state
        store = state.store
        try:
            prepared = votes.prepare_vote(
                store, slug, key, statement, value, request_id, allow_db=False
            )
        except votes.CacheMiss:
            prepared = None
        except Exception:  # noqa: BLE001 - bad input, closed: the route's answer
            return None
        if prepared is None:  # expired caches of a known participant: reload them once
            if not votes.voter_cached(store, slug, key) or not await self._refresh(store, slug):
                return None
            try:
                prepared = votes.prepare_vote(
                    store, slug, key, statement, value, request_id, allow_db=False
                )
            except Exception:  # noqa: BLE001 - CacheMiss, bad input, closed: the route's
                return None
        if not state.limiter.allow(prepared.values["participant_id"]):
            return None  # the route's own check refuses it too (429), worded
        try:
            vote_id, statement_id, stored_value, replayed = await state.writer.submit(prepared)
        except IntegrityError:  # withdrew meanwhile: the route sends them to the consent page
            votes.forget_voter(str(store.engine.url), slug, key)
            return None
        number = statement if statement_id == prepared.statement_id else None
        return {
            "vote_id": vote_id,
            "statement": number,
            "value": stored_value,
            "replayed": replayed,
        }


class _Refresh:
    """One cache reload per (database, assembly) at a time in this event loop: the requests
    that find the caches expired wait for the same reload (in a worker thread)."""

    def __init__(self):
        self._running: dict[tuple[str, str], asyncio.Future] = {}

    async def __call__(self, store, slug: str) -> bool:
        """True once the caches were reloaded; False if that failed (the route then answers)."""
        key = (str(store.engine.url), slug)
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(asyncio.to_thread(votes.refresh_caches, store, slug))
            self._running[key] = task
            task.add_done_callback(lambda _t: self._running.pop(key, None))
        try:
            await asyncio.shield(task)
        except Exception:  # noqa: BLE001 - e.g. the assembly is gone: the route words it
            return False
        return True


async def _read_body(receive) -> tuple[bytes, bool]:
    """The request body, up to :data:`_MAX_BODY` bytes; ``complete`` False when there was more
    (or the client went away): the app then reads the rest through :func:`_replay`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > _MAX_BODY:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive):
    """A ``receive`` that first gives back what :func:`_read_body` took, then the rest."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not complete}
        return await receive()

    return replay
