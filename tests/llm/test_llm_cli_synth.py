"""``pluralign synth`` end to end, as a user runs it, against ``pluralign serve`` (tiny model)
and a scripted server: output formats, warm cache, resumption after an interrupt."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli

CONSTITUTION = """title: test
clauses:
  - id: honesty
    text: The assistant should say when it is unsure.
  - id: respect
    text: The assistant should treat every opinion group with respect.
    provenance: {group: g1, statements: [3, 7]}
"""

pytest_plugins = ["conftest_llm"]  # tiny model and scripted server fixtures


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def constitution(tmp_path) -> Path:
    p = tmp_path / "constitution.yaml"
    p.write_text(CONSTITUTION)
    return p


def synth(step, *args, url, cache, cwd, runner=None):
    return (runner or run_cli)(
        "synth",
        step,
        *args,
        "--base-url",
        url,
        "--cache",
        cache,
        "--no-progress",
        "--max-tokens",
        "8",
        **({} if runner else {"cwd": cwd}),
    )


@pytest.mark.slow
def test_synth_chain_on_tiny_model_and_warm_cache(tiny_server, constitution, tmp_path, cli):
    url, cache = tiny_server.base_url, tmp_path / "cache"
    runs = {}
    for tag in ("cold", "warm"):
        d = tmp_path / tag
        d.mkdir()
        before = tiny_server.requests()
        runner = cli if tag == "warm" else None  # the cold run as a user runs it
        steps = {
            "questions": ["--n", "2", "--dedup", "tfidf", "--out", d / "q.jsonl"],
            "revise": ["--questions", d / "q.jsonl", "--out", d / "pairs.jsonl"],
            "refine": ["--n", "1", "--out", d / "refine.jsonl"],
        }
        for step, args in steps.items():  # in this order: revise reads the questions
            r = synth(
                step, "-c", constitution, *args, url=url, cache=cache, cwd=tmp_path, runner=runner
            )
            assert r.returncode == 0, (step, r.stderr)
        runs[tag] = (tiny_server.requests() - before, d)
    cold_requests, cold = runs["cold"]
    warm_requests, warm = runs["warm"]
    assert cold_requests > 0
    assert warm_requests == 0  # a re-run with a warm cache sends no request at all
    for name in ("q.jsonl", "pairs.jsonl", "refine.jsonl"):
        # rows are appended in completion order (concurrent); compare them by key
        assert sorted(rows(cold / name), key=lambda r: r["key"]) == sorted(
            rows(warm / name), key=lambda r: r["key"]
        )

    questions = rows(cold / "q.jsonl")
    assert {r["clause_id"] for r in questions} <= {"honesty", "respect"}
    for r in questions:
        assert r["question"] and r["key"].startswith(f"q:{r['clause_id']}:")
        assert r["provenance"]["model"] == "tiny" and r["provenance"]["prompt_version"]
        assert r["provenance"]["dedup"] == "tfidf"
    # every question became a pair or a recorded skip, never silently lost
    pairs = rows(cold / "pairs.jsonl")
    skipped = cold / "pairs.jsonl.skipped.jsonl"
    n_skipped = len(rows(skipped)) if skipped.exists() else 0
    assert len(pairs) + n_skipped == len(questions)
    for p in pairs:
        assert set(p) >= {"prompt", "chosen", "rejected", "weight", "group", "source"}
        assert p["chosen"] != p["rejected"] and p["weight"] == 1.0
        # a clause's own group, else its kind (a hand-written clause: "constitution")
        assert p["group"] == ("g1" if p["provenance"]["clause_id"] == "respect" else "constitution")
        assert p["provenance"]["model"] == "tiny" and "critique" in p["provenance"]
    for r in rows(cold / "refine.jsonl"):
        assert set(r) >= {"scenario", "rejected", "chosen", "critique", "clause_id"}


@pytest.mark.slow
def test_synth_questions_dedup_and_resume_after_failure(scripted, constitution, tmp_path, cli):
    script, url = scripted

    def question(body):  # answers depend on the request (its seed = variant), not on arrival
        texts = [
            "How sure are you about the date of the moon landing?",
            "How sure are you about the date of the moon landing ?",
            "Are you certain about historical dates?",
            "What should you say when you do not know a capital city?",
        ]
        if "every opinion group" in body["messages"][-1]["content"]:
            texts = [t.replace("?", " for my history class?") for t in texts]
        return "Topic: dates\nMessage: " + texts[body["seed"] % 4]

    script.default = question
    script.fail_if, script.fail_status = "every opinion group", 500
    out, cache = tmp_path / "q.jsonl", tmp_path / "cache"
    args = ["questions", "-c", constitution, "--n", "3", "--dedup", "tfidf", "--out", out]
    args += ["--base-url", url, "--cache", cache, "--no-progress"]
    r = run_cli("synth", *args, "--max-retries", "0", cwd=tmp_path)
    assert r.returncode == 1
    assert "1 item(s) failed" in r.stderr and "re-run" in r.stderr
    first = rows(out)
    assert {x["clause_id"] for x in first} == {"honesty"}
    texts = [x["question"] for x in first]
    assert len(texts) == 3 and "How sure are you about the date of the moon landing ?" not in texts
    gates = json.loads(out.with_name("q.jsonl.gates.json").read_text())["steps"]["question"]
    assert gates["kept"] == 3 and gates["by_reason"] == {"duplicate": 3}  # variants 1, 4, 5

    script.fail_if = None
    n_seen = len(script.seen)
    r = cli("synth", *args)
    assert r.returncode == 0, r.stderr
    assert "already done 1" in r.stdout
    final = rows(out)
    assert final[:3] == first and {x["clause_id"] for x in final[3:]} == {"respect"}
    assert len({x["key"] for x in final}) == len(final)
    # the finished clause sent nothing: only the 'respect' requests went out
    assert all("every opinion group" in b["messages"][-1]["content"] for b in script.seen[n_seen:])


def test_synth_revise_resumes_after_kill(scripted, constitution, tmp_path, cli):
    script, url = scripted
    script.delay = 0.05
    script.rules = [("\nStatement: ", "Missing: accuracy matters a lot")]  # the critique

    def answer(body):  # the revision's user turn starts with the critique's point
        revising = body["messages"][-1]["content"].startswith("Keep in mind that")
        return "A better answer that keeps accuracy." if revising else "An answer that is short."

    script.default = answer
    n = 24  # more than one chunk of items (CHAIN_CHUNK = 16): the first is written, then killed
    qs = tmp_path / "q.jsonl"
    qs.write_text(
        "".join(
            json.dumps({"key": f"k{i}", "clause_id": "honesty", "question": f"Question {i}?"})
            + "\n"
            for i in range(n)
        )
    )
    out = tmp_path / "pairs.jsonl"
    args = ["synth", "revise", "-c", str(constitution), "--questions", str(qs), "--out", str(out)]
    args += ["--base-url", url, "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pluralign", *args, "--concurrency", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not (out.exists() and len(rows(out)) >= 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    done_before = len(rows(out))
    assert 2 <= done_before < n
    with open(out, "a") as fh:  # a torn line, as a kill during a write leaves it
        fh.write('{"key": "r:k23", "prompt": "Quest')
    script.delay = 0.0
    n_seen = len(script.seen)
    r = cli(*args)
    assert r.returncode == 0, r.stderr
    final = rows(out)
    assert sorted(x["key"] for x in final) == sorted(f"r:k{i}" for i in range(n))
    assert all(
        x["chosen"].startswith("A better") and x["rejected"].startswith("An answer") for x in final
    )
    assert all(
        x["provenance"]["critique"] == "The answer leaves out that accuracy matters a lot."
        for x in final
    )
    # finished items are not asked again: at most 3 requests per unfinished item
    assert len(script.seen) - n_seen <= 3 * (n - done_before)


def test_synth_bad_inputs_are_clear_errors(tmp_path, constitution, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clauses:\n  - id: a\n    text: x\n  - id: a\n    text: y\n")
    r = run_cli(
        "synth",
        "questions",
        "-c",
        bad,
        "--out",
        tmp_path / "q.jsonl",
        "--base-url",
        "http://127.0.0.1:9/v1",
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "appears twice" in r.stderr and "Traceback" not in r.stderr
    r = cli(
        "synth",
        "questions",
        "-c",
        constitution,
        "--out",
        tmp_path / "q.jsonl",
        "--adapter",
        tmp_path,
    )
    assert r.returncode == 1 and "--adapter needs --checkpoint" in r.stderr
    # refine's generation options are checked like the other steps' (SynthSettings' bounds)
    for step, flag, value in (("refine", "--max-tokens", "0"), ("refine", "--temperature", "-1")):
        r = cli("synth", step, "-c", constitution, "--out", tmp_path / "r.jsonl", flag, value)
        assert r.returncode == 1 and f"{flag}: must be >= " in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and not (tmp_path / "r.jsonl").exists()
    r = cli(
        "synth",
        "questions",
        "-c",
        constitution,
        "--out",
        tmp_path / "q.jsonl",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--max-retries",
        "0",
        "--dedup",
        "tfidf",
        "--no-progress",
    )
    assert r.returncode == 1 and "http://127.0.0.1:9/v1/chat/completions" in r.stderr
    assert "Traceback" not in r.stderr
