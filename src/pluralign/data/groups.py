"""Group labels of preference rows by grouping name (``group``, ``opinion``, ``latent``,
``clause``, ``demographic:FEATURE``): one definition for training (the group-robust
objective's groups) and evaluation (per-group accuracy)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def group_labels(rows: Sequence[Mapping], grouping: str) -> list[str]:
    """Group label of each row for a grouping name: ``group`` (the pair's group column),
    ``opinion`` (``provenance.opinion_group``), ``latent`` (``provenance.latent_group``, the
    simulator's true group), ``clause`` (the constitution clause a synthesised pair tests:
    ``clause_id`` or ``provenance.clause_id``) or ``demographic:<feature>``
    (``provenance.demographics[feature]``). Missing values become ``"(missing)"``."""
    out = []
    for row in rows:
        prov = row.get("provenance") or {}
        if grouping == "group":
            value = row.get("group")
        elif grouping == "opinion":
            value = prov.get("opinion_group")
        elif grouping == "latent":
            value = prov.get("latent_group")
        elif grouping == "clause":
            value = row.get("clause_id") or prov.get("clause_id")
        elif grouping.startswith("demographic:"):
            value = (prov.get("demographics") or {}).get(grouping.split(":", 1)[1])
        else:
            raise ValueError(f"unknown grouping '{grouping}'")
        out.append("(missing)" if value in (None, "") else str(value))
    return out
