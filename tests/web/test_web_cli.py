"""``pluralign admin create-user`` and ``pluralign web`` as a user runs them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from web_helpers import free_port, start_server, stop_server

from conftest import run_cli


def _cli(*args, monkeypatch, capsys, password: str) -> tuple[int, str]:
    """Run the CLI in-process (as ``main`` does for a user); returns exit status and stderr."""
    from pluralign.cli import main

    monkeypatch.setenv("PLURALIGN_ADMIN_PASSWORD", password)
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_create_user_then_duplicate_and_bad_role(tmp_path, monkeypatch, capsys):
    db = tmp_path / "w.db"
    # once as a user runs it (subprocess), the error paths in-process
    r = run_cli(
        "admin",
        "create-user",
        "ada",
        "--role",
        "moderator",
        "--db",
        db,
        env={"PLURALIGN_ADMIN_PASSWORD": "a long enough password"},
    )
    assert r.returncode == 0, r.stderr
    assert "created moderator 'ada'" in r.stdout
    ok = "a long enough password"
    code, err = _cli(
        "admin",
        "create-user",
        "ada",
        "--db",
        db,
        monkeypatch=monkeypatch,
        capsys=capsys,
        password=ok,
    )
    assert code == 1 and "exists already" in err and "Traceback" not in err
    code, err = _cli(
        "admin",
        "create-user",
        "bob",
        "--role",
        "owner",
        "--db",
        db,
        monkeypatch=monkeypatch,
        capsys=capsys,
        password=ok,
    )
    assert code == 1 and "unknown role 'owner'" in err
    code, err = _cli(
        "admin",
        "create-user",
        "eve",
        "--db",
        db,
        monkeypatch=monkeypatch,
        capsys=capsys,
        password="x",
    )
    assert code == 1 and "at least 10 characters" in err

    from pluralign.store import open_store
    from pluralign.web.models import AdminUser
    from pluralign.web.security import verify_password

    store = open_store(str(db))
    with store.session() as s:
        users = s.scalars(select(AdminUser)).all()
    store.dispose()
    assert [(u.username, u.role) for u in users] == [("ada", "moderator")]
    assert users[0].password_hash.startswith("$argon2id$")
    assert verify_password(users[0].password_hash, "a long enough password")
    assert not verify_password(users[0].password_hash, "wrong")


@pytest.mark.slow
def test_web_command_serves_and_reports_bad_db(tmp_path):
    port = free_port()
    proc = start_server(f"sqlite:///{tmp_path / 's.db'}", port, log=tmp_path / "log")
    try:
        page = httpx.get(f"http://127.0.0.1:{port}/admin/login")
        assert page.status_code == 200 and "Organisers: sign in" in page.text
        assert httpx.get(f"http://127.0.0.1:{port}/static/htmx.min.js").text.startswith(
            "/*! htmx.org 2."
        )
    finally:
        stop_server(proc)
    r = run_cli("web", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port", str(port))
    assert r.returncode == 1 and "cannot open the database" in r.stderr
