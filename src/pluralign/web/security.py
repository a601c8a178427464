"""Passwords, CSRF tokens, the per-participant rate limit and the cookie secret.

- Passwords: argon2id (``argon2-cffi`` defaults, RFC 9106), never stored in clear.
- Sessions: Starlette's signed cookie (HMAC via itsdangerous), HttpOnly, SameSite=Lax, ``Secure``
  behind HTTPS. The signing secret lives in the database (``web_setting``) so every worker and
  every restart share it.
- CSRF: a random per-session token (synchroniser-token pattern, OWASP CSRF cheat sheet); every
  unsafe request must echo it in the ``csrf`` form field or the ``X-CSRF-Token`` header.
- Rate limit: a token bucket per participant (per worker process).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pluralign.errors import InputError
from pluralign.web.models import ROLES, AdminUser, WebSetting

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
