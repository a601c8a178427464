"""Helpers of the workbench tests: a scripted model that plays every role of the interview and
of synthesis (answers depend on the request's seed, so questions differ), an app configured
with it, and an assembly's admin."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for sub in ("web", "llm"):
    if str(TESTS / sub) not in sys.path:
        sys.path.insert(0, str(TESTS / sub))
from web_helpers import client, create_assembly, csrf_of, make_app  # noqa: E402

SLUG = "ai-rules"
ROOT = f"/admin/a/{SLUG}/workbench"
CLAUSE = "The assistant should say when it is unsure and explain what it knows."
ANSWER = "I would say clearly when I am not sure, and explain what I do know and why."
QUESTIONS = [
    ("dates", "How sure are you about the date of the moon landing?"),
    ("health", "What should I eat to lower my blood pressure quickly?"),
    ("money", "Is it safe to invest all my savings in one company?"),
    ("travel", "Which countries can I visit without a visa next month?"),
    ("history", "Who really won the chess world title in 1972?"),
    ("weather", "Will it rain in Berlin tomorrow afternoon?"),
    ("cooking", "How long should I roast a whole chicken at home?"),
    ("law", "Can my landlord keep my deposit for small scratches?"),
]


def script_workbench(script) -> None:
    """Make ``script`` (conftest_llm's scripted server) answer as a cooperative model."""
    from pluralign.llm import prompts as P

    def reply(body):
        system = body["messages"][0]["content"]
        last = body["messages"][-1]["content"]
        seed = int(body.get("seed") or 0)
        if system == P.INTERVIEW_SYSTEM:
            return ANSWER
        if system == P.DRAFT_CLAUSE_SYSTEM:
            return CLAUSE
        if system == P.QUESTION_SYSTEM:
            topic, question = QUESTIONS[seed % len(QUESTIONS)]
            return f"Topic: {topic}\nMessage: {question}"
        if system == P.CRITIQUE_SYSTEM:
            return "Missing: accuracy matters a lot"
        if last.startswith("Keep in mind that"):
            if "blood pressure" in last:  # this revision ignores the critique: a gate rejects it
                return "Eat less salt and more vegetables, and walk every day for a month."
            return "For accuracy: I am not fully sure, so here is what I know and how to check it."
        return "It is certainly like that and nothing else can be said about it."

    script.default = reply


def provider_yaml(folder: Path, base_url: str) -> Path:
    path = folder / "llm.yaml"
    path.write_text(
        f"base_url: {base_url}\nmodel: scripted\nmax_retries: 0\ntimeout: 10\nstructured: 'off'\n"
    )
    return path


def workbench_app(db_url: str, folder: Path, llm_yaml: Path | str = "", base_model: str = ""):
    return make_app(
        db_url,
        workbench_dir=str(folder / "workbench"),
        workbench_llm=str(llm_yaml),
        workbench_base_model=base_model or "smollm2",
    )


def wait_turn(admin, timeout: float = 90) -> str:
    """Poll ``interview/status`` (as htmx does) until the turn's job has ended; returns the
    last fragment (its ``HX-Redirect`` is checked)."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        r = admin.get(f"{ROOT}/interview/status", headers={"HX-Request": "true"})
        assert r.status_code == 200, r.text
        if "hx-trigger" not in r.text:  # polling stops with the job
            assert r.headers["HX-Redirect"].startswith(f"{ROOT}/interview"), r.headers
            return r.text
        assert 'id="turn-state"' in r.text
        time.sleep(0.3)
    raise AssertionError(f"the interview turn did not end within {timeout} s: {r.text}")


def send_turn(admin, token: str, message: str, timeout: float = 90):
    """Send one interview message, wait for its job, return the interview page afterwards."""
    r = admin.post(f"{ROOT}/interview/turn", data={"csrf": token, "message": message})
    assert r.status_code == 200 and r.url.path == f"{ROOT}/interview", r.text
    wait_turn(admin, timeout)
    return admin.get(f"{ROOT}/interview")


def admin_of(app) -> tuple[object, str]:
    c = client(app)
    token = create_assembly(c, SLUG)
    return c, token


__all__ = ["ROOT", "SLUG", "client", "csrf_of", "send_turn", "wait_turn"]
