"""The ``evaluate`` stage of ``pluralign demo``: per-group accuracy of the trained model.

Reads ``data/heldout.jsonl``, the trained model and its reference (settings ``model`` and ``ref``,
paths relative to the run folder; defaults ``train/model`` and ``train/base``) and writes
``evaluate/metrics.json`` (docs/evaluation.md).
"""

from __future__ import annotations

from typing import Any

EVALUATE_SETTINGS: dict[str, Any] = {
    "model": "train/model",
    "ref": "train/base",
    "beta": 0.1,
    "n_boot": 1000,
    "alpha": 0.05,
}


def stage_evaluate(ctx) -> None:
    """Held-out preference accuracy per group before and after training, with intervals."""
    from pluralign.data.preferences import make_provenance, read_jsonl
    from pluralign.errors import InputError
    from pluralign.evaluate.run import evaluate_models
    from pluralign.io import atomic_write_text

    settings = {**EVALUATE_SETTINGS, **ctx.settings}
    data = ctx.stage_dir("data") / "heldout.jsonl"
    model, ref = ctx.run_dir / settings["model"], ctx.run_dir / settings["ref"]
    for path in (model, ref):
        if not path.is_dir():
            raise InputError(
                "model folder not found", where=str(path), hint="the train stage must run first"
            )
    rows = [p.to_dict() for p in read_jsonl(data).pairs]
    prov = make_provenance(
        "evaluate",
        inputs={"data": data},
        seed=ctx.seed,
        settings={k: settings[k] for k in ("model", "ref", "beta")},
    )
    result = evaluate_models(
        model,
        ref,
        rows,
        beta=settings["beta"],
        n_boot=settings["n_boot"],
        alpha=settings["alpha"],
        seed=ctx.seed,
        provenance=prov,
    )
    atomic_write_text(ctx.out / "metrics.json", result.to_json())
    ctx.shared["evaluation"] = result
