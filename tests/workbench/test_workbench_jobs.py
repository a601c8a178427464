"""The practice and integration jobs through the pages (in-process app, real worker processes):
start → progress → done, a second start refused while one runs, a failed job's one-line error,
a killed worker marked failed; training the tiny model for two steps (about 20 s)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from workbench_kit import (
    CLAUSE,
    ROOT,
    admin_of,
    provider_yaml,
    script_workbench,
    send_turn,
    workbench_app,
)

pytest_plugins = ["conftest_llm"]  # the scripted server, the tiny model
pytestmark = pytest.mark.slow


def _constitution(admin, token, store, n_turns: int = 1) -> None:
    from sqlalchemy import select

    from pluralign.workbench.models import WorkbenchTurn

    for i in range(n_turns):
        assert send_turn(admin, token, f"Question {i}?").status_code == 200
    with store.session() as s:
        ids = list(s.scalars(select(WorkbenchTurn.id)))
    for tid in ids:
        admin.post(
            f"{ROOT}/interview/decide", data={"csrf": token, "turn": tid, "decision": "accept"}
        )
    assert admin.post(f"{ROOT}/interview/save", data={"csrf": token}).status_code == 200


def _wait(admin, kind: str, timeout: float = 180) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        html = admin.get(f"{ROOT}/{kind}/status", headers={"HX-Request": "true"}).text
        if "state-done" in html or "state-failed" in html:
            assert "hx-trigger" not in html  # polling stops with the job
            return html
        assert "hx-trigger" in html  # still polling
        time.sleep(0.5)
    raise AssertionError(f"{kind} job did not end within {timeout} s: {html}")


def _job(store, kind):
    from sqlalchemy import select

    from pluralign.workbench.models import WorkbenchJob

    with store.session() as s:
        return s.scalar(
            select(WorkbenchJob).where(WorkbenchJob.kind == kind).order_by(WorkbenchJob.id.desc())
        )


@pytest.fixture
def bench(scripted, tmp_path, tiny_checkpoint):
    script, url = scripted
    script_workbench(script)
    app, store = workbench_app(
        f"sqlite:///{tmp_path / 'w.db'}",
        tmp_path,
        provider_yaml(tmp_path, url),
        str(tiny_checkpoint),
    )
    admin, token = admin_of(app)
    yield script, app, store, admin, token
    store.dispose()


def test_practice_then_integration_lifecycle(bench, tmp_path):
    script, app, store, admin, token = bench
    page = admin.get(f"{ROOT}/practice").text
    assert 'id="no-constitution"' in page and 'id="start-practice"' not in page
    _constitution(admin, token, store)
    assert "model interview)” (1 clause)." in admin.get(f"{ROOT}/practice").text
    script.delay = 0.05  # slow enough for the second start to find the first one running
    r = admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "3"})
    assert r.status_code == 200 and "hx-trigger" in r.text, r.text
    again = admin.post(f"{ROOT}/practice/start", data={"csrf": token})
    assert again.status_code == 409
    assert re.search(r"practice job \d+ is still running: wait for it to finish", again.text)
    html = _wait(admin, "practice")
    assert "state-done" in html, html
    job = _job(store, "practice")
    assert job.slot is None and job.result["pairs"] >= 1 and job.result["questions"] >= 1
    pairs = [
        ln
        for ln in (tmp_path / "workbench/ai-rules" / f"practice-{job.id}/pairs.jsonl")
        .read_text()
        .splitlines()
        if ln
    ]
    assert len(pairs) == job.result["pairs"]
    assert 'id="sample-pairs"' in html and "here is what I know" in html
    assert f'id="n-pairs">{job.result["pairs"]}<' in html
    # the scripted revision of the blood-pressure question ignores the critique: rejected
    assert 'id="rejection-reasons"' in html and "ignores_critique" in html
    assert "Eat less salt" in html
    # a reload of the page keeps showing the finished job
    assert "state-done" in admin.get(f"{ROOT}/practice").text

    page = admin.get(f"{ROOT}/integration").text
    n = job.result["pairs"]
    assert f"practice job {job.id} ({n} preference pair{'s' if n != 1 else ''})." in page
    r = admin.post(f"{ROOT}/integration/start", data={"csrf": token, "max_steps": "2"})
    assert r.status_code == 200, r.text
    # killed while the run engine is past its data stage: the next start goes on in its folder
    deadline = time.time() + 120
    first = _job(store, "integration")
    progress = tmp_path / "workbench/ai-rules" / f"integration-{first.id}/progress.json"
    while not (progress.is_file() and '"train"' in progress.read_text()):
        assert time.time() < deadline and _job(store, "integration").state != "done"
        time.sleep(0.2)
    os.kill(_job(store, "integration").pid, signal.SIGKILL)
    assert "state-failed" in _wait(admin, "integration", timeout=30)
    r = admin.post(f"{ROOT}/integration/start", data={"csrf": token, "max_steps": "2"})
    assert r.status_code == 200 and 'id="train-resumes"' in r.text, r.text
    html = _wait(admin, "integration", timeout=300)
    assert "state-done" in html, html
    assert 'id="loss-curve"' in html and "Step 2 of 2" in html
    train = _job(store, "integration")
    assert train.id != first.id and train.folder == first.folder
    assert train.settings["resumes"] == first.folder
    stages = train.result["stages"]  # the finished stages were kept, not run again
    assert [stages[s] for s in ("constitution", "model", "data")] == ["skipped"] * 3
    assert [stages[s] for s in ("train", "evaluate", "report")] == ["ran"] * 3
    run = Path(train.folder)  # a run folder of `pluralign run`: every stage with its manifest
    for st in ("constitution", "model", "data", "train", "evaluate", "report"):
        assert json.loads((run / st / "manifest.json").read_text())["stage"] == st
    assert json.loads((run / "manifest.json").read_text())["deliberation"] == "none"
    from pluralign.data.preferences import read_jsonl

    heldout = {p.prompt for p in read_jsonl(run / "data/heldout.jsonl").pairs}
    trained = {p.prompt for p in read_jsonl(run / "data/train.jsonl").pairs}
    assert heldout and trained and not heldout & trained  # never trained on a held-out question
    assert heldout | trained == {json.loads(p)["prompt"] for p in pairs}
    head = train.result["heldout"]
    assert head["pairs"] >= 1 and 0.0 <= head["accuracy"]["estimate"] <= 1.0
    assert 'id="heldout"' in html and f"{head['accuracy']['estimate']:.2f} after" in html
    assert (run / "report.html").is_file() and str(run / "report.html") in html
    model = run / "train/model"
    assert (model / "config.json").is_file() and str(model) in html
    assert "config.json" in html and train.result["steps"] == 2
    assert CLAUSE  # the clause the practice data was written for


def test_a_failed_job_shows_its_error_not_a_traceback(bench, tmp_path):
    script, app, store, admin, token = bench
    _constitution(admin, token, store)
    script.fail_next, script.fail_status = 10_000, 500  # the model is down for the whole job
    admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "1"})
    html = _wait(admin, "practice")
    assert "state-failed" in html and "The job failed:" in html
    assert "Traceback" not in html and "the model failed" in html
    job = _job(store, "practice")
    assert job.slot is None and "\n" not in job.error
    # the slot is free again: the next start is accepted
    script.fail_next = 0
    r = admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "1"})
    assert r.status_code == 200
    assert "state-done" in _wait(admin, "practice")


def test_integration_refused_without_practice_data_and_bad_base_model_fails(bench, tmp_path):
    script, app, store, admin, token = bench
    r = admin.post(f"{ROOT}/integration/start", data={"csrf": token})
    assert r.status_code == 409 and "no practice data with preference pairs yet" in r.text
    r = admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "x"})
    assert r.status_code == 409 and "must be a whole number" in r.text
    _constitution(admin, token, store)
    admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "1"})
    assert "state-done" in _wait(admin, "practice")
    # one question: nothing to hold out for the evaluation, refused before any job starts
    r = admin.post(f"{ROOT}/integration/start", data={"csrf": token, "max_steps": "1"})
    assert r.status_code == 409 and "fewer than 2 questions" in r.text
    assert _job(store, "integration") is None
    admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "3"})
    assert "state-done" in _wait(admin, "practice")
    app.state.settings = type(app.state.settings)(
        **{**app.state.settings.__dict__, "workbench_base_model": str(tmp_path / "no-model")}
    )
    admin.post(f"{ROOT}/integration/start", data={"csrf": token, "max_steps": "1"})
    html = _wait(admin, "integration", timeout=120)
    assert "state-failed" in html and "model folder not found" in html
    assert str(tmp_path / "no-model") in html and "Traceback" not in html


def test_a_killed_worker_is_marked_failed(bench, tmp_path):
    script, app, store, admin, token = bench
    _constitution(admin, token, store)
    script.delay = 2.0  # every request hangs: the worker is busy when killed
    admin.post(f"{ROOT}/practice/start", data={"csrf": token, "questions_per_clause": "1"})
    deadline = time.time() + 60
    while (job := _job(store, "practice")).state != "running":
        assert time.time() < deadline, "the worker never started"
        time.sleep(0.2)
    os.kill(job.pid, signal.SIGKILL)
    html = _wait(admin, "practice", timeout=30)
    assert "state-failed" in html and "ended without finishing" in html
    assert _job(store, "practice").slot is None


def test_a_job_file_being_written_is_read_up_to_its_last_whole_line(tmp_path):
    from pluralign.errors import InputError
    from pluralign.workbench import tasks

    assert tasks.read_rows(tmp_path / "missing.jsonl") == []
    (tmp_path / tasks.PAIRS).write_bytes(b'{"prompt": "a"}\n{"prompt": "b"}\n{"prompt": "c')
    (tmp_path / tasks.PROGRESS).write_text('{"step": "pairs", "total": 3}')
    progress = tasks.practice_progress(tmp_path)
    assert progress["pairs"] == 2 and progress["sample_pairs"][-1] == {"prompt": "b"}
    (tmp_path / tasks.PAIRS).write_bytes(b'{"prompt": "a"}\n{"prompt": \n{"prompt": "c"}\n')
    with pytest.raises(InputError, match=r"pairs.jsonl, line 2: invalid JSON"):
        tasks.practice_progress(tmp_path)  # a broken line is said, not skipped
