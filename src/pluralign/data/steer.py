"""Steering lines: a preference row's prompt with a line naming its group's view before it
(steerable pluralism, Sorensen et al. 2024; docs/evaluation.md). ``pluralign data steer`` writes
such rows for training; :func:`pluralign.evaluate.steer.evaluate_steering` measures a model with
and without them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pluralign.errors import InputError

STEER_TEMPLATE = "The person asking holds this view: {view}"
SIM_VIEWS = "sim"


def load_views(source: str | Path | Mapping[str, str]) -> dict[str, str]:
    """Views from a mapping, a YAML/JSON file ``{group: text}``, or ``"sim"``."""
    if isinstance(source, Mapping):
        views, where = dict(source), "views"
    elif str(source) == SIM_VIEWS:
        from pluralign.data.simprefs import simulator_views

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
    from pluralign.data.groups import group_labels

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
