"""The workbench in a real headless chromium against ``pluralign web`` (with a scripted model
and the tiny model): the organiser sends an interview message, watches its background job run
(htmx polling) until the page shows the turn, accepts the proposed clause, saves the
constitution, starts practice and watches its progress arrive by htmx polling, then trains for
two steps through the run engine and sees the loss curve and the held-out accuracy; axe-core on
every page (no serious or critical violation) and no horizontal scrolling at phone width. About
two minutes (three worker processes).

Set ``$PLURALIGN_SCREENSHOTS`` to a folder to save every page at 390 px and 1280 px wide.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))  # the browser helpers
from test_web_a11y import _check, _need_axe  # noqa: E402
from test_web_browser import _by_id, _wait, browser, screenshot_on_failure  # noqa: E402
from web_helpers import ADMIN_PASSWORD, free_port, start_server, stop_server  # noqa: E402
from workbench_kit import CLAUSE, SLUG, provider_yaml, script_workbench  # noqa: E402

pytest_plugins = ["conftest_llm"]  # the scripted server, the tiny model
pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["browser"]


@pytest.fixture
def bench_server(tmp_path, scripted, tiny_checkpoint):
    from pluralign.store import open_store
    from pluralign.web import service
    from pluralign.web.security import create_user

    script, url = scripted
    script_workbench(script)
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    store = open_store(db)
    with store.session() as s:
        create_user(s, "admin", ADMIN_PASSWORD, "admin")
        form = service.parse_assembly_form(
            "How should AI assistants handle uncertainty?", "Workbench test.", False, "", "", "2"
        )
        service.create_assembly(s, SLUG, form)
    port = free_port()
    extra = [
        "--workbench-dir",
        str(tmp_path / "wb"),
        "--workbench-llm",
        str(provider_yaml(tmp_path, url)),
    ]
    extra += ["--workbench-base-model", str(tiny_checkpoint)]
    proc = start_server(db, port, *extra, log=tmp_path / "server.log")
    yield f"http://127.0.0.1:{port}", script
    stop_server(proc)
    store.dispose()


def test_interview_practice_integration_in_a_browser(bench_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    source = _need_axe()
    base, script = bench_server
    d = browser
    shots = os.environ.get("PLURALIGN_SCREENSHOTS")
    shots = Path(shots) if shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    failures: list = []

    def page(name: str):
        _wait(d, lambda d: d.execute_script("return document.readyState") == "complete")
        _check(d, name, source, failures, shots)

    with screenshot_on_failure(d, "workbench", tmp_path):
        d.get(f"{base}/admin/login")
        _by_id(d, "username").send_keys("admin")
        _by_id(d, "password").send_keys(ADMIN_PASSWORD)
        _by_id(d, "sign-in").click()
        _wait(d, lambda d: "/admin/login" not in d.current_url)
        d.get(f"{base}/admin/a/{SLUG}")
        _by_id(d, "workbench-link").click()
        _wait(d, lambda d: d.current_url.endswith("/workbench/interview"))
        _by_id(d, "no-turns")
        assert _by_id(d, "message").get_attribute("value")  # a suggested question
        page("workbench-interview-empty")
        message = _by_id(d, "message")
        message.clear()
        typed = "How should you answer when you are not sure?"
        message.send_keys(typed)
        script.delay = 4.0  # slow enough to check the page while the turn's job runs
        _by_id(d, "send").click()
        _wait(d, lambda d: d.find_elements(By.ID, "turn-state"), timeout=60)
        assert _by_id(d, "send").get_attribute("disabled") is not None
        assert _by_id(d, "message").get_attribute("value") == typed  # kept while it runs
        page("workbench-interview-answering")
        # the polling ends with the job and the page reloads with the stored turn
        _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "li.turn"), timeout=90)
        script.delay = 0.0
        assert not d.find_elements(By.ID, "turn-state")
        turn = d.find_element(By.CSS_SELECTOR, "li.turn")
        assert CLAUSE in turn.text
        page("workbench-interview-turn")
        turn.find_element(By.CSS_SELECTOR, "button[value=accept]").click()
        _wait(d, lambda d: "accepted" in d.find_element(By.CSS_SELECTOR, "p.decision").text)
        _by_id(d, "save-constitution").click()
        _wait(d, lambda d: d.find_elements(By.ID, "saved-constitution"))
        assert "1 clause" in _by_id(d, "saved-constitution").text
        page("workbench-interview-saved")
        _by_id(d, "to-practice").click()
        _wait(d, lambda d: d.current_url.endswith("/workbench/practice"))
        page("workbench-practice")
        per_clause = _by_id(d, "questions-per-clause")  # pairs for 2+ questions: one held out
        per_clause.clear()
        per_clause.send_keys("3")
        script.delay = 0.2  # slow enough to see the job running before it ends
        _by_id(d, "start-practice").click()
        _wait(d, lambda d: "running" in _by_id(d, "job-state").text, timeout=60)
        page("workbench-practice-running")
        _wait(d, lambda d: "done" in _by_id(d, "job-state").text, timeout=120)
        assert int(_by_id(d, "n-pairs").text) >= 1 and _by_id(d, "sample-pairs")
        page("workbench-practice-done")
        _by_id(d, "to-integration").click()
        _wait(d, lambda d: d.current_url.endswith("/workbench/integration"))
        page("workbench-integration")
        steps = _by_id(d, "max-steps")
        steps.clear()
        steps.send_keys("2")
        _by_id(d, "start-integration").click()
        _wait(d, lambda d: d.find_elements(By.ID, "loss-curve"), timeout=180)
        _wait(d, lambda d: "done" in _by_id(d, "job-state").text, timeout=180)
        assert "config.json" in _by_id(d, "model-files").text
        assert "held-out pair" in _by_id(d, "heldout").text  # the run engine's evaluation
        assert _by_id(d, "report-path").text.endswith("report.html")
        page("workbench-integration-done")
    assert not failures, "\n".join(map(str, failures))
