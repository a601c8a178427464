"""The web app's own text in several languages: catalogue completeness, the compiled .mo is up to
date, Accept-Language negotiation, the language picker (participants and anonymous pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from web_helpers import client, create_assembly, csrf_of, join, make_app, vote_current

from pluralign.web import i18n

REPO = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extracted() -> set:
    """Every message of the templates and the web code (page text, notices, and the errors
    marked with ``errors.N_``), extracted like ``pybabel extract`` with the repository's
    babel.cfg."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(REPO / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(REPO), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(lang: str):
    from babel.messages.pofile import read_po

    with open(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


@pytest.mark.parametrize("lang", sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT}))
def test_catalogue_is_complete_and_matches_the_templates(lang):
    extracted = _extracted()
    assert len(extracted) > 50  # the templates are really marked for translation
    errors = {  # raised by service code, shown on pages: extracted too (test_web_i18n_errors.py)
        "empty statement",
        "%(file)s, line %(line)s, column '%(column)s'",
        "a vote is 1 (agree), -1 (disagree) or 0 (pass), not %(value)s",
        "this invitation is not valid or was used already",
        "a card needs a description",
        "each row needs a 'prompt' (or 'question')",
        "too many requests: slow down a little and try again",
    }
    assert errors <= extracted, errors - extracted
    cat = _catalogue(lang)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}
    missing = extracted - ids
    assert not missing, f"run pybabel extract + update (docs/web.md): not in {lang}: {missing}"
    stale = ids - extracted
    assert not stale, f"messages no template uses any more (pybabel update drops them): {stale}"
    for m in cat:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings), f"untranslated in {lang}: {m.id!r}"
        assert "fuzzy" not in m.flags, f"fuzzy (needs review) in {lang}: {m.id!r}"
        ids_ = m.id if isinstance(m.id, tuple) else (m.id,)
        want = set(PLACEHOLDER.findall(ids_[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == want, f"placeholders differ: {m.id!r} -> {s!r}"


def _key(value):
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("lang", sorted(set(i18n.LANGUAGES) - {i18n.DEFAULT}))
def test_compiled_mo_is_up_to_date_with_the_po(lang):
    from babel.messages.mofile import read_mo

    with open(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    source = {
        _key(m.id): _key(m.string) for m in _catalogue(lang) if m.id and "fuzzy" not in m.flags
    }
    assert compiled == source, f"run: pybabel compile -d {i18n.LOCALE_DIR} -D messages"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("fr-FR, fr;q=0.9, de;q=0.5, en;q=0.4", "de"),  # French is not offered: next best
        ("en;q=0.5, de;q=0.7", "de"),  # order by quality, not position
        ("de;q=0, en", "en"),  # q=0: not acceptable
        ("DE-at", "de"),
        ("ja, *;q=0.1", "en"),
        ("de;q=abc, en;q=0.2", "en"),  # a malformed q counts as 0
    ],
)
def test_accept_language_negotiation(header, expected):
    assert i18n.negotiate(header) == expected


def test_language_names_are_offered_in_their_own_language():
    assert i18n.LANGUAGES["de"] == "Deutsch"
    assert i18n.normalise("de_CH") == "de" and i18n.normalise("xx") is None


def _participant(store):
    from pluralign.store.models import Participant

    with store.session() as s:
        return s.scalars(select(Participant)).all()


def test_first_visit_follows_accept_language_and_the_picker_switches(db_url):
    app, store = make_app(db_url)
    admin = client(app)
    create_assembly(admin)
    c = client(app)
    c.headers["Accept-Language"] = "de-DE,de;q=0.9,en;q=0.5"
    welcome = c.get("/a/ai-rules")
    assert '<html lang="de">' in welcome.text and "Bevor Sie teilnehmen" in welcome.text
    page = join(c)
    assert "Stimmen Sie zu?" in page.text and "Zustimmen" in page.text
    assert [p.language for p in _participant(store)] == ["de"]
    page = vote_current(c, page.text)
    assert "Sie haben über 1 Aussage abgestimmt." in page.text  # plural forms work

    # the picker: a plain form, stored on the participant, kept across requests
    r = c.post("/lang", data={"csrf": csrf_of(page.text), "lang": "en", "next": "/a/ai-rules/vote"})
    assert r.url.path == "/a/ai-rules/vote" and "Do you agree?" in r.text
    assert "You have voted on 1 statement." in r.text
    assert [p.language for p in _participant(store)] == ["en"]
    assert "Do you agree?" in c.get("/a/ai-rules/vote").text  # despite Accept-Language: de

    # a participant's stored language wins on participant pages, also in a new browser session
    r = c.post("/lang", data={"csrf": csrf_of(r.text), "lang": "de", "next": "/a/ai-rules/map"})
    assert r.url.path == "/a/ai-rules/map" and "Meinungskarte" in r.text
    store.dispose()


def test_anonymous_pages_keep_the_choice_in_the_session(db_url):
    app, store = make_app(db_url)
    c = client(app)
    home = c.get("/")
    assert "pluralign assemblies" in home.text and 'id="lang-select"' in home.text
    r = c.post("/lang", data={"csrf": csrf_of(home.text), "lang": "de", "next": "/"})
    assert "pluralign-Versammlungen" in r.text and "Organisatoren: anmelden" in r.text
    assert "Nicht gefunden" in c.get("/a/nope", headers={"accept": "text/html"}).text
    login_page = c.get("/admin/login").text  # organiser pages follow the same choice
    assert "Benutzername" in login_page and "Organisatoren: anmelden" in login_page
    store.dispose()


def test_picker_rejects_unknown_languages_and_foreign_redirects(db_url):
    app, store = make_app(db_url)
    c = client(app)
    token = csrf_of(c.get("/").text)
    assert c.post("/lang", data={"csrf": token, "lang": "xx"}).status_code == 400
    r = c.post(
        "/lang",
        data={"csrf": token, "lang": "de", "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert c.post("/lang", data={"lang": "de"}).status_code == 403  # CSRF like every form
    store.dispose()


def test_values_cards_carry_the_language_they_were_written_in(db_url):
    from pluralign.moralgraph.models import ValuesCardRow

    app, store = make_app(db_url)
    admin = client(app)
    token = create_assembly(admin)
    r = admin.post(
        "/admin/a/ai-rules/moralgraph/contexts",
        data={"csrf": token, "key": "distress", "description": "In Not"},
    )
    r = admin.post(
        "/admin/a/ai-rules/moralgraph/cases",
        data={
            "csrf": token,
            "key": "panic",
            "title": "Panik",
            "prompt": "Hilfe",
            "contexts": ["distress"],
        },
    )
    assert r.status_code == 200
    for lang in ("de", "en"):
        c = client(app)
        c.headers["Accept-Language"] = lang
        join(c)
        page = c.get("/a/ai-rules/values/case/1")
        assert ("Meine Karte bestätigen" in page.text) == (lang == "de")
        r = c.post(
            "/a/ai-rules/values/case/1/card",
            data={
                "csrf": csrf_of(page.text),
                "title": f"Ruhe {lang}",
                "description": "Ruhe zählt.",
                "policies": "GEFÜHLE, die jemand nennt",
                "context": "distress",
                "transcript": "",
            },
        )
        assert r.status_code == 200 and 'id="card-saved"' in r.text
        assert ("Ihre Wertekarte ist gespeichert" in r.text) == (lang == "de")
        assert f'lang="{lang}"' in r.text.split('id="my-card-', 1)[1]
    with store.session() as s:
        cards = s.scalars(select(ValuesCardRow).order_by(ValuesCardRow.id)).all()
        assert [(c.title, c.language) for c in cards] == [("Ruhe de", "de"), ("Ruhe en", "en")]
    store.dispose()
