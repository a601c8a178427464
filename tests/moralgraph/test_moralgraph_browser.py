"""In a real headless chromium at phone size, against ``pluralign web``: a participant writes a
values card and judges upgrade stories; the organiser sees the moral graph."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from test_web_browser import (  # noqa: E402,F401  (fixtures)
    PHONE,
    _by_id,
    _gone,
    _text,
    _wait,
    browser,
    screenshot_on_failure,
    server,
)
from web_helpers import ADMIN_PASSWORD  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _seed(store, slug="values-test"):
    from pluralign.moralgraph import service as mg
    from pluralign.moralgraph.dialogue import card_from_form
    from pluralign.web import service

    with store.session() as s:
        form = service.parse_assembly_form("How should an assistant respond in distress?", "",
                                           False, "", "", "2")
        a = service.create_assembly(s, slug, form)
        service.set_state(a, "open")
        mg.add_context(s, a.id, "distress", "When the user is in distress")
        mg.add_case(s, a.id, "panic", "Panic at night", "I can't breathe and it's 3am",
                    ["distress"])
        for title in ("Quick Fixes", "Emotional Presence"):
            mg.submit_card(s, a.id, card_from_form(title, f"{title} matters.", "A\nB"),
                           context_key="distress")


def test_values_card_and_upgrades_on_a_phone(server, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    base, store = server
    _seed(store)
    d = browser
    with screenshot_on_failure(d, "moralgraph-flow", tmp_path):
        d.get(f"{base}/a/values-test")
        d.find_element(By.NAME, "consent").click()
        _by_id(d, "join").click()
        _wait(d, lambda d: d.current_url.endswith("/vote"))
        d.find_element(By.LINK_TEXT, "Values").click()
        _by_id(d, "case-panic").click()
        assert "3am" in _by_id(d, "case-prompt").text
        d.find_element(By.ID, "title").send_keys("Grounded Agency")
        d.find_element(By.ID, "description").send_keys("Helping them find their footing.")
        d.find_element(By.ID, "policies").send_keys("STRENGTHS they have\nPEOPLE around them")
        _by_id(d, "confirm-card").click()
        _by_id(d, "card-saved")
        assert "Grounded Agency" in d.page_source
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        d.find_element(By.LINK_TEXT, "Wisdom upgrades").click()
        answered = 0
        while not d.find_elements(By.ID, "no-stories"):
            story = _by_id(d, "story")
            to_title = _text(d, "to-title")
            button = "answer-upgrade" if to_title == "Grounded Agency" else "answer-not-sure"
            _by_id(d, button).click()
            _wait(d, _gone(story))  # the next page is loaded, not the old one read again
            answered += 1
            assert answered <= 3
        assert answered == 3  # three cards → three pairs
        # the organiser sees the graph and the winner
        d.get(f"{base}/admin/login")
        d.find_element(By.ID, "username").send_keys("admin")
        d.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
        _by_id(d, "sign-in").click()
        _wait(d, lambda d: "/admin/login" not in d.current_url)  # signed in before moving on
        d.get(f"{base}/admin/a/values-test/moralgraph")
        assert "3 upgrade votes" in _text(d, "graph-counts")
        _by_id(d, "graph-view")
