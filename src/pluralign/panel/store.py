"""Saving a selection into the store (tables ``panel`` and ``panel_member``)."""

from __future__ import annotations

import numpy as np

from pluralign.errors import NotFoundError


def save_panel(
    store,
    result,
    *,
    name: str,
    weights: dict[str, float] | None = None,
    assembly: str | None = None,
    report: dict | None = None,
) -> int:
    """Store ``result`` as one :class:`~pluralign.store.models.Panel` with a
    :class:`~pluralign.store.models.PanelMember` per pool member (probability, weight, drawn or
    not), in one transaction. ``weights`` maps drawn ids to soft weights (others get 1.0);
    ``assembly`` is an assembly slug to attach the panel to. Returns the new panel's id.
    """
    from sqlalchemy import select

    from pluralign.store.models import Assembly, Panel, PanelMember

    weights = weights or {}
    chosen = set(result.panel)
    with store.session() as s:
        assembly_id = None
        if assembly is not None:
            assembly_id = s.scalar(select(Assembly.id).where(Assembly.slug == assembly))
            if assembly_id is None:
                raise NotFoundError(
                    f"no assembly with slug {assembly!r}",
                    hint="list assemblies with: pluralign db list",
                )
        panel = Panel(
            assembly_id=assembly_id,
            name=name,
            method=result.method,
            size=result.k,
            seed=int(result.seed),
            report=report if report is not None else _jsonable(result.report()),
        )
        panel.members = [
            PanelMember(
                person=pid,
                probability=float(p),
                weight=float(weights.get(pid, 1.0)),
                selected=pid in chosen,
            )
            for pid, p in zip(result.ids, np.asarray(result.probabilities), strict=True)
        ]
        s.add(panel)
        s.flush()
        return int(panel.id)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
