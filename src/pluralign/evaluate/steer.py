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

from pluralign.data.steer import steer_rows


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
