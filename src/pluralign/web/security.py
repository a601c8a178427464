"""Passwords, CSRF tokens, the per-participant rate limit and the cookie secret.

- Passwords: argon2id (``argon2-cffi`` defaults, RFC 9106), never stored in clear.
- Sessions: Starlette's signed cookie (HMAC via itsdangerous), HttpOnly, SameSite=Lax, ``Secure``
  behind HTTPS. The signing secret lives in the database (``web_setting``) so every worker and
  every restart share it.
- CSRF: a random per-session token (synchroniser-token pattern, OWASP CSRF cheat sheet); every
  unsafe request must echo it in the ``csrf`` form field or the ``X-CSRF-Token`` header.
- Organiser sessions: the cookie carries a random session token whose hash is stored
  (``web_session``); signing out deletes the row, so a copied cookie is worthless afterwards.
- Sign-in limits: a token bucket per client address (per process) and, in the database, at most
  :data:`LOGIN_MAX_FAILURES` failed attempts per account name in :data:`LOGIN_WINDOW` (OWASP
  Authentication Cheat Sheet, "Protect against automated attacks"), so rotating addresses or
  worker processes does not give an attacker more guesses.
- Rate limit: a token bucket per participant (per worker process).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from pluralign.errors import InputError
from pluralign.store.models import utcnow
from pluralign.web.models import ROLES, AdminSession, AdminUser, LoginFailure, WebSetting

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_WINDOW = dt.timedelta(minutes=15)
LOGIN_MAX_FAILURES = 10


def _hasher():
    from pluralign.errors import require

    return require("argon2", "web").PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted, parameters encoded in the string)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False (never an exception) otherwise."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session, username: str, password: str, role: str) -> AdminUser:
    """Add an organiser account. Raises :class:`InputError` for a bad role, a short password or
    a username that is taken."""
    if role not in ROLES:
        raise InputError(f"unknown role '{role}'", hint=f"use one of: {', '.join(ROLES)}")
    if not username or len(username) > 80 or not username.isprintable():
        raise InputError("the username must be 1-80 printable characters")
    if len(password) < 10:
        raise InputError("the password must have at least 10 characters")
    if session.scalar(select(AdminUser).where(AdminUser.username == username)):
        raise InputError(
            f"the user '{username}' exists already",
            hint="choose another name or delete the user first",
        )
    user = AdminUser(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def new_token(nbytes: int = 24) -> str:
    """A random URL-safe token (192 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session: dict) -> str:
    """The CSRF token of this session, created on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = session[CSRF_FIELD] = new_token(18)
    return token


def csrf_valid(session: dict, sent: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected and sent and hmac.compare_digest(expected, sent))


def login_blocked(session, username: str) -> bool:
    """True when ``username`` had :data:`LOGIN_MAX_FAILURES` failed sign-ins in the window."""
    since = utcnow() - LOGIN_WINDOW
    failures = session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username[:80], LoginFailure.created_at >= since)
    )
    return (failures or 0) >= LOGIN_MAX_FAILURES


def record_login_failure(session, username: str) -> None:
    """Count a failed sign-in for ``username`` (and forget this name's expired failures)."""
    name = username[:80]
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.username == name, LoginFailure.created_at < utcnow() - LOGIN_WINDOW
        )
    )
    session.add(LoginFailure(username=name))


def start_admin_session(session, user: AdminUser, max_age: dt.timedelta) -> str:
    """A new session token for ``user`` (its hash stored); forgets the user's expired
    sessions and the account's failed sign-ins."""
    session.execute(
        delete(AdminSession).where(
            AdminSession.user_id == user.id, AdminSession.created_at < utcnow() - max_age
        )
    )
    session.execute(delete(LoginFailure).where(LoginFailure.username == user.username))
    token = new_token()
    session.add(AdminSession(token_hash=token_hash(token), user_id=user.id))
    return token


def admin_session_user(session, token: str | None) -> int | None:
    """The user id of a live organiser session token, or None (signed out, or never was)."""
    if not token:
        return None
    return session.scalar(
        select(AdminSession.user_id).where(AdminSession.token_hash == token_hash(token))
    )


def end_admin_session(session, token: str | None) -> None:
    if token:
        session.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash(token)))


def cookie_secret(store) -> str:
    """The cookie-signing secret stored in the database, created once (race-safe)."""
    with store.session() as s:
        row = s.get(WebSetting, "secret_key")
        if row is not None:
            return row.value
    try:
        with store.session() as s:
            s.add(WebSetting(key="secret_key", value=new_token(48)))
    except IntegrityError:
        pass  # another worker created it first: read theirs below
    with store.session() as s:
        return s.get(WebSetting, "secret_key").value


class RateLimiter:
    """Token bucket per key: ``rate_per_minute`` sustained, ``burst`` at once.

    Limits what one participant can send (votes, statements) so a script cannot flood an
    assembly. State is per process; with several workers the effective limit is per worker.
    """

    def __init__(self, rate_per_minute: float, burst: int, max_keys: int = 200_000):
        self.rate = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: object, cost: float = 1.0) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            ok = tokens >= cost
            if ok:
                tokens -= cost
            if len(self._buckets) >= self.max_keys and key not in self._buckets:
                self._buckets.clear()  # bounded memory; a reset only ever forgives
            self._buckets[key] = (tokens, now)
            return ok
