"""Steerable pluralism: condition the prompt on a group's view and measure each group's accuracy
steered vs unsteered.

Sorensen et al. 2024 (*A Roadmap to Pluralistic Alignment*, ICML, §2.2) call a model *steerably
pluralistic* when it can be steered to faithfully represent a given perspective. Here the
perspective is the respondent's group: a **steering line** naming the group's view is put before
the prompt,

    The person asking holds this view: <view>.
    <prompt>

and each group's held-out preference accuracy is measured twice with the same model: on the
plain prompts (*unsteered*) and with its own group's view before them (*steered*). The steering
gain (steered − unsteered) has a paired interval (the same resampled participants for both), as
before/after in :mod:`pluralign.evaluate.run`, whose tables this reuses with *before* =
unsteered and *after* = steered.

A model can also be *trained* on steered prompts (``pluralign data steer``), so that it learns
to follow the view; evaluating that model steered is the group-conditioned result.

Views come from a YAML/JSON mapping ``{group: view text}``, or for simulated assemblies from the
statement bank's latent groups (``sim``: "<name>: <description>").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pluralign.errors import InputError

STEER_TEMPLATE = "The person asking holds this view: {view}"
SIM_VIEWS = "sim"


def simulator_views() -> dict[str, str]:
    """The simulator's latent groups' views (statement bank names and descriptions)."""
    from pluralign.simulate.bank import load_bank

    return {
        g.id: f"{g.name}: {g.description}".rstrip(": ").rstrip(".") + "."
        for g in load_bank().groups
    }


def load_views(source: str | Path | Mapping[str, str]) -> dict[str, str]:
    """Views from a mapping, a YAML/JSON file ``{group: text}``, or ``"sim"``."""
    if isinstance(source, Mapping):
        views, where = dict(source), "views"
    elif str(source) == SIM_VIEWS:
        return simulator_views()
    else:
        from pluralign.io import read_yaml

        path = Path(source)
        if not path.is_file():
            raise InputError(
                "views file not found",
                where=str(path),
                hint="a YAML mapping {group: view text}, or 'sim'",
            )
        views, where = read_yaml(path, what="views"), str(path)
    if not isinstance(views, dict) or not views:
        raise InputError("expected a mapping {group: view text}", where=where)
    out = {}
    for group, text in views.items():
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"the view of group '{group}' must be a non-empty text", where=where)
        out[str(group)] = " ".join(text.split())
    return out


def steer_prompt(prompt: str, view: str) -> str:
    """The prompt with the steering line before it."""
    return STEER_TEMPLATE.format(view=view) + "\n" + prompt


def steer_rows(
    rows: Sequence[Mapping[str, Any]], views: Mapping[str, str], grouping: str
) -> list[dict[str, Any]]:
    """Copies of ``rows`` whose prompt carries the view of the row's group under ``grouping``
    (``group``, ``latent``, ``opinion``, ``demographic:F`` …); ``provenance.steered`` records
    the group. A group without a view is an error naming it."""
    from pluralign.evaluate.metrics import group_labels

    labels = group_labels(rows, grouping)
    missing = sorted({g for g in labels if g not in views})
    if missing:
        raise InputError(
            f"no view for group(s) {', '.join(missing)} (grouping '{grouping}')",
            hint=f"the views name {', '.join(sorted(views))}",
        )
    out = []
    for row, label in zip(rows, labels, strict=True):
        prov = dict(row.get("provenance") or {})
        prov["steered"] = {"grouping": grouping, "group": label}
        out.append({**row, "prompt": steer_prompt(row["prompt"], views[label]), "provenance": prov})
    return out


def evaluate_steering(
    model_dir: str | Path,
    rows: Sequence[Mapping[str, Any]],
    views: Mapping[str, str],
    grouping: str,
    *,
    ref_dir: str | Path | None = None,
    beta: float = 0.1,
    **kwargs: Any,
):
    """Each group's accuracy unsteered (*before*) and steered by its own view (*after*) with the
    same model: the model's own preference β·[log π(y_w|x) − log π(y_l|x)], or with ``ref_dir``
    the implicit reward against that reference (the reference scored on the same prompt,
    steered or not). Returns an :class:`~pluralign.evaluate.run.EvaluationResult`."""
    import numpy as np

    from pluralign.evaluate.run import evaluate_margins
    from pluralign.train import pair_logps

    steered = steer_rows(rows, views, grouping)

    def margins(data):
        # simulated panels repeat the same pair a lot: score each distinct one once
        index: dict[tuple, int] = {}
        where = [
            index.setdefault((r["prompt"], r["chosen"], r["rejected"]), len(index)) for r in data
        ]
        uniq = [{"prompt": k[0], "chosen": k[1], "rejected": k[2]} for k in index]
        chosen, rejected = pair_logps(str(model_dir), uniq)
        m = np.asarray(chosen) - np.asarray(rejected)
        if ref_dir is not None:
            rc, rr = pair_logps(str(ref_dir), uniq)
            m = m - (np.asarray(rc) - np.asarray(rr))
        return beta * m[np.asarray(where, dtype=int)]

    groupings = kwargs.pop("groupings", None) or [grouping]
    return evaluate_margins(rows, margins(rows), margins(steered), groupings=groupings, **kwargs)
