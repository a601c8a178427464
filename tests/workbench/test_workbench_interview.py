"""The interview page in-process (ASGI): turns with a scripted model, each a background job in
its own worker process (polled like htmx), accept / edit / reject, save as a constitution with
provenance, the model being down, a killed worker, resending, CSRF and roles."""

from __future__ import annotations

import os
import re
import signal
import time

import yaml
from workbench_kit import (
    ANSWER,
    CLAUSE,
    ROOT,
    admin_of,
    client,
    provider_yaml,
    script_workbench,
    send_turn,
    wait_turn,
    workbench_app,
)

pytest_plugins = ["conftest_llm"]  # the scripted OpenAI-compatible server


def _turn_ids(store):
    from sqlalchemy import select

    from pluralign.workbench.models import WorkbenchTurn

    with store.session() as s:
        return list(s.scalars(select(WorkbenchTurn.id).order_by(WorkbenchTurn.number)))


def _turn_jobs(store):
    from sqlalchemy import select

    from pluralign.workbench.models import WorkbenchJob

    with store.session() as s:
        rows = s.scalars(
            select(WorkbenchJob).where(WorkbenchJob.kind == "interview").order_by(WorkbenchJob.id)
        )
        for job in (rows := list(rows)):
            s.expunge(job)
        return rows


def test_turns_decisions_and_saved_constitution_with_provenance(scripted, tmp_path):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path, provider_yaml(tmp_path, url)
    )
    admin, token = admin_of(app)
    page = admin.get(f"{ROOT}/interview")
    assert page.status_code == 200 and 'id="no-turns"' in page.text
    for message in ("How should you handle uncertainty?", "And with medical questions?"):
        r = send_turn(admin, token, message)
    assert ANSWER in r.text and CLAUSE in r.text
    first, second = _turn_ids(store)
    # each turn went through its own job, which names the turn it stored; the slot is free
    done = _turn_jobs(store)
    assert [j.state for j in done] == ["done", "done"] and all(j.slot is None for j in done)
    assert [j.result["turn"]["id"] for j in done] == [first, second]
    assert done[1].settings["history"] == [["How should you handle uncertainty?", ANSWER]]
    assert done[0].pid != done[1].pid  # one process per turn, not the web server's
    # the second turn's answer was asked with the first turn in its context
    asked = [
        b for b in script.seen if b["messages"][-1]["content"] == "And with medical questions?"
    ]
    assert [m["content"] for m in asked[0]["messages"][1:3]] == [
        "How should you handle uncertainty?",
        ANSWER,
    ]
    r = admin.post(
        f"{ROOT}/interview/decide", data={"csrf": token, "turn": first, "decision": "accept"}
    )
    assert r.status_code == 200
    edited = "The assistant should suggest seeing a doctor for medical questions."
    r = admin.post(
        f"{ROOT}/interview/decide",
        data={"csrf": token, "turn": second, "decision": "edit", "text": edited},
    )
    assert r.status_code == 200 and edited in r.text
    r = admin.post(f"{ROOT}/interview/save", data={"csrf": token, "title": "Interview rules"})
    assert r.status_code == 200 and "Saved a constitution of 2 clauses." in r.text
    doc = yaml.safe_load(admin.get(f"{ROOT}/constitution.yaml").text)
    assert doc["format"] == "pluralign-constitution/1" and doc["title"] == "Interview rules"
    assert [c["text"] for c in doc["clauses"]] == [CLAUSE, edited]
    prov = {c["id"]: c["provenance"] for c in doc["clauses"]}  # each clause names its turn
    assert prov["i1"]["turn"] == 1 and prov["i1"]["decision"] == "accept"
    assert prov["i2"]["turn"] == 2 and prov["i2"]["decision"] == "edit"
    assert prov["i2"]["question"] == "And with medical questions?" and prov["i2"]["draft"] == CLAUSE
    transcript = doc["provenance"]["transcript"]
    assert [m["role"] for m in transcript] == ["system", "user", "assistant", "user", "assistant"]
    # a reload (a new client of the same store) shows the same turns and decisions
    again = client(app)
    from web_helpers import login

    login(again)
    page = again.get(f"{ROOT}/interview").text
    assert page.count('class="turn"') == 2 and edited in page
    store.dispose()


def test_the_model_being_down_keeps_the_message_and_it_can_be_resent(scripted, tmp_path):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path, provider_yaml(tmp_path, url)
    )
    admin, token = admin_of(app)
    script.fail_next, script.fail_status = 10, 503
    typed = "A long message I typed <carefully> & do not want to lose"
    r = admin.post(f"{ROOT}/interview/turn", data={"csrf": token, "message": typed})
    assert r.status_code == 200  # queued: the model answers in the job, not in this request
    fragment = wait_turn(admin)
    assert "The model did not answer" in fragment and 'id="turn-error"' in fragment
    page = admin.get(f"{ROOT}/interview").text
    assert page.count("The model did not answer") == 1 and "Traceback" not in page
    assert "A long message I typed &lt;carefully&gt; &amp; do not want to lose</textarea>" in page
    assert 'id="send">Send again<' in page
    assert _turn_ids(store) == []  # nothing half-stored
    (job,) = _turn_jobs(store)
    assert job.state == "failed" and job.slot is None and "\n" not in job.error
    assert job.result == {"error": "ProviderError"}
    # the model is back: the same message is sent again and its turn lands
    script.fail_next = 0
    page = send_turn(admin, token, typed).text
    assert "The model did not answer" not in page and CLAUSE in page
    assert len(_turn_ids(store)) == 1 and _turn_jobs(store)[-1].state == "done"
    store.dispose()


def test_a_killed_turn_is_marked_failed_and_a_second_send_waits(scripted, tmp_path):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path, provider_yaml(tmp_path, url)
    )
    admin, token = admin_of(app)
    script.delay = 3.0  # the model is slow: the turn is still running when it is killed
    typed = "What do you do when two groups disagree?"
    r = admin.post(f"{ROOT}/interview/turn", data={"csrf": token, "message": typed})
    assert 'hx-trigger="every 2s"' in r.text and 'id="send" disabled' in r.text
    assert f"{typed}</textarea>" in r.text  # the message shows while the model answers
    deadline = time.time() + 60
    while (job := _turn_jobs(store)[-1]).state != "running":
        assert time.time() < deadline, "the worker never started"
        time.sleep(0.2)
    status = admin.get(f"{ROOT}/interview/status", headers={"HX-Request": "true"})
    assert "hx-trigger" in status.text and "HX-Redirect" not in status.headers
    assert re.search(r"Turn job \d+:", status.text)
    # a second message while the turn runs is refused, and what was typed stays
    again = admin.post(f"{ROOT}/interview/turn", data={"csrf": token, "message": "Another?"})
    assert again.status_code == 409 and "interview job" in again.text
    assert "Another?</textarea>" in again.text
    os.kill(job.pid, signal.SIGKILL)
    fragment = wait_turn(admin, timeout=30)
    assert "The turn failed:" in fragment and "ended without finishing" in fragment
    page = admin.get(f"{ROOT}/interview").text
    assert f"{typed}</textarea>" in page and _turn_ids(store) == []
    assert _turn_jobs(store)[-1].slot is None
    script.delay = 0.0
    page = send_turn(admin, token, typed).text  # resend: the turn lands
    assert "The turn failed:" not in page and page.count('class="turn"') == 1
    store.dispose()


def test_save_without_an_accepted_clause_and_bad_decisions_are_clear(scripted, tmp_path):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path, provider_yaml(tmp_path, url)
    )
    admin, token = admin_of(app)
    r = admin.post(f"{ROOT}/interview/save", data={"csrf": token, "title": "My typed title"})
    assert r.status_code == 400 and "accept or edit at least one proposed clause" in r.text
    assert 'value="My typed title"' in r.text  # what was typed stays
    send_turn(admin, token, "How?")
    (turn,) = _turn_ids(store)
    long_edit = "The assistant should " + "be careful " * 200
    r = admin.post(
        f"{ROOT}/interview/decide",
        data={"csrf": token, "turn": turn, "decision": "edit", "text": long_edit},
    )
    assert r.status_code == 400 and "the clause is longer than 2000 characters" in r.text
    assert long_edit.strip() in r.text  # the refused edit is back in its box
    r = admin.post(f"{ROOT}/interview/turn", data={"csrf": token, "message": "   "})
    assert r.status_code == 400 and "write a message to the model first" in r.text
    r = admin.post(
        f"{ROOT}/interview/decide", data={"csrf": token, "turn": "999", "decision": "accept"}
    )
    assert r.status_code == 400 and "no such proposal" in r.text
    assert admin.get(f"{ROOT}/constitution.yaml").status_code == 400
    store.dispose()


def test_csrf_and_organiser_only(scripted, tmp_path):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path, provider_yaml(tmp_path, url)
    )
    admin, token = admin_of(app)
    r = admin.post(f"{ROOT}/interview/turn", data={"message": "hello"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert script.seen == [] and _turn_jobs(store) == []
    from web_helpers import login

    moderator = client(app)
    mod_token = login(moderator, "mod")
    for path in ("interview", "practice", "integration"):
        assert moderator.get(f"{ROOT}/{path}").status_code == 403
    r = moderator.post(f"{ROOT}/interview/turn", data={"csrf": mod_token, "message": "hi"})
    assert r.status_code == 403 and script.seen == [] and _turn_jobs(store) == []
    r = moderator.get(f"{ROOT}/interview/status", headers={"HX-Request": "true"})
    assert r.status_code == 403
    anonymous = client(app)
    r = anonymous.get(f"{ROOT}/interview", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    store.dispose()


def test_migration_0007_matches_the_models_and_downgrades(store):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from pluralign.store.models import Base
    from pluralign.store.session import MIGRATIONS, upgrade

    tables = {"workbench_turn", "workbench_constitution", "workbench_job"}
    assert tables <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if any(t in repr(d) for t in tables)] == []
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    assert not tables & set(inspect(store.engine).get_table_names())
    upgrade(store.engine)
    assert tables <= set(inspect(store.engine).get_table_names())


def test_web_command_refuses_a_bad_workbench_provider_file(tmp_path):
    from conftest import run_cli

    bad = tmp_path / "llm.yaml"
    bad.write_text("base_url: http://127.0.0.1:9/v1\ncheckpoint: smollm2\n")
    r = run_cli("web", "--db", str(tmp_path / "w.db"), "--workbench-llm", bad, "--port", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert str(bad) in r.stderr and "set exactly one of base_url" in r.stderr
