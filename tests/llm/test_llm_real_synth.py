"""The synthesis on the embedded SmolLM2-135M-Instruct, offline: questions → answer → critique →
revision give English text that differs between the steps, and every rejection is recorded."""

from __future__ import annotations

import json

import pytest

from pluralign.constitution.document import Clause, Evidence
from pluralign.llm import gates as G
from pluralign.llm.config import ProviderSettings
from pluralign.llm.local import LocalProvider
from pluralign.llm.synth import GenerationSettings, load_questions, synth_questions, synth_revisions

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]

# not among the clauses the prompts were developed on (docs/llm.md): one principle for the
# assistant, one statement of a public debate
CLAUSES = [
    Clause("unsure", "The assistant should say when it is not sure of an answer."),
    Clause("parks", "Public parks should stay open late in summer.",
           (Evidence(4, "Parks should stay open late.", 30, 2, 1, {}, 0.8, 0.2),)),
]


def rows(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_questions_answer_critique_revision_on_the_embedded_model(smollm2_path, tmp_path):
    config = ProviderSettings(checkpoint=smollm2_path, cache_dir=tmp_path / "cache", concurrency=8)
    settings = GenerationSettings(max_tokens=64, seed=0, attempts=2)
    with LocalProvider(config) as provider:
        q = synth_questions(
            provider,
            CLAUSES,
            tmp_path / "q.jsonl",
            1,
            settings,
            attempts=3,
            dedup="tfidf",
            show_progress=False,
        )
        questions = rows(tmp_path / "q.jsonl")
        r = synth_revisions(
            provider,
            CLAUSES,
            load_questions(tmp_path / "q.jsonl"),
            tmp_path / "pairs.jsonl",
            settings,
            show_progress=False,
        )
    assert q.failed == 0 and r.failed == 0
    assert questions, "no question survived the gates"
    # a clause without a question has every one of its candidates logged with a reason
    log = rows(tmp_path / "q.jsonl.gates.jsonl")
    for c in CLAUSES:
        if not any(x["clause_id"] == c.id for x in questions):
            mine = [d for d in log if d["key"].startswith(f"q:{c.id}:")]
            assert len(mine) == 3 and all(d["reason"] in G.REASONS for d in mine), mine
    for x in questions:  # a question a user would send, in English, not the clause restated
        clause = next(c.text for c in CLAUSES if c.id == x["clause_id"])
        assert G.question_gate(x["question"], clause) is None
        assert G.guess_language(x["question"]) in ("en", None)

    pairs = rows(tmp_path / "pairs.jsonl")
    assert pairs, "no pair survived the gates"
    for p in pairs:
        critique = p["provenance"]["critique"]
        texts = [p["prompt"], p["rejected"], critique, p["chosen"]]
        assert len({G.folded(t) for t in texts}) == 4  # every step wrote something new
        for t in texts[1:]:
            assert G.guess_language(t) == "en", t
        assert G.sequence_ratio(p["chosen"], p["rejected"]) < 0.9
        assert p["group"] in ("constitution", "consensus")
    # every question ended as a pair or as a recorded rejection with its reason
    skipped = tmp_path / "pairs.jsonl.skipped.jsonl"
    dropped = rows(skipped) if skipped.exists() else []
    assert len(pairs) + len(dropped) == len(questions)
    assert all(d["gate"] in G.REASONS for d in dropped)
    gates = json.loads((tmp_path / "pairs.jsonl.gates.json").read_text())["steps"]
    assert gates["answer"]["checked"] == len(questions)
    assert gates["pair"]["kept"] == len(pairs)
