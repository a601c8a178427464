"""Two short rounds on the embedded SmolLM2-135M-Instruct (docs/rounds.md): round 1 trains on a
small simulated panel's choices, round 2 asks round 1's tuned model for questions and instructed
answers on the constitution, trains from its weights and is evaluated on the same held-out pairs.
Small on purpose (one LoRA step per round, a dozen held-out pairs, two clauses): 166 s of CPU
time (158 s user, 8 s system; 871 s wall clock under a load average of 13-19 on the shared
2-core machine, 2026-12-02)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]


def test_two_rounds_on_the_embedded_model(smollm2_path, tmp_path):
    from pluralign.io import sha256_file
    from pluralign.llm import gates as G
    from pluralign.run.config import parse_pipeline_config
    from pluralign.run.pipeline import run_pipeline

    out = tmp_path / "run"
    cfg = parse_pipeline_config({
        "run_dir": str(out),
        "inputs": {"simulate": {"participants": 80, "statements": 24}},
        "panel": {"size": 16},
        "aggregate": {"panel_only": False},
        "data": {"prompts_per_member": 2, "templates": "missing"},
        "model": {"base": "smollm2"},
        "synth": {"questions_per_clause": 1, "max_clauses": 2, "max_tokens": 40, "attempts": 1},
        "train": {"max_steps": 1, "per_device_train_batch_size": 4, "save_steps": 1,
                  "max_length": 96, "precompute_ref_log_probs": False},
        "evaluate": {"n_boot": 20, "generations": 0},
        "rounds": {"count": 2, "steps": [[], ["questions", "answers"]]},
    }, source="test")
    result = run_pipeline(cfg)
    assert {o.status for o in result.outcomes} == {"ran"}
    data = json.loads((out / "rounds.json").read_text())
    first, second = data["rounds"]
    model_1 = str((out / "train" / "model").resolve())
    assert first["model"] == second["generator"] == second["base"] == model_1
    assert second["steps"] == ["questions", "answers"]
    # round 1's tuned model wrote round 2's questions, in English
    questions = [json.loads(x) for x in (out / "round-2" / "synth" / "questions.jsonl").open()]
    asked = [q for q in questions if "question" in q]
    assert asked and all(q["provenance"]["model"] == model_1 for q in asked)
    assert all(len(G.words(q["question"])) >= 3 for q in asked)
    usage = json.loads((out / "round-2" / "synth" / "usage.json").read_text())
    assert usage["requests"] > 0 and usage["generator"] == model_1
    manifest = json.loads((out / "round-2" / "train" / "train_manifest.json").read_text())
    assert manifest["base_model"] == model_1
    assert sha256_file(out / "data" / "heldout.jsonl") == sha256_file(
        out / "round-2" / "data" / "heldout.jsonl")
    for r in (first, second):
        acc = r["metrics"]["accuracy"]
        assert 0 <= acc["low"] <= acc["estimate"] <= acc["high"] <= 1
        assert r["pairs"]["heldout"] == first["pairs"]["heldout"] > 0
    assert first["metrics"]["accuracy_before"] == second["metrics"]["accuracy_before"]
    assert 'id="rounds"' in (out / "report.html").read_text(encoding="utf-8")
