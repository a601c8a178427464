"""The ``data`` stage of ``pluralign demo``: preference pairs from the simulated assembly.

Reads ``simulate/`` (and, when those stages ran, ``panel/panel.csv`` for the panel and its soft
weights, and ``aggregate/groups.csv`` for the opinion groups); writes ``data/train.jsonl`` and
``data/heldout.jsonl`` with their provenance sidecars. Settings (:data:`PREFS_SETTINGS`):
``weighting`` (``auto``: ``soft`` when the panel file has a weight column, else ``hard``),
``templates``, ``heldout_fraction``, ``prompts_per_member``.
"""

from __future__ import annotations

from typing import Any

PREFS_SETTINGS: dict[str, Any] = {
    "weighting": "auto",
    "templates": "all",
    "heldout_fraction": 0.3,
    "prompts_per_member": None,
}


def stage_prefs(ctx) -> None:
    """Each panel member's choices between responses for and against statements → pairs."""
    from pluralign.data.prefsets import write_sim_preferences

    settings = {**PREFS_SETTINGS, **ctx.settings}
    panel = ctx.stage_dir("panel") / "panel.csv"
    panel = panel if panel.is_file() else None
    groups = ctx.stage_dir("aggregate") / "groups.csv"
    groups = groups if groups.is_file() else None
    weighting = settings["weighting"]
    if weighting == "auto":
        header = panel.read_text(encoding="utf-8").split("\n", 1)[0] if panel else ""
        weighting = "soft" if "weight" in header.split(",") else "hard"
    files = write_sim_preferences(
        ctx.stage_dir("simulate"),
        ctx.out / "train.jsonl",
        ctx.out / "heldout.jsonl",
        weighting=weighting,
        panel=panel,
        groups=groups,
        templates=settings["templates"],
        heldout_fraction=settings["heldout_fraction"],
        prompts_per_member=settings["prompts_per_member"],
        seed=ctx.seed,
    )
    ctx.shared["preferences"] = files
