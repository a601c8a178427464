"""Statements in the participant's language through a (scripted, OpenAI-compatible) language
model: translated once per (statement, language), cached by the provider, votes on the original.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from web_helpers import client, create_assembly, csrf_of, join, login, make_app, vote_current

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
from conftest_llm import Script, ServerThread, scripted_app  # noqa: E402

from pluralign.store.models import Statement, Vote  # noqa: E402
from pluralign.web import translate as tr  # noqa: E402
from pluralign.web.models import StatementTranslation  # noqa: E402

PREFIX = "DE: "


def fake_german(body: dict) -> str:
    """The scripted translator: marks the text and checks the prompt asks for German."""
    system = body["messages"][0]["content"]
    assert "from English into German" in system, system
    return f"“{PREFIX}{body['messages'][-1]['content']}”"  # quotes are stripped by clean_reply


@pytest.fixture
def translator_server():
    script = Script()
    script.default = fake_german
    with ServerThread(scripted_app(script)) as srv:
        yield script, srv.base_url


def _config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "llm.yaml"
    path.write_text(
        f"llm:\n  base_url: {base_url}\n  model: scripted\n  cache_dir: {tmp_path / 'cache'}\n"
        "  max_retries: 0\n"
    )
    return path


def _requests(script) -> list[str]:
    return [b["messages"][-1]["content"] for b in script.seen]


def _german_participant(app):
    c = client(app)
    c.headers["Accept-Language"] = "de"
    return c, join(c)


def test_participant_votes_on_the_original_while_reading_the_translation(
    db_url, tmp_path, monkeypatch, translator_server
):
    script, base_url = translator_server
    monkeypatch.setenv("PLURALIGN_WEB_LLM_CONFIG", str(_config(tmp_path, base_url)))
    app, store = make_app(db_url)
    create_assembly(client(app))
    c, page = _german_participant(app)
    seen = []
    for _ in range(4):
        shown = page.text.split('id="statement-text"', 1)[1].split(">", 1)[1].split("<", 1)[0]
        assert shown.startswith(PREFIX), page.text
        assert 'id="translated-note"' in page.text and 'lang="de"' in page.text
        number = int(page.text.split('name="statement" value="', 1)[1].split('"', 1)[0])
        seen.append((number, shown))
        page = vote_current(c, page.text)
    assert 'id="all-done"' in page.text
    assert len(script.seen) == 4  # one request per statement

    with store.session() as s:
        originals = {st.number: st for st in s.scalars(select(Statement))}
        votes = s.scalars(select(Vote).order_by(Vote.id)).all()
        assert len(votes) == 4
        for (number, shown), vote in zip(seen, votes, strict=True):
            st = originals[number]
            assert vote.statement_id == st.id  # the vote references the ORIGINAL statement
            assert st.language == "en" and not st.text.startswith(PREFIX)
            assert shown == PREFIX + st.text  # ... while the participant read the translation
        rows = s.scalars(select(StatementTranslation)).all()
        assert sorted(r.statement_id for r in rows) == sorted(o.id for o in originals.values())
        assert {r.source for r in rows} == {"llm"} and {r.language for r in rows} == {"de"}

    # a second German participant reads the stored translations: no new request
    c2, page2 = _german_participant(app)
    assert PREFIX in page2.text and len(script.seen) == 4
    # an English participant reads the original and costs nothing either
    c3 = client(app)
    page3 = join(c3)
    assert PREFIX not in page3.text and 'id="translated-note"' not in page3.text
    assert len(script.seen) == 4
    store.dispose()


def test_provider_cache_answers_a_repeat_without_a_request(db_url, tmp_path, translator_server):
    """Even when the stored translation is gone, the same request is answered from the
    provider's on-disk cache (e.g. a second database, or a reset)."""
    from pluralign.llm.config import provider_settings_from_yaml
    from pluralign.llm.provider import open_provider

    script, base_url = translator_server
    config = provider_settings_from_yaml(_config(tmp_path, base_url))
    app, store = make_app(db_url)
    create_assembly(client(app))
    with store.session() as s:
        st = s.scalar(select(Statement).where(Statement.number == 0))
        first = tr.translate_statement(s, st, "de", tr.provider_translator(open_provider(config)))
        assert first.text == PREFIX + st.text and first.model == "scripted"
        again = tr.translate_statement(s, st, "de", tr.provider_translator(open_provider(config)))
        assert again.id == first.id and len(script.seen) == 1  # stored: no request
        s.execute(delete(StatementTranslation))
        provider = open_provider(config)  # a new provider, same cache folder
        third = tr.translate_statement(s, st, "de", tr.provider_translator(provider))
        assert third.text == first.text
        assert len(script.seen) == 1 and provider.usage.cache_hits == 1
        assert tr.translate_statement(s, st, "en", tr.provider_translator(provider)) is None
    store.dispose()


def test_without_a_model_the_original_is_shown_with_a_note(db_url, monkeypatch):
    monkeypatch.delenv("PLURALIGN_WEB_LLM_CONFIG", raising=False)
    app, store = make_app(db_url)
    create_assembly(client(app))
    c, page = _german_participant(app)
    assert "Stimmen Sie zu?" in page.text  # the page is German ...
    assert 'id="untranslated-note"' in page.text and "Originalsprache" in page.text
    assert "AI should" in page.text and 'lang="en"' in page.text  # ... the statement is not
    r = vote_current(c, page.text)
    assert r.status_code == 200
    with store.session() as s:
        assert s.scalar(select(StatementTranslation)) is None
        assert len(s.scalars(select(Vote)).all()) == 1
    store.dispose()


def test_a_failing_model_never_blocks_voting(db_url, tmp_path, monkeypatch, translator_server):
    script, base_url = translator_server
    script.fail_next, script.fail_status = 100, 500
    monkeypatch.setenv("PLURALIGN_WEB_LLM_CONFIG", str(_config(tmp_path, base_url)))
    app, store = make_app(db_url)
    create_assembly(client(app))
    c, page = _german_participant(app)
    assert 'id="untranslated-note"' in page.text and "AI should" in page.text
    page = vote_current(c, page.text)
    assert page.status_code == 200 and 'id="untranslated-note"' in page.text
    assert len(script.seen) == 1  # after a failure the model is left alone for a minute
    with store.session() as s:
        assert s.scalar(select(StatementTranslation)) is None
    store.dispose()


def test_admin_translates_all_and_corrects_one(db_url, tmp_path, translator_server):
    script, base_url = translator_server
    from pluralign.llm.config import provider_settings_from_yaml
    from pluralign.llm.provider import open_provider

    app, store = make_app(db_url)
    admin = client(app)
    create_assembly(admin)
    page = admin.get("/admin/a/ai-rules/translations?lang=de")
    assert 'id="no-translator"' in page.text and 'id="translate-all"' not in page.text
    r = admin.post(
        "/admin/a/ai-rules/translations/all", data={"csrf": csrf_of(page.text), "lang": "de"}
    )
    assert r.status_code == 400  # no model configured: said so

    app.state.translator = tr.provider_translator(
        open_provider(provider_settings_from_yaml(_config(tmp_path, base_url)))
    )
    page = admin.get("/admin/a/ai-rules/translations?lang=de")
    r = admin.post(
        "/admin/a/ai-rules/translations/all", data={"csrf": csrf_of(page.text), "lang": "de"}
    )
    assert "4 translated, 0 kept, 0 already in that language, 0 failed." in r.text
    assert len(script.seen) == 4 and r.text.count(PREFIX) == 4
    r = admin.post(
        "/admin/a/ai-rules/translations/1",
        data={"csrf": csrf_of(r.text), "lang": "de", "text": "KI soll freundlich sein"},
    )
    assert "KI soll freundlich sein" in r.text and "edited by an organiser" in r.text
    r = admin.post(
        "/admin/a/ai-rules/translations/all", data={"csrf": csrf_of(r.text), "lang": "de"}
    )
    assert "0 translated, 4 kept" in r.text and len(script.seen) == 4  # the edit survives
    bad = admin.post(
        "/admin/a/ai-rules/translations/1", data={"csrf": csrf_of(r.text), "lang": "de"}
    )
    assert bad.status_code == 400 and "cannot be empty" in bad.text
    assert admin.get("/admin/a/ai-rules/translations?lang=../x").status_code == 400

    # the German participant sees the organiser's wording for statement 1
    c = client(app)
    c.headers["Accept-Language"] = "de"
    page = join(c)
    texts = set()
    while 'id="all-done"' not in page.text:
        texts.add(page.text.split('id="statement-text"', 1)[1].split(">", 1)[1].split("<")[0])
        page = vote_current(c, page.text)
    assert "KI soll freundlich sein" in texts and len(script.seen) == 4
    store.dispose()


def test_admin_translation_page_needs_an_admin(db_url):
    app, store = make_app(db_url)
    admin = client(app)
    create_assembly(admin)
    mod = client(app)
    login(mod, "mod")
    assert mod.get("/admin/a/ai-rules/translations").status_code == 403
    store.dispose()


def test_clean_reply_and_request_are_deterministic():
    assert tr.clean_reply('  "Hallo"  ') == "Hallo"
    assert tr.clean_reply("„Hallo“") == "Hallo" and tr.clean_reply('"a" und "b"') == '"a" und "b"'
    a = tr.translation_request("AI should be kind", "en", "de")
    b = tr.translation_request("AI should be kind", "en", "de")
    assert a.key("m") == b.key("m") and a.temperature == 0.0
    assert a.key("m") != tr.translation_request("AI should be kind", "en", "fr").key("m")


def test_statements_carry_the_language_they_were_written_in(db_url, tmp_path):
    """German seeds cost German readers nothing; English readers get them translated into
    English; a proposal takes its author's language."""
    script = Script()
    script.default = lambda body: "EN: " + body["messages"][-1]["content"]
    app, store = make_app(db_url)
    admin = client(app)
    token = create_assembly(admin, seeds=())
    r = admin.post(
        "/admin/a/ai-rules/seed",
        data={"csrf": token, "language": "DE"},
        files={"file": ("seed.csv", b"text\nKI soll ehrlich sein\n", "text/csv")},
    )
    assert r.status_code == 200 and 'id="seed-language"' in r.text
    bad = admin.post(
        "/admin/a/ai-rules/seed",
        data={"csrf": token, "language": "de/../x"},
        files={"file": ("seed.csv", b"text\nx\n", "text/csv")},
    )
    assert bad.status_code == 400 and "not a language code" in bad.text
    with ServerThread(scripted_app(script)) as srv:
        from pluralign.llm.config import provider_settings_from_yaml
        from pluralign.llm.provider import open_provider

        config = provider_settings_from_yaml(_config(tmp_path, srv.base_url))
        app.state.translator = tr.provider_translator(open_provider(config))
        de, page = _german_participant(app)
        assert "KI soll ehrlich sein" in page.text and 'id="translated-note"' not in page.text
        assert script.seen == []
        en = client(app)
        en.headers["Accept-Language"] = "en-GB"
        page = join(en)
        assert "EN: KI soll ehrlich sein" in page.text
        assert "from German into English" in script.seen[0]["messages"][0]["content"]
    propose = de.get("/a/ai-rules/propose")
    de.post("/a/ai-rules/propose", data={"csrf": csrf_of(propose.text), "text": "Mehr Ruhe"})
    with store.session() as s:
        langs = {st.text: st.language for st in s.scalars(select(Statement))}
    assert langs == {"KI soll ehrlich sein": "de", "Mehr Ruhe": "de"}
    store.dispose()
