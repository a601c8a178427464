"""Helpers for the web tests: an app on a fresh store, signed-in clients, a real server."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _cheap_hasher():
    # Tests only: argon2id with tiny cost so each sign-in takes milliseconds, not 0.4 s.
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


import pluralign.web.security as _security  # noqa: E402

_security._hasher = _cheap_hasher
ADMIN_PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'(?:name="csrf" value=|"X-CSRF-Token": )"([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def field(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else None


def make_app(db_url: str, **settings):
    from pluralign.store import open_store
    from pluralign.web.app import WebSettings, create_app
    from pluralign.web.security import create_user

    store = open_store(db_url)
    with store.session() as s:
        create_user(s, "admin", ADMIN_PASSWORD, "admin")
        create_user(s, "mod", ADMIN_PASSWORD, "moderator")
    return create_app(store, WebSettings(**settings)), store


def client(app):
    from fastapi.testclient import TestClient

    return TestClient(app, follow_redirects=True)


def login(c, username: str = "admin") -> str:
    page = c.get("/admin/login")
    r = c.post(
        "/admin/login",
        data={
            "username": username,
            "password": ADMIN_PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "/admin",
        },
    )
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def create_assembly(
    c,
    slug: str = "ai-rules",
    *,
    seeds=(
        "AI should be honest",
        "AI should be kind",
        "AI should refuse to help with harm",
        "AI should explain its reasoning",
    ),
    questions: str = "",
    invite_only: bool = False,
    min_votes: int = 2,
    open_it: bool = True,
) -> str:
    token = login(c)
    data = {
        "csrf": token,
        "slug": slug,
        "topic": f"Topic {slug}",
        "questions": questions,
        "min_votes": str(min_votes),
        "description": "desc",
    }
    if invite_only:
        data["invite_only"] = "yes"
    r = c.post("/admin/new", data=data)
    assert r.status_code == 200 and r.url.path == f"/admin/a/{slug}", r.text
    if seeds:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["text"])
        writer.writerows([s] for s in seeds)
        body = buf.getvalue().encode()
        r = c.post(
            f"/admin/a/{slug}/seed",
            data={"csrf": token},
            files={"file": ("seed.csv", body, "text/csv")},
        )
        assert r.status_code == 200, r.text
    if open_it:
        r = c.post(f"/admin/a/{slug}/state", data={"csrf": token, "state": "open"})
        assert r.status_code == 200
    return token


def join(c, slug: str = "ai-rules", invite: str = "", answers: dict | None = None):
    """Join as a new participant; returns the response of the vote page."""
    page = c.get(f"/a/{slug}")
    r = c.post(
        f"/a/{slug}/join", data={"csrf": csrf_of(page.text), "consent": "yes", "invite": invite}
    )
    if r.url.path.endswith("/about-you"):
        r = c.post(f"/a/{slug}/about-you", data={"csrf": csrf_of(r.text), **(answers or {})})
    return r


def vote_current(c, html: str, slug: str = "ai-rules", value: int = 1, **headers):
    statement = field(html, "statement")
    assert statement is not None, "no statement on the page"
    return c.post(
        f"/a/{slug}/vote",
        headers=headers,
        data={
            "csrf": csrf_of(html),
            "statement": statement,
            "value": str(value),
            "request_id": field(html, "request_id"),
        },
    )


# ------------------------------------------------------------------ a real server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, port: int, *extra: str, log: Path | None = None) -> subprocess.Popen:
    """``python -m pluralign web`` on loopback; waits for /healthz (max 30 s)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (lives with the server)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pluralign",
            "web",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra,
        ],
        env=env,
        stdout=out,
        stderr=out,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}"
                + (f"; log: {log.read_text()[-2000:]}" if log else "")
            )
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start within 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
