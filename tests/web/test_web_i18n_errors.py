"""Errors in the reader's language: messages raised by the service code and shown by the web app
are marked with ``pluralign.errors.N_`` and translated at display time; English pages and the CLI
keep the English text naming the file, line and field."""

from __future__ import annotations

import ast
import html
import pickle
from pathlib import Path

import pytest
from web_helpers import client, create_assembly, csrf_of, field, join, login, make_app

from pluralign.errors import N_, InputError, Msg, NotFoundError, at

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "pluralign"

# Modules whose errors reach a web page (participants or organisers). The CLI-only modules
# (web/cli.py, web/security.py's create_user, publiceval/cli.py) stay English by design.
WEB_ERROR_MODULES = sorted(
    {
        *(SRC / "web").glob("*.py"),
        *(SRC / "web" / "routers").glob("*.py"),
        SRC / "publiceval" / "service.py",
        SRC / "publiceval" / "web.py",
        SRC / "publiceval" / "results.py",
        SRC / "moralgraph" / "service.py",
        SRC / "moralgraphweb" / "pages.py",
        SRC / "moralgraph" / "dialogue.py",
        SRC / "store" / "queries.py",
    }
    - {SRC / "web" / "cli.py", SRC / "web" / "security.py"}
)
ERRORS = {
    "PluralignError",
    "InputError",
    "NotFoundError",
    "InfeasibleError",
    "StoreError",
    "HTTPException",
}  # not ProviderError: a failing translation model is logged and counted; pages show a note

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


# ------------------------------------------------------------------ the mechanism


def test_a_marked_message_is_english_text_that_remembers_its_id():
    msg = N_("statement longer than %(n)s characters", n=1000)
    assert msg == "statement longer than 1000 characters" and isinstance(msg, str)
    assert msg.msgid == "statement longer than %(n)s characters" and msg.params == {"n": 1000}
    german = {"statement longer than %(n)s characters": "Aussage länger als %(n)s Zeichen"}
    assert msg.translate(german.get) == "Aussage länger als 1000 Zeichen"
    assert msg.translate(None) == "statement longer than 1000 characters"
    broken = {msg.msgid: "Aussage länger als %(m)s Zeichen"}  # a wrong placeholder: English
    assert msg.translate(broken.get) == "statement longer than 1000 characters"
    again = pickle.loads(pickle.dumps(msg))  # crosses process boundaries intact
    assert again == msg and again.msgid == msg.msgid and again.params == msg.params
    assert N_("no clauses") == "no clauses" and N_("100%") == "100%"  # no params: no formatting


def test_errors_render_in_english_by_default_and_translate_every_part():
    exc = InputError(
        N_("cannot change the %(what)s: people have rated answers already", what=N_("models")),
        where=at("seed.csv", 3, "text"),
        hint=N_("reload the page"),
    )
    english = (
        "seed.csv, line 3, column 'text': cannot change the models: people have rated answers"
        " already\n  hint: reload the page"
    )
    assert str(exc) == exc.render() == english
    table = {
        "%(file)s, line %(line)s, column '%(column)s'": "%(file)s, Z. %(line)s, Sp. %(column)s",
        "cannot change the %(what)s: people have rated answers already": "%(what)s: gesperrt",
        "models": "Modelle",
        "reload the page": "neu laden",
        "hint": "Hinweis",
    }
    assert exc.render(lambda m: table.get(m, m)) == (
        "seed.csv, Z. 3, Sp. text: Modelle: gesperrt\n  Hinweis: neu laden"
    )
    assert exc.render(lambda m: table.get(m, m), with_hint=False).endswith("Modelle: gesperrt")
    plain = NotFoundError("no such thing", where="x.csv", hint="ask")  # unmarked: as it is
    assert plain.render(lambda m: table.get(m, m)) == "x.csv: no such thing\n  Hinweis: ask"


def test_locations_keep_their_english_form():
    assert at("f.csv") == "f.csv" and at("f.csv", 12) == "f.csv, line 12"
    assert at("f.csv", 12, "vote") == "f.csv, line 12, column 'vote'"
    assert at("f.csv", column="vote") == "f.csv, column 'vote'"
    assert isinstance(at("f.csv", 2), Msg) and not isinstance(at("f.csv"), Msg)


# ------------------------------------------------------------------ every message is marked


def _literal(node) -> bool:
    """A message written as text in place (not marked with N_)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.IfExp):
        return _literal(node.body) or _literal(node.orelse)
    return False


def _unmarked(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in ERRORS:
            continue
        args = list(node.args)
        if name == "HTTPException":
            args = args[1:]  # (status, detail)
        args += [k.value for k in node.keywords if k.arg in ("detail", "message", "hint")]
        found += [f"{path.relative_to(REPO)}:{a.lineno}" for a in args if _literal(a)]
    return found


def test_every_user_facing_error_in_the_web_paths_is_marked_for_translation():
    unmarked = [hit for path in WEB_ERROR_MODULES for hit in _unmarked(path)]
    assert not unmarked, f"mark these messages and hints with errors.N_(...): {unmarked}"


def test_the_checker_finds_unmarked_messages(tmp_path):
    bad = REPO / "tests" / "web" / "_unmarked_probe.py"  # must sit under REPO for the report
    bad.write_text(
        "raise InputError(f'no {x}', hint='reload')\n"
        "raise HTTPException(404, 'gone')\n"
        "raise InputError(N_('fine'), where='field', hint=N_('also fine'))\n"
    )
    try:
        assert len(_unmarked(bad)) == 3  # the f-string, its hint, the HTTP detail
    finally:
        bad.unlink()


def test_babel_cfg_extracts_every_module_with_user_facing_errors():
    from babel.messages.frontend import parse_mapping_cfg
    from babel.util import pathmatch

    with open(REPO / "babel.cfg") as f:
        method_map, _options = parse_mapping_cfg(f)
    python = [pattern for pattern, method in method_map if method == "python"]
    for path in WEB_ERROR_MODULES + [SRC / "errors.py"]:
        rel = path.relative_to(REPO).as_posix()
        assert any(pathmatch(p, rel) for p in python), f"add {rel} to babel.cfg"


# ------------------------------------------------------------------ what people see


def _vote_page(c):
    page = join(c)
    assert page.status_code == 200
    return page


def test_an_invalid_vote_is_explained_in_the_participants_language(db_url):
    app, store = make_app(db_url)
    create_assembly(client(app))
    for headers, expected in (
        (
            GERMAN,
            "value: eine Stimme ist 1 (Zustimmung), -1 (Ablehnung) oder 0 (Enthaltung), nicht 5",
        ),
        ({"Accept-Language": "en"}, "value: a vote is 1 (agree), -1 (disagree) or 0 (pass), not 5"),
    ):
        c = client(app)
        c.headers.update(headers)
        page = _vote_page(c)
        r = c.post(
            "/a/ai-rules/vote",
            data={
                "csrf": csrf_of(page.text),
                "statement": field(page.text, "statement"),
                "value": "5",
                "request_id": "r1",
            },
        )
        assert r.status_code == 400 and expected in r.text, r.text
        r = c.post(  # the JSON answer is in the same language
            "/a/ai-rules/vote",
            data={"csrf": csrf_of(page.text), "statement": "x", "value": "1", "request_id": "r2"},
            headers={"accept": "application/json"},
        )
        assert r.status_code == 400
        german = headers is GERMAN
        assert r.json()["error"].startswith("Abstimmungsformular: " if german else "vote form: ")
        assert ("braucht die ganzen Zahlen" in r.json()["error"]) == german
    store.dispose()


def test_an_unknown_or_used_invitation_is_refused_in_german_and_in_english(db_url):
    import re

    app, store = make_app(db_url)
    admin = client(app)
    token = create_assembly(admin, invite_only=True)
    r = admin.post("/admin/a/ai-rules/invites", data={"csrf": token, "count": "1"})
    (used,) = re.findall(r"/a/ai-rules\?invite=([\w-]+)", r.text)
    assert join(client(app), invite=used).url.path == "/a/ai-rules/vote"
    for headers, message, hint in (
        (
            GERMAN,
            "diese Einladung ist ungültig oder wurde bereits verwendet",
            "jede Einladung gilt für eine Person; fragen Sie die Organisatoren",
        ),
        (
            {},
            "this invitation is not valid or was used already",
            "each invitation admits one person; ask the organisers",
        ),
    ):
        c = client(app)
        c.headers.update(headers)
        for invite in ("not-a-real-token", used):
            r = join(c, invite=invite)
            assert r.status_code == 400, r.text
            assert message in r.text and hint in r.text
        r = c.get("/a/nope", headers={"accept": "application/json"})
        assert r.status_code == 404
        assert r.json()["error"] == (
            "keine Versammlung „nope“" if headers else "no assembly 'nope'"
        )
    store.dispose()


def test_a_bad_seed_row_names_its_line_in_the_organisers_language(db_url):
    app, store = make_app(db_url)
    admin = client(app)
    token = create_assembly(admin)
    body = b"text\nAI should be fair\n\n   \n"  # line 4 holds only spaces
    for lang, expected in (
        ("de", "seed.csv, Zeile 4, Spalte „text“: leere Aussage"),
        ("en", "seed.csv, line 4, column 'text': empty statement"),
    ):
        r = admin.post("/lang", data={"csrf": token, "lang": lang, "next": "/admin/a/ai-rules"})
        assert r.status_code == 200
        r = admin.post(
            "/admin/a/ai-rules/seed",
            data={"csrf": token},
            files={"file": ("seed.csv", body, "text/csv")},
        )
        assert r.status_code == 400 and expected in html.unescape(r.text), r.text
        r = admin.post(
            "/admin/a/ai-rules/seed",
            data={"csrf": token},
            files={"file": ("seed.csv", b"statement\nhello\n", "text/csv")},
        )
        hint = "Hinweis: erste Zeile: text" if lang == "de" else "hint: first line: text"
        assert r.status_code == 400 and hint in r.text
    store.dispose()


def test_organiser_forms_and_sign_in_speak_german(db_url):
    app, store = make_app(db_url)
    c = client(app)
    c.headers.update(GERMAN)
    page = c.get("/admin/login")
    r = c.post(
        "/admin/login",
        data={"username": "admin", "password": "wrong", "csrf": csrf_of(page.text), "next": "/"},
    )
    assert r.status_code == 401 and "falscher Benutzername oder falsches Passwort" in r.text
    token = login(c)
    r = c.post(
        "/admin/new",
        data={"csrf": token, "slug": "x", "topic": "T", "min_votes": "7", "description": ""},
    )
    assert r.status_code == 400
    assert "slug: „x“ ist kein gültiger Linkname" in r.text
    assert "3–80 Zeichen: Kleinbuchstaben, Ziffern und „-“" in r.text
    r = c.post("/admin/new", data={"slug": "abc", "topic": "T"})  # no CSRF token
    assert r.status_code == 403 and "fehlendes oder falsches CSRF-Token" in r.text
    store.dispose()


def test_values_card_errors_name_the_field_in_german(db_url):
    app, store = make_app(db_url)
    admin = client(app)
    token = create_assembly(admin)
    admin.headers.update(GERMAN)
    r = admin.post(
        "/admin/a/ai-rules/moralgraph/cases",
        data={"csrf": token, "key": "", "title": "", "prompt": "Hilfe"},
    )
    assert r.status_code == 400 and "key: ein Fall braucht einen Kurznamen" in r.text
    admin.post(
        "/admin/a/ai-rules/moralgraph/contexts",
        data={"csrf": token, "key": "distress", "description": "In Not"},
    )
    admin.post(
        "/admin/a/ai-rules/moralgraph/cases",
        data={"csrf": token, "key": "p", "title": "P", "prompt": "Hilfe", "contexts": ["distress"]},
    )
    c = client(app)
    c.headers.update(GERMAN)
    join(c)
    page = c.get("/a/ai-rules/values/case/1")
    r = c.post(
        "/a/ai-rules/values/case/1/card",
        data={"csrf": csrf_of(page.text), "title": "Ruhe", "description": "", "policies": "x"},
    )
    assert r.status_code == 400 and "Beschreibung: eine Karte braucht eine Beschreibung" in r.text
    store.dispose()


# ------------------------------------------------------------------ the CLI stays English


def test_the_cli_prints_english_with_file_and_line_whatever_the_locale(
    tmp_path, capsys, monkeypatch
):
    from pluralign.cli import main
    from pluralign.store import open_store
    from pluralign.web import service

    for name in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.setenv(name, "de_DE.UTF-8")
    store = open_store(f"sqlite:///{tmp_path / 'e.db'}")
    with store.session() as s:
        form = service.parse_assembly_form("Topic", "", False, "", "", "2")
        service.create_assembly(s, "camps", form)
    (tmp_path / "constitution.yaml").write_text(
        "clauses:\n  - id: honest\n    text: The assistant is honest.\n"
    )
    (tmp_path / "bad.csv").write_text("prompt,id\nfine,x\n,y\n")

    def fails(*args):
        with pytest.raises(SystemExit) as done:
            main(list(args))
        assert done.value.code == 1
        return capsys.readouterr().err

    db = store.url
    url = "http://127.0.0.1:9/v1"
    files = ["--constitution", str(tmp_path / "constitution.yaml")]
    files += ["--prompts", str(tmp_path / "bad.csv")]
    err = fails("eval-public", "setup", "--db", db, "--slug", "camps", "--a-url", url,
                "--b-url", url, *files)  # fmt: skip
    flat = " ".join(err.split())
    assert "bad.csv, line 3: each row needs a 'prompt' (or 'question')" in flat, err
    assert "Zeile" not in err
    err = fails("eval-public", "generate", "--db", db, "--slug", "nope")
    flat = " ".join(err.split())
    assert "no assembly 'nope'" in flat and "known assemblies: camps" in flat, err
    store.dispose()
