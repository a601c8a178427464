"""Accessibility in a real headless chromium against ``pluralign web``: axe-core on every
participant and organiser page (no serious or critical violation), no horizontal scrolling at
phone width, and voting with the keyboard alone.

axe-core is the npm package pinned in tests/web/axe/package.json; ``scripts/test.sh`` installs it
there and sets ``$PLURALIGN_AXE`` to its ``axe.min.js``. It is injected into each page through the
WebDriver (not a <script> tag), so the app's Content-Security-Policy stays as it is.
Set ``$PLURALIGN_SCREENSHOTS`` to a folder to save every page at 390 px and 1280 px wide.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_web_browser import PHONE, _by_id, _wait, browser, screenshot_on_failure, server
from web_helpers import ADMIN_PASSWORD, REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser", "server"]  # fixtures shared with test_web_browser.py
AXE = Path(os.environ.get("PLURALIGN_AXE", REPO / "tests/web/axe/node_modules/axe-core/axe.min.js"))
SLUG = "a11y"
LONG_WORD = "https://example.org/a-very-long-address-that-a-participant-pasted-into-a-statement"


def _need_axe() -> str:
    if not AXE.is_file():
        reason = f"axe-core not found at {AXE} (scripts/test.sh installs it with npm)"
        if os.environ.get("PLURALIGN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " but PLURALIGN_REQUIRE_BROWSER=1")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def _seed(store):
    """An open assembly with statements, a question, two camps of voters, a proposal waiting
    for moderation, a moral graph with cards and judgments, and an open public evaluation."""
    from pluralign.moralgraph import service as mg
    from pluralign.moralgraph.dialogue import card_from_form
    from pluralign.publiceval import service as svc
    from pluralign.publiceval.models import PublicEvalPrompt
    from pluralign.web import service

    with store.session() as s:
        form = service.parse_assembly_form(
            "How should AI assistants answer medical questions?",
            "An assembly to check the pages.",
            False,
            "",
            "age | Your age group | 18-34; 35+",
            "3",
        )
        a = service.create_assembly(s, SLUG, form)
        service.set_state(a, "open")
        texts = [f"Statement number {i} about medical advice" for i in range(5)]
        service.add_seed_statements(s, a, [*texts, f"See {LONG_WORD}"])
        people = []
        for i in range(8):
            p = service.join(s, a, None)
            people.append(p)
            for st in range(6):
                value = 1 if (st < 3) == (i < 4) else -1
                service.record_vote(s, a, p, st, value, f"seed-{i}-{st}")
        pending = service.propose(s, a, people[0], f"A proposal with {LONG_WORD} in it")
        decided = service.propose(s, a, people[1], "Doctors should review what AI says")
        service.moderate(s, a, decided.number, "accepted")
        assert pending.moderation == "pending"
        mg.add_context(s, a.id, "distress", "When the user is in distress")
        mg.add_case(
            s, a.id, "panic", "Panic at night", "I can't breathe and it's 3am", ["distress"]
        )
        cards = [
            mg.submit_card(
                s,
                a.id,
                card_from_form(t, f"{t} matters.", "FEELINGS\nMOMENTS"),
                participant_id=people[k].id,
                context_key="distress",
            )
            for k, t in enumerate(("Emotional presence", "Grounded agency", "Quick fixes"))
        ]
        for p in people[:4]:
            mg.answer_story(s, a.id, p.id, cards[2].id, cards[0].id, cards[0].context_id, "upgrade")
        ev = svc.get_eval(s, a, create=True)
        svc.attach_models(
            s,
            ev,
            svc.model_spec("http://127.0.0.1:9/v1", "base"),
            svc.model_spec("http://127.0.0.1:9/v1", "tuned"),
        )
        svc.set_clauses(
            s,
            ev,
            svc.clauses_from_yaml(
                "clauses:\n  - id: c1\n    text: Say when you are unsure.\n", "c.yaml"
            ),
            "c.yaml",
        )
        svc.set_prompts(
            s, ev, [{"key": "p1", "text": "Is this rash serious?", "clause_key": None}], "test"
        )
        for row in s.query(PublicEvalPrompt).all():
            row.answer_a, row.answer_b = "See a doctor.", "I am not sure; please see a doctor."
        s.flush()
        svc.set_state(ev, "open", ready=True)


def _axe(d, source: str) -> list[dict]:
    if not d.execute_script("return typeof axe !== 'undefined'"):
        d.execute_script(source)
    return d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => ({id: v.id, impact: v.impact, help: v.help,"
        "       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));"
    )


def _check(d, name: str, source: str, failures: list, shots: Path | None):
    """axe, no horizontal scrolling at phone width, and (optionally) two screenshots."""
    found = _axe(d, source)
    if os.environ.get("PLURALIGN_AXE_REPORT"):
        print(name, [(v["id"], v["impact"], v["nodes"]) for v in found])
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    if bad:
        failures.append((name, d.current_url, bad))
    width = d.execute_script("return document.documentElement.scrollWidth")
    if width > PHONE[0]:
        failures.append((name, d.current_url, f"page is {width} px wide at {PHONE[0]} px"))
    if shots is not None:
        for w in (PHONE[0], 1280):
            d.set_window_size(w, PHONE[1])
            height = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(w, min(max(height + 120, PHONE[1]), 6000))
            d.save_screenshot(str(shots / f"{name}-{w}.png"))
        d.set_window_size(*PHONE)


def _submit(d, element_id: str, path_end: str | None = None):
    _by_id(d, element_id).click()
    if path_end:
        _wait(d, lambda d: d.current_url.split("?")[0].endswith(path_end))


def test_axe_on_every_page(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    source = _need_axe()
    base, store = server
    _seed(store)
    d = browser
    shots = os.environ.get("PLURALIGN_SCREENSHOTS")
    shots = Path(shots) if shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    failures: list = []

    def page(name: str, path: str | None = None):
        if path is not None:
            d.get(base + path)
        _wait(d, lambda d: d.execute_script("return document.readyState") == "complete")
        _check(d, name, source, failures, shots)

    with screenshot_on_failure(d, "a11y", tmp_path):
        page("home", "/")
        page("error-404", "/a/no-such-assembly")
        page("welcome", f"/a/{SLUG}")
        d.find_element(By.NAME, "consent").click()
        _submit(d, "join", "/about-you")
        page("about-you")
        d.find_element(By.CSS_SELECTOR, "input[name=age][value='35+']").click()
        _submit(d, "save-answers", "/vote")
        page("vote")
        for _ in range(4):  # enough votes for the map
            number = _by_id(d, "statement-text").text
            d.find_element(By.CSS_SELECTOR, "#card button.agree").click()
            _wait(d, lambda d, n=number: _by_id(d, "statement-text").text != n)
        page("vote-after-votes")
        page("map", f"/a/{SLUG}/map")
        page("propose", f"/a/{SLUG}/propose")
        _by_id(d, "text").send_keys("AI should say where its advice comes from")
        _submit(d, "send-proposal")
        _by_id(d, "proposal-sent")
        page("propose-sent")
        page("values", f"/a/{SLUG}/values")
        page("articulate", f"/a/{SLUG}/values/case/1")
        page("upgrades", f"/a/{SLUG}/upgrades")
        page("rate", f"/a/{SLUG}/rate")
        page("withdraw", f"/a/{SLUG}/withdraw")
        page("welcome-joined", f"/a/{SLUG}")
        # organisers
        page("login", "/admin/login")
        _by_id(d, "username").send_keys("admin")
        _by_id(d, "password").send_keys(ADMIN_PASSWORD)
        _submit(d, "sign-in")
        _wait(d, lambda d: "/admin/login" not in d.current_url)
        page("assemblies", "/admin")
        page("new-assembly", "/admin/new")
        page("dashboard", f"/admin/a/{SLUG}")
        page("moderation", f"/admin/a/{SLUG}/moderation")
        page("results", f"/admin/a/{SLUG}/results")
        page("translations", f"/admin/a/{SLUG}/translations")
        page("moral-graph", f"/admin/a/{SLUG}/moralgraph")
        page("public-eval", f"/admin/a/{SLUG}/public-eval")
        # the public-evaluation URL fields look like every other field
        url_style, text_style = (
            d.execute_script(
                "const s = getComputedStyle(document.getElementById(arguments[0]));"
                "return [s.borderTopWidth, s.borderRadius, s.paddingTop];",
                element,
            )
            for element in ("a-base-url", "a-model")
        )
        assert url_style == text_style, (url_style, text_style)
        # last, as it ends the participation
        d.get(f"{base}/a/{SLUG}/withdraw")
        d.find_element(By.NAME, "confirm").click()
        _submit(d, "withdraw")
        _by_id(d, "withdrawn")
        page("withdrawn")
    assert not failures, "\n".join(map(str, failures))


def test_voting_with_the_keyboard_alone(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    base, store = server
    _seed(store)
    d = browser

    def active(attribute: str) -> str:
        return d.execute_script(f"return document.activeElement.{attribute} || ''")

    def tab_to(predicate, limit: int = 40):
        for _ in range(limit):
            ActionChains(d).send_keys(Keys.TAB).perform()
            if predicate():
                return
        raise AssertionError("Tab never reached the element")

    with screenshot_on_failure(d, "keyboard", tmp_path):
        d.get(f"{base}/a/{SLUG}")
        tab_to(lambda: active("name") == "consent")
        ActionChains(d).send_keys(Keys.SPACE).perform()
        tab_to(lambda: active("id") == "join")
        ActionChains(d).send_keys(Keys.ENTER).perform()
        _wait(d, lambda d: d.current_url.endswith("/about-you"))
        tab_to(lambda: active("name") == "age")
        ActionChains(d).send_keys(Keys.SPACE).perform()  # picks the focused answer
        tab_to(lambda: active("id") == "save-answers")
        ActionChains(d).send_keys(Keys.ENTER).perform()
        _wait(d, lambda d: d.current_url.endswith("/vote"))
        seen = []
        for key in (Keys.ENTER, Keys.SPACE):  # the Agree button, reached with Tab
            seen.append(_by_id(d, "statement-text").text)
            tab_to(
                lambda: d.execute_script(
                    "return document.activeElement.classList.contains('agree')"
                )
            )
            ActionChains(d).send_keys(key).perform()
            _wait(d, lambda d: _by_id(d, "statement-text").text not in seen)
            # after the swap, focus is on the new statement, so a screen reader reads it
            assert active("id") == "statement-text"
        seen.append(_by_id(d, "statement-text").text)
        ActionChains(d).send_keys("d").perform()  # the shortcut for "disagree"
        _wait(d, lambda d: _by_id(d, "statement-text").text not in seen)
        focus_ring = d.execute_script(
            "const b = document.querySelector('#card button.agree'); b.focus();"
            "return getComputedStyle(b).outlineStyle;"
        )
        assert focus_ring != "none"  # the focused button is visible
    from sqlalchemy import select

    from pluralign.store.models import Participant, Vote

    with store.session() as s:
        me = s.scalars(select(Participant).order_by(Participant.id.desc())).first()
        values = s.scalars(select(Vote.value).where(Vote.participant_id == me.id)).all()
    assert sorted(values) == [-1, 1, 1]
