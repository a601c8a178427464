"""A German-speaking participant in a real headless chromium: German pages, statements translated
by a scripted OpenAI-compatible model, votes stored on the original statements; then the picker
(a plain form) switches back to English."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_web_browser import PHONE, _by_id, _wait, browser, screenshot_on_failure  # noqa: F401
from web_helpers import ADMIN_PASSWORD, free_port, start_server, stop_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "llm"))
from conftest_llm import Script, ServerThread, scripted_app  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PREFIX = "DE: "


@pytest.fixture
def german_server(tmp_path, monkeypatch):
    """``pluralign web`` with $PLURALIGN_WEB_LLM_CONFIG pointing at a scripted translator."""
    from pluralign.store import open_store
    from pluralign.web import service
    from pluralign.web.security import create_user

    script = Script()
    script.default = lambda body: PREFIX + body["messages"][-1]["content"]
    with ServerThread(scripted_app(script)) as llm:
        config = tmp_path / "llm.yaml"
        config.write_text(
            f"llm:\n  base_url: {llm.base_url}\n  model: scripted\n"
            f"  cache_dir: {tmp_path / 'cache'}\n  max_retries: 0\n"
        )
        monkeypatch.setenv("PLURALIGN_WEB_LLM_CONFIG", str(config))
        url = f"sqlite:///{tmp_path / 'browser.db'}"
        store = open_store(url)
        with store.session() as s:
            create_user(s, "admin", ADMIN_PASSWORD, "admin")
            form = service.parse_assembly_form("KI-Regeln", "", False, "", "", "2")
            a = service.create_assembly(s, "ki-regeln", form)
            service.set_state(a, "open")
            service.add_seed_statements(s, a, [f"Statement number {i}" for i in range(3)])
        port = free_port()
        proc = start_server(url, port, log=tmp_path / "server.log")
        yield f"http://127.0.0.1:{port}", store, script
        stop_server(proc)
        store.dispose()


@pytest.fixture
def german_browser(browser):  # noqa: F811
    # chromium sends Accept-Language from its UI language; set it like a German user would
    browser.execute_cdp_cmd(
        "Network.setUserAgentOverride",
        {
            "userAgent": browser.execute_script("return navigator.userAgent"),
            "acceptLanguage": "de-DE,de",
        },
    )
    return browser


def test_german_participant_votes_through_translated_pages(german_server, german_browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    from sqlalchemy import select

    from pluralign.store.models import Participant, Statement, Vote

    base, store, script = german_server
    d = german_browser
    with screenshot_on_failure(d, "german-participant", tmp_path):
        d.get(f"{base}/a/ki-regeln")
        assert "Bevor Sie teilnehmen" in d.page_source
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
        d.find_element(By.NAME, "consent").click()
        _by_id(d, "join").click()
        _wait(d, lambda d: d.current_url.endswith("/vote"))
        assert "Stimmen Sie zu?" in d.page_source

        def shown():
            try:
                return d.find_element(By.ID, "statement-text").text
            except Exception:  # noqa: BLE001 - swapped by htmx meanwhile
                return None

        read = []
        for key in ("a", "d", "p"):
            text = _wait(d, lambda d: shown() if shown() not in (None, *read) else None)
            assert text.startswith(PREFIX), text
            assert "Ihre Stimme zählt für das Original" in _by_id(d, "translated-note").text
            read.append(text)
            d.find_element(By.TAG_NAME, "body").send_keys(key)  # htmx swaps the card
        assert "über alle bisherigen Aussagen" in _by_id(d, "all-done").text
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]

        # the picker is a plain form: back to English
        Select(d.find_element(By.ID, "lang-select")).select_by_value("en")
        _by_id(d, "lang-apply").click()
        _wait(d, lambda d: "Do you agree?" in d.page_source)
        assert d.current_url.endswith("/a/ki-regeln/vote")

    assert len(script.seen) == 3  # one translation per statement
    with store.session() as s:
        assert [p.language for p in s.scalars(select(Participant))] == ["en"]
        by_id = {st.id: st.text for st in s.scalars(select(Statement))}
        votes = s.scalars(select(Vote).order_by(Vote.id)).all()
        assert [v.value for v in votes] == [1, -1, 0]
        # every vote references an original statement, and that is what the reader saw translated
        assert [PREFIX + by_id[v.statement_id] for v in votes] == read
