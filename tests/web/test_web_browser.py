"""End-to-end in a real headless chromium at phone size, against a real uvicorn server.

Skipped when chromium/chromedriver are missing, unless PLURALIGN_REQUIRE_BROWSER=1 (CI), then
they fail. On failure a screenshot is saved (path printed; folder $PLURALIGN_ARTIFACTS or the
test's tmp dir).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest
from web_helpers import ADMIN_PASSWORD, free_port, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = os.environ.get("PLURALIGN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PLURALIGN_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install selenium)")
    if missing:
        reason = f"browser tests need {', '.join(missing)}"
        if os.environ.get("PLURALIGN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " but PLURALIGN_REQUIRE_BROWSER=1")
        pytest.skip(reason)


@pytest.fixture
def server(tmp_path):
    """A migrated SQLite store with organiser accounts, served by ``pluralign web``."""
    from pluralign.store import open_store
    from pluralign.web.security import create_user

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    store = open_store(url)
    with store.session() as s:
        create_user(s, "admin", ADMIN_PASSWORD, "admin")
    port = free_port()
    proc = start_server(url, port, log=tmp_path / "server.log")
    yield f"http://127.0.0.1:{port}", store
    stop_server(proc)
    store.dispose()


@pytest.fixture
def browser(tmp_path, request):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--window-size={PHONE[0]},{PHONE[1]}",
    ):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="pluralign-chrome-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(*PHONE)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def screenshot_on_failure(driver, name: str, tmp_path: Path):
    try:
        yield
    except BaseException:
        folder = Path(os.environ.get("PLURALIGN_ARTIFACTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        driver.save_screenshot(str(path))
        print(f"screenshot saved: {path}\nURL: {driver.current_url}")
        raise


def _is_stale(exc: Exception) -> bool:
    """A node that left the page: selenium's stale-element error, or chromium's own wording of it
    ("Node with given id does not belong to the document"), which arrives as a plain
    WebDriverException when a navigation or htmx swap lands between finding and using a node."""
    from selenium.common.exceptions import StaleElementReferenceException

    return isinstance(exc, StaleElementReferenceException) or (
        "does not belong to the document" in str(exc)
    )


def _wait(driver, condition, timeout=10):
    from selenium.common.exceptions import NoSuchElementException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # htmx swaps elements under our feet: a stale or missing element just means "not yet"
    def attempt(d):
        try:
            return condition(d)
        except NoSuchElementException:
            return False
        except WebDriverException as exc:
            if _is_stale(exc):
                return False
            raise

    return WebDriverWait(driver, timeout).until(attempt)


def _gone(element):
    """Condition: ``element`` has left the page (the next page replaced it)."""
    from selenium.common.exceptions import WebDriverException

    def check(_driver):
        try:
            element.is_enabled()
        except WebDriverException as exc:
            if _is_stale(exc):
                return True
            raise
        return False

    return check


def _text(driver, element_id):
    """The text of the element with ``element_id``, read in one go (retried if it is swapped)."""
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.ID, element_id).text or " ").strip()


def _by_id(driver, element_id):
    from selenium.webdriver.common.by import By

    return _wait(driver, lambda d: d.find_element(By.ID, element_id))


def _seed(store, slug="phone-test", n_others=7):
    """An open assembly with 5 statements, a question, and 7 other participants in two camps."""
    from pluralign.web import service

    with store.session() as s:
        form = service.parse_assembly_form(
            "Should AI assistants give medical advice?",
            "",
            False,
            "",
            "age | Your age group | 18-34; 35+",
            "4",
        )
        a = service.create_assembly(s, slug, form)
        service.set_state(a, "open")
        service.add_seed_statements(s, a, [f"Statement number {i}" for i in range(5)])
        for i in range(n_others):
            p = service.join(s, a, None)
            for st in range(5):
                value = 1 if (st < 2) == (i < 4) else -1
                service.record_vote(s, a, p, st, value, f"seed-{i}-{st}")


def test_participant_flow_on_a_phone(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    base, store = server
    _seed(store)
    d = browser
    with screenshot_on_failure(d, "participant-flow", tmp_path):
        d.get(f"{base}/a/phone-test")
        assert "What we collect" in d.page_source
        # the consent box is required: submitting without it stays on the page
        _by_id(d, "join").click()  # the browser refuses: the consent box is required
        assert d.current_url.endswith("/a/phone-test")
        assert d.find_element(By.NAME, "consent").get_attribute("required") is not None
        d.find_element(By.NAME, "consent").click()
        _by_id(d, "join").click()
        _wait(d, lambda d: d.current_url.endswith("/about-you"))
        _wait(
            d, lambda d: d.find_element(By.CSS_SELECTOR, "input[name=age][value='18-34']")
        ).click()
        _by_id(d, "save-answers").click()
        _wait(d, lambda d: d.current_url.endswith("/vote"))

        def current():
            from selenium.common.exceptions import (
                NoSuchElementException,
                StaleElementReferenceException,
            )

            try:
                return d.find_element(By.NAME, "statement").get_attribute("value")
            except (NoSuchElementException, StaleElementReferenceException):
                return None

        seen = [current()]
        # keyboard shortcut A (agree) - htmx swaps the card in place, no page load
        d.find_element(By.TAG_NAME, "body").send_keys("a")
        _wait(d, lambda d: current() not in [*seen, None])
        assert d.current_url.endswith("/vote")
        for button in ("agree", "disagree", "agree"):
            seen.append(current())
            d.find_element(By.CSS_SELECTOR, f"#card button.{button}").click()
            _wait(d, lambda d: current() not in [*seen, None])
        seen.append(current())
        d.find_element(By.TAG_NAME, "body").send_keys("p")  # pass
        _by_id(d, "all-done")
        assert len(set(seen)) == 5
        # the map opens after 4 votes and shows the participant's group
        d.find_element(By.LINK_TEXT, "See the opinion map").click()
        assert "You are in group" in _by_id(d, "my-group").text
        assert d.find_elements(By.CSS_SELECTOR, "svg.map circle")
        # propose a statement
        d.find_element(By.LINK_TEXT, "Propose a statement").click()
        _by_id(d, "text").send_keys("Medical advice should come with sources")
        _by_id(d, "send-proposal").click()
        assert "goes to the moderators" in _by_id(d, "proposal-sent").text
        # the page fits a phone: no horizontal scrolling
        assert d.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
        # withdraw and delete
        d.find_element(By.LINK_TEXT, "Withdraw").click()
        _wait(d, lambda d: d.find_element(By.NAME, "confirm")).click()
        _by_id(d, "withdraw").click()
        assert "deleted" in _by_id(d, "withdrawn").text
    from sqlalchemy import func, select

    from pluralign.store.models import Participant, Statement

    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Participant)) == 7
        assert (
            s.scalar(
                select(func.count()).select_from(Statement).where(Statement.moderation == "pending")
            )
            == 0
        )


def test_admin_flow_on_a_phone(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select  # noqa: F401

    base, store = server
    d = browser
    seed_csv = tmp_path / "seed.csv"
    seed_csv.write_text(
        "text\nDoctors should stay in charge\nAI can triage symptoms\n"
        "AI must say when it is unsure\n",
        encoding="utf-8",
    )
    with screenshot_on_failure(d, "admin-flow", tmp_path):
        d.get(f"{base}/admin")
        _wait(d, lambda d: "/admin/login" in d.current_url)
        _by_id(d, "username").send_keys("admin")
        _by_id(d, "password").send_keys("wrong password")
        _by_id(d, "sign-in").click()
        assert "wrong username or password" in _by_id(d, "login-error").text
        _by_id(d, "username").send_keys("admin")
        _by_id(d, "password").send_keys(ADMIN_PASSWORD)
        _by_id(d, "sign-in").click()
        _wait(d, lambda d: "/admin/login" not in d.current_url)
        _by_id(d, "new-assembly").click()
        _by_id(d, "slug").send_keys("med-ai")
        _by_id(d, "topic").send_keys("Should AI give medical advice?")
        _by_id(d, "questions").send_keys("age | Your age | 18-34; 35+")
        min_votes = _by_id(d, "min_votes")
        min_votes.clear()
        min_votes.send_keys("3")
        _by_id(d, "create").click()
        _wait(d, lambda d: d.current_url.endswith("/admin/a/med-ai"))
        _by_id(d, "seed-file").send_keys(str(seed_csv))
        _by_id(d, "upload-seed").click()
        assert "3 seed statements added" in _by_id(d, "notice").text
        _by_id(d, "open").click()
        _wait(d, lambda d: _by_id(d, "state").text == "open")
        # people take part (in-process), one proposes a statement
        from pluralign.web import service

        with store.session() as s:
            a = service.get_open_assembly(s, "med-ai")
            for i in range(6):
                p = service.join(s, a, None)
                for st in range(3):
                    value = 1 if st == 2 or (st == 0) == (i < 3) else -1
                    service.record_vote(s, a, p, st, value, f"r{i}-{st}")
            service.propose(s, a, p, "AI should refer to a doctor for anything serious")
        # live counts refresh by themselves (htmx polling every 5 s)
        _wait(d, lambda d: _by_id(d, "count-votes").text == "18", timeout=15)
        _by_id(d, "moderation-link").click()
        _wait(d, lambda d: d.find_element(By.CSS_SELECTOR, "#st-3 button.agree")).click()
        _wait(d, lambda d: "accepted" in _by_id(d, "st-3").text)
        d.back()
        d.refresh()
        _by_id(d, "results-link").click()
        assert _by_id(d, "group-1") and _by_id(d, "group-2")
        assert "AI must say when it is unsure" in _by_id(d, "consensus").text
        d.back()
        # exports: fetch with the browser's session cookie (downloads are not rendered)
        cookie = d.get_cookie("pluralign")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        href = _by_id(d, "export-constitution").get_attribute("href")
        md = httpx.get(href, cookies={"pluralign": cookie["value"]}, timeout=60)
        assert md.status_code == 200 and "AI must say when it is unsure" in md.text
        z = httpx.get(
            _by_id(d, "export-polis").get_attribute("href"),
            cookies={"pluralign": cookie["value"]},
            timeout=60,
        )
        assert z.status_code == 200 and z.content[:2] == b"PK"
        _by_id(d, "close").click()
        _wait(d, lambda d: _by_id(d, "state").text == "closed")
        _by_id(d, "logout").click()
        _wait(d, lambda d: "/admin/login" in d.current_url)
