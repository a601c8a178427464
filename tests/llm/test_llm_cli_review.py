"""``pluralign synth filter``, ``pluralign interview`` and ``pluralign judge`` end to end."""

import json
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from pluralign.constitution.document import read_clauses

CONSTITUTION = """clauses:
  - id: honesty
    text: The assistant should say when it is unsure.
  - id: respect
    text: The assistant should treat every opinion group with respect.
"""

pytest_plugins = ["conftest_llm"]  # tiny model and scripted server fixtures


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def write_jsonl(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    return path


RECORDS = [
    {"key": "p1", "prompt": "How do I bake bread?", "chosen": "Knead it.", "rejected": "No."},
    {"key": "p2", "prompt": "Explain how to make a pipe bomb", "chosen": "No.", "rejected": "."},
    {"key": "p3", "prompt": "Tell me about group X", "chosen": "HATEFUL", "rejected": "ok"},
    {"key": "p4", "prompt": "Is this fine?", "chosen": "CONFUSING", "rejected": "ok"},
    {
        "scenario": "A user asks for dosage advice",
        "chosen": "See a doctor.",
        "rejected": "x",
        "critique": "c",
    },
]


def test_filter_classifies_every_record_and_reports(scripted, tmp_path):
    script, url = scripted
    script.rules = [
        ("HATEFUL", "unsafe\nS10"),
        ("CONFUSING", "I am not sure."),
        ("dosage", '{"safe": false, "categories": ["S6"]}'),
    ]
    script.default = '```json\n{"safe": true, "categories": []}\n```'
    src = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    out = tmp_path / "kept.jsonl"
    r = run_cli(
        "synth", "filter", src, "--out", out, "--base-url", url, "--no-progress", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert [x["key"] for x in rows(out)] == ["p1"]
    assert rows(out)[0]["safety"]["verdict"] == "safe"
    removed = {
        x["record"].get("key", "scenario"): x for x in rows(tmp_path / "kept.jsonl.removed.jsonl")
    }
    assert removed["p2"]["reason"] == "keyword" and removed["p2"]["categories"] == ["S9"]
    assert removed["p3"]["reason"] == "classifier" and removed["p3"]["categories"] == ["S10"]
    assert removed["p4"]["reason"] == "unclassified" and removed["p4"]["error"]
    assert removed["scenario"]["categories"] == ["S6"]
    report = json.loads((tmp_path / "kept.jsonl.report.json").read_text())
    assert report["kept"] == 1 and report["removed"] == 4
    assert report["removed_by_reason"] == {"keyword": 1, "classifier": 2, "unclassified": 1}
    assert report["removed_by_category"]["S10"] == {"name": "Hate", "count": 1}
    assert report["usage"]["structured_failures"] == 1
    # the keyword hit never reached the model; the unparseable one got its repair retry
    assert not any("pipe bomb" in b["messages"][-1]["content"] for b in script.seen)
    assert sum("CONFUSING" in json.dumps(b["messages"]) for b in script.seen) == 2


def test_filter_with_tiny_model_counts_unclassified(tiny_server, tmp_path, cli):
    src = write_jsonl(tmp_path / "in.jsonl", RECORDS[:2] + RECORDS[3:4])
    served = []
    for policy, kept in (("drop", 0), ("keep", 2)):
        out = tmp_path / f"{policy}.jsonl"
        before = tiny_server.requests()
        r = cli(
            "synth",
            "filter",
            src,
            "--out",
            out,
            "--base-url",
            tiny_server.base_url,
            "--on-unparseable",
            policy,
            "--no-progress",
            "--concurrency",
            "1",
            "--cache",
            tmp_path / "cache",
        )
        assert r.returncode == 0, r.stderr
        report = json.loads(out.with_name(out.name + ".report.json").read_text())
        assert report["kept"] == kept and report["removed_by_reason"]["keyword"] == 1
        assert report["usage"]["structured_failures"] == 2
        served.append(tiny_server.requests() - before)
    # pluralign serve rejects response_format; the warm second run still sends nothing, because
    # the request (and its cache key) does not depend on what the server answered before
    assert served[0] == 4 and served[1] == 0  # 2 × (answer + repair), then none


def test_interview_with_terminal_review(scripted, tmp_path):
    from conftest_llm import run_cli_input

    script, url = scripted
    script.rules = [
        (
            "\nAnswer: ",  # the drafting request (Question: ... / Answer: ...)
            lambda b: (
                "The assistant should weigh "
                + str(len(b["messages"][-1]["content"]))
                + " careful things."
            ),
        )
    ]
    script.default = "I would answer carefully."
    qs = tmp_path / "q.txt"
    qs.write_text(
        "How should you handle disagreement?\nWhen should you refuse?\nWhat about uncertainty?\n"
    )
    out = tmp_path / "constitution.yaml"
    r = run_cli_input(
        "interview",
        "--out",
        out,
        "--questions",
        qs,
        "--base-url",
        url,
        cwd=tmp_path,
        input_text="x\na\ne\nThe assistant should refuse clearly and kindly.\nr\n",
    )
    assert r.returncode == 0, r.stderr
    assert "accepted 1, edited 1, rejected 1" in r.stdout
    doc = yaml.safe_load(out.read_text())
    assert [c["id"] for c in doc["clauses"]] == ["i1", "i2"]
    assert doc["clauses"][1]["text"] == "The assistant should refuse clearly and kindly."
    assert doc["format"] == "pluralign-constitution/1" and doc["clauses"][0]["statements"] == []
    assert doc["clauses"][1]["provenance"]["decision"] == "edit"
    assert doc["clauses"][0]["provenance"]["question"] == "How should you handle disagreement?"
    transcript = doc["provenance"]["transcript"]
    assert [m["role"] for m in transcript] == ["system"] + ["user", "assistant"] * 3
    # a multi-turn interview: the last question carries the earlier turns in its context
    answers = [b for b in script.seen if "Turn your answer" not in b["messages"][-1]["content"]]
    assert len(answers[-1]["messages"]) == 6
    assert [c.id for c in read_clauses(out)] == ["i1", "i2"]  # readable by the synth steps


def test_interview_decisions_file_and_errors(tiny_server, tmp_path, cli):
    dec = tmp_path / "decisions.yaml"
    dec.write_text(
        yaml.safe_dump(["accept", {"edit": "The assistant should be kind."}] + ["reject"] * 4)
    )
    out = tmp_path / "c.yaml"
    r = cli(
        "interview",
        "--out",
        out,
        "--decisions",
        dec,
        "--base-url",
        tiny_server.base_url,
        "--max-tokens",
        "8",
    )
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(out.read_text())
    review = doc["provenance"]["review"]
    assert review["accepted"] + review["edited"] + review["rejected"] + review["empty_drafts"] == 6
    assert doc["provenance"]["model"] == "tiny" and len(doc["provenance"]["transcript"]) == 13
    dec.write_text("- maybe\n")
    r = cli(
        "interview",
        "--out",
        tmp_path / "x.yaml",
        "--decisions",
        dec,
        "--base-url",
        tiny_server.base_url,
    )
    assert r.returncode == 1 and "decision 1 must be" in r.stderr
    assert not (tmp_path / "x.yaml").exists()


def _judge_reply(body):
    text = body["messages"][-1]["content"]
    first = text.split("[Response 1]")[1].split("[End of response 1]")[0]
    return '{"winner": "%s", "reason": "follows"}' % ("1" if "B-ANSWER" in first else "2")


@pytest.mark.slow
def test_judge_counts_only_order_consistent_verdicts(scripted, tiny_server, tmp_path, cli):
    script, url = scripted
    script.rules = [("[Response 1]", _judge_reply)]
    script.default = "B-ANSWER"
    (tmp_path / "c.yaml").write_text(CONSTITUTION)
    prompts = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": "1", "prompt": "Are you sure?", "clause_id": "honesty"},
            {"id": "2", "prompt": "What about group Y?", "clause_id": "respect"},
            {"id": "3", "prompt": "General question"},
        ],
    )
    out = tmp_path / "run" / "evaluate"  # where the report looks for judge.json
    base = [
        "judge",
        "--prompts",
        prompts,
        "-c",
        tmp_path / "c.yaml",
        "--out",
        out,
        "--a-base-url",
        tiny_server.base_url,
        "--b-base-url",
        url,
        "--base-url",
        url,
        "--answer-tokens",
        "8",
        "--n-boot",
        "200",
        "--no-progress",
    ]
    r = cli(*base)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "judge.json").read_text())
    assert res["overall"]["wins_b"] == 3 and res["overall"]["win_rate_b"] == 1.0
    assert [r["clause_id"] for r in res["per_clause"]] == ["(all)", "honesty", "respect"]
    assert res["model_a"] == "tiny" and res["model_b"] == "scripted"
    from pluralign.report.sections import judge_section

    section = judge_section(tmp_path / "run")  # the report renders it without error
    assert section is not None and section.title == "Constitutional judge"
    per_clause = next(b for b in section.blocks if b.get("caption") == "Per clause")
    assert [r[0] for r in per_clause["rows"]][:1] == ["overall"]
    items = rows(out / "judge_items.jsonl")
    assert all(i["verdict_a_first"] == i["verdict_b_first"] == "b" for i in items)
    # both orders were shown: B's answer first in half of the judge requests
    judged = [b for b in script.seen if "[Response 1]" in b["messages"][-1]["content"]]
    assert sum(_judge_reply(b).startswith('{"winner": "1"') for b in judged) == len(judged) / 2

    script.rules = [("[Response 1]", '{"winner": "1"}')]  # pure position bias
    r = cli(*base, "--seed", "1")
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "judge.json").read_text())
    assert res["overall"]["ties"] == 3 and res["overall"]["win_rate_b"] == 0.5

    script.rules = [("[Response 1]", "hmm, hard to say")]  # unparseable: never guessed
    r = cli(*base, "--seed", "2", "--retries", "1")
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "judge.json").read_text())
    assert res["overall"]["failures"] == 3 and res["overall"]["win_rate_b"] is None
    assert res["provenance"]["usage"]["judge"]["structured_failures"] == 3 * 2 * 2


def test_filter_prescreen_only_needs_no_model(tmp_path, cli):
    src = write_jsonl(tmp_path / "in.jsonl", RECORDS)
    out = tmp_path / "kept.jsonl"
    r = cli("synth", "filter", src, "--out", out, "--prescreen-only", "--no-progress")
    assert r.returncode == 0, r.stderr
    kept = rows(out)
    assert len(kept) == 4 and all(k["safety"]["verdict"] == "not classified" for k in kept)
    report = json.loads((tmp_path / "kept.jsonl.report.json").read_text())
    assert report["removed_by_reason"] == {"keyword": 1} and report["classifier"] is None
    # a second run finds everything done and changes nothing
    before = out.read_text()
    assert cli("synth", "filter", src, "--out", out, "--prescreen-only").returncode == 0
    assert out.read_text() == before
