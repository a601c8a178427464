"""``pluralign demo``: the whole pipeline on a simulated assembly, offline, in a few minutes.

The demo is :mod:`pluralign.run.pipeline` on a simulated input (:func:`demo_config`): simulate →
store → summary → panel (LEXIMIN from the simulated volunteer pool, quotas from the population
shares, soft weights) → aggregate (the panel's votes) → constitution → preference data (the
simulator's prompt bank: train + held-out prompts, soft weights) → model (the embedded
SmolLM2-135M-Instruct) → LoRA + weighted DPO → evaluate (the base model's own preference before,
the trained model's after, per opinion and demographic group, bootstrap intervals; greedy answers
of both to held-out prompts) → moral graph → report. ``--quick`` fine-tunes a tiny random model
built on the spot instead (a minute and a half: for a look at the plumbing, not at a model).
Each stage writes ``OUT/<stage>/`` and a manifest; a re-run skips up-to-date stages and
``--from STAGE`` runs one stage and every later one again. It ends by printing the path of
``OUT/report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the run engine loads with the command, not with `pluralign --help`
    from pluralign.run.pipeline import PipelineResult

DEMO_OVERRIDES: dict[str, Any] = {
    "inputs": {"simulate": {"participants": 240, "statements": 60}},
    "panel": {"size": 60, "method": "leximin"},
    # a 60-person panel split into up to 4 groups: the interval rule's halves have 5-8 people,
    # and it keeps 1 of the point rule's 5 consensus statements (seed 0; docs/sensemaking.md
    # §6: recall 0.31 at 60 on the simulator). The demo drafts from the point rule (share
    # >= 0.6 in every group), so that it has clauses to make preference data from (the
    # posterior rule, the default, keeps few of them on 60 people too).
    # TF-IDF sentence vectors (the default, auto, takes MiniLM when installed): the demo's
    # recorded figures were measured with them, and they need no encoder download or load
    "constitution": {"consensus_method": "interval", "min_group_agreement": 0.6,
                     "interval_z": 0.0, "min_subgroup_agreement": None, "embedder": "tfidf"},
    "data": {"prompts_per_member": 40, "templates": "missing"},
    "model": {"base": "smollm2"},
    "moral_graph": {"enabled": True, "participants": 120},  # smaller than the default 200
    "report": {"title": "pluralign demo (simulated assembly, SmolLM2-135M-Instruct)"},
}
"""What the demo sets; everything else is the pipeline's default (:mod:`pluralign.run.config`)."""

QUICK_OVERRIDES: dict[str, Any] = {
    "threads": 1,
    "model": {"base": "tiny"},
    "train": {"lora": False, "learning_rate": 3e-3, "max_steps": 30,
              "per_device_train_batch_size": 16, "save_steps": 20, "max_length": 256,
              "precompute_ref_log_probs": False, "sft_weight": 0.0, "warmup_ratio": 0.0,
              "lr_scheduler_type": "constant"},
    # a random model's own preference says nothing: the quick demo reports the implicit reward
    # against the untrained model (before = a tie by construction), as the tiny demo always did
    "evaluate": {"max_new_tokens": 24, "margin": "implicit"},
    "report": {"title": "pluralign demo --quick (simulated assembly, tiny random model)"},
}
"""What ``demo --quick`` sets on top: the tiny random model, trained with its own settings."""


def demo_config(out: Path, seed: int = 0, objective: str | None = None, quick: bool = False,
                rounds: int | None = None):
    """The demo's :class:`~pluralign.run.config.PipelineConfig`: the pipeline on a simulation.
    ``objective``: the training objective (``weighted``, the default, or ``group-robust``,
    docs/training.md); ``quick``: with the tiny random model; ``rounds``: rounds of iterative
    bootstrapping (docs/rounds.md: rounds after the first synthesise with the previous model)."""
    from pluralign.run.config import parse_pipeline_config, with_rounds

    data = {**DEMO_OVERRIDES, **(QUICK_OVERRIDES if quick else {}), "run_dir": str(out),
            "seed": seed}
    if objective is not None:
        data["train"] = {**data.get("train", {}), "objective": objective}
    return with_rounds(parse_pipeline_config(data, source="demo settings"), rounds)


def run_demo(out: Path, *, seed: int = 0, from_stage: str | None = None,
             progress=None, objective: str | None = None, quick: bool = False,
             rounds: int | None = None, on_round=None) -> PipelineResult:
    """Run the demo into ``out``; returns the :class:`~pluralign.run.pipeline.PipelineResult`."""
    from pluralign.run.pipeline import run_pipeline

    return run_pipeline(demo_config(Path(out), seed, objective, quick, rounds),
                        from_stage=from_stage, progress=progress, on_round=on_round)
