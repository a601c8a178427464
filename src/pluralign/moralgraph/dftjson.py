"""Import and export of the Democratic Fine-Tuning moral-graph JSON.

The format (Meaning Alignment Institute, ``MoralGraph`` in moral-graph-elicitation
``app/lib/values-tools/types.ts``; ``MoralGraphSummary`` in dft ``app/values-tools``)::

    {"values": [{"id": 1, "title": "...", "description": "...", "policies": ["..."],
                 "pageRank": 0.12, ...}],
     "edges":  [{"sourceValueId": 1, "wiserValueId": 2, "contexts": ["..."],
                 "counts": {"markedWiser": 3, "markedNotWiser": 1, "markedLessWise": 0,
                            "markedUnsure": 0, "impressions": 4},
                 "summary": {"wiserLikelihood": 0.75, "entropy": 1.41}}],
     "allEdges": [...optional, every pair before trimming...]}

``values`` lists only the values on included edges. Older DFT files name the card fields
``instructionsShort`` / ``instructionsDetailed`` / ``evaluationCriteria`` and may carry ``votes``;
they are read into the card (``description`` / ``policies``) and every field we do not model is kept
in ``ValuesCard.extra`` and written back, so import → export returns the same JSON. pluralign adds a
``pluralign`` key with the settings, the per-context graphs and winners, and provenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pluralign.errors import InputError
from pluralign.io import read_json, write_json_atomic
from pluralign.moralgraph.summary import (
    COUNT_FIELDS,
    GraphSummarySettings,
    MoralGraph,
    entropy_bits,
)
from pluralign.moralgraph.types import ValueId, ValuesCard

_CARD_KEYS = ("id", "title", "description", "policies", "pageRank")


@dataclass(frozen=True)
class GraphEdge:
    """One pair of the exported graph: counts and summary, as in the published JSON."""

    source: ValueId
    wiser: ValueId
    contexts: tuple[str, ...]
    counts: tuple[int, int, int, int, int]  # COUNT_FIELDS order
    wiser_likelihood: float
    entropy: float
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def count(self, name: str) -> int:
        return self.counts[COUNT_FIELDS.index(name)]


@dataclass(frozen=True)
class GraphDocument:
    """The content of a moral-graph JSON file."""

    values: tuple[ValuesCard, ...]
    page_rank: dict[ValueId, float]
    edges: tuple[GraphEdge, ...]
    all_edges: tuple[GraphEdge, ...] | None = None
    pluralign: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def winners(self) -> dict[str, ValueId | None]:
        """Winning value per context, when the file carries pluralign's per-context graphs."""
        ctx = (self.pluralign or {}).get("contexts", [])
        return {c["id"]: c.get("winner") for c in ctx}


# ---------------------------------------------------------------- graph → document → JSON


def _edges_from_frame(frame: pd.DataFrame, contexts: tuple[str, ...] | None = None):
    out = []
    cols = [frame[c].to_numpy() for c in ("source", "wiser", *COUNT_FIELDS,
                                           "wiserLikelihood", "entropy")]
    ctxs = frame["contexts"].to_numpy() if "contexts" in frame.columns else None
    for i in range(len(frame)):
        out.append(GraphEdge(
            source=cols[0][i], wiser=cols[1][i],
            contexts=tuple(ctxs[i]) if ctxs is not None else (contexts or ()),
            counts=tuple(int(cols[2 + k][i]) for k in range(5)),
            wiser_likelihood=float(cols[7][i]), entropy=float(cols[8][i]),
        ))
    return tuple(out)


def to_document(graph: MoralGraph, *, all_edges: bool = False,
                provenance: dict[str, Any] | None = None) -> GraphDocument:
    """The exportable document of a summarised graph (values on included edges, with PageRank)."""
    edges = _edges_from_frame(graph.edges)
    referenced = list(dict.fromkeys(v for e in edges for v in (e.source, e.wiser)))
    values = tuple(graph.values.get(v) or ValuesCard(id=v, title="") for v in referenced)
    contexts = []
    for c in graph.contexts:
        ce = graph.context_edges(c)
        contexts.append({
            "id": c,
            "winner": graph.winners[c],
            "pageRank": [{"id": v, "pageRank": r} for v, r in graph.ranking(c)],
            "edges": [_edge_json(e) for e in _edges_from_frame(ce, (c,))],
        })
    meta = {"settings": graph.config.as_dict(), "edgeCount": graph.n_edges,
            "contexts": contexts}
    if provenance:
        meta["provenance"] = provenance
    return GraphDocument(
        values=values, page_rank=dict(graph.page_rank), edges=edges,
        all_edges=_edges_from_frame(graph.pairs) if all_edges else None, pluralign=meta,
    )


def _edge_json(e: GraphEdge) -> dict[str, Any]:
    data = {
        "sourceValueId": e.source, "wiserValueId": e.wiser, "contexts": list(e.contexts),
        "counts": dict(zip(COUNT_FIELDS, e.counts, strict=True)),
        "summary": {"wiserLikelihood": e.wiser_likelihood, "entropy": e.entropy},
    }
    for key, val in e.extra.items():
        if key == "summary":
            data["summary"].update(val)
        elif key == "counts":
            data["counts"].update(val)
        else:
            data[key] = val
    return data


def _card_json(card: ValuesCard, page_rank: float | None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": card.id, "title": card.title}
    if "description" not in card.extra.get("_absent", ()):
        data["description"] = card.description
    if "policies" not in card.extra.get("_absent", ()):
        data["policies"] = list(card.policies)
    data.update({k: v for k, v in card.extra.items() if k != "_absent"})
    if page_rank is not None:
        data["pageRank"] = page_rank
    return data


def document_to_json(doc: GraphDocument) -> dict[str, Any]:
    """The JSON object of a document."""
    data: dict[str, Any] = {
        "values": [_card_json(v, doc.page_rank.get(v.id)) for v in doc.values],
        "edges": [_edge_json(e) for e in doc.edges],
    }
    if doc.all_edges is not None:
        data["allEdges"] = [_edge_json(e) for e in doc.all_edges]
    data.update(doc.extra)
    if doc.pluralign is not None:
        data["pluralign"] = doc.pluralign
    return data


def write_graph_json(doc: GraphDocument, path: str | Path) -> None:
    """Write a document atomically (temp file, then rename)."""
    write_json_atomic(path, document_to_json(doc), indent=1)


# ---------------------------------------------------------------- JSON → document


def _value_id(value: Any, where: str, field: str) -> ValueId:
    """A value id as the published JSON writes it: an integer or a non-empty string."""
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise InputError(f"'{field}' must be an integer or a text id, not {value!r}", where=where)
    return value


def _finite(value: Any, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"'{field}' must be a number, not {value!r}", where=where)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(f"'{field}' must be a finite number, not {value!r}", where=where)
    return number


def _card_from_json(data: dict[str, Any], where: str) -> tuple[ValuesCard, float | None]:
    if not isinstance(data, dict) or "id" not in data:
        raise InputError("a value needs an 'id'", where=where)
    _value_id(data["id"], where, "id")
    extra = {k: v for k, v in data.items() if k not in _CARD_KEYS}
    absent = [k for k in ("description", "policies") if k not in data]
    if absent:
        extra["_absent"] = absent
    policies = data.get("policies", data.get("evaluationCriteria", []))
    if not isinstance(policies, list) or not all(isinstance(p, str) for p in policies):
        raise InputError("'policies' must be a list of strings", where=where)
    card = ValuesCard(
        id=data["id"], title=str(data.get("title", "")),
        description=str(data.get("description", data.get("instructionsShort", ""))),
        policies=tuple(policies), extra=extra,
    )
    rank = data.get("pageRank")
    if rank is not None:
        rank = _finite(rank, where, "pageRank")
        if rank < 0:
            raise InputError(f"'pageRank' must be >= 0, not {rank!r}", where=where)
    return card, rank


def _edge_from_json(data: dict[str, Any], where: str) -> GraphEdge:
    try:
        if not isinstance(data, dict):
            raise TypeError("an edge must be a JSON object")
        for key in ("sourceValueId", "wiserValueId", "counts", "summary"):
            data[key]  # noqa: B018 - raise KeyError naming the first missing field
        counts = data["counts"]
        summary = data["summary"]
        for k in COUNT_FIELDS:
            n = counts[k]
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise InputError(f"'counts.{k}' must be a whole number >= 0, not {n!r}",
                                 where=where)
        edge = GraphEdge(
            source=_value_id(data["sourceValueId"], where, "sourceValueId"),
            wiser=_value_id(data["wiserValueId"], where, "wiserValueId"),
            contexts=tuple(data.get("contexts", [])),
            counts=tuple(int(counts[k]) for k in COUNT_FIELDS),
            wiser_likelihood=_finite(summary["wiserLikelihood"], where,
                                     "summary.wiserLikelihood"),
            entropy=_finite(summary["entropy"], where, "summary.entropy"),
            extra={
                **{k: v for k, v in data.items()
                   if k not in ("sourceValueId", "wiserValueId", "contexts", "counts", "summary")},
                **({"summary": {k: v for k, v in summary.items()
                                if k not in ("wiserLikelihood", "entropy")}}
                   if set(summary) - {"wiserLikelihood", "entropy"} else {}),
                **({"counts": {k: v for k, v in counts.items() if k not in COUNT_FIELDS}}
                   if set(counts) - set(COUNT_FIELDS) else {}),
            },
        )
    except KeyError as exc:
        raise InputError(f"an edge lacks the field {exc.args[0]!r}", where=where,
                         hint="edges need sourceValueId, wiserValueId, counts "
                              f"({', '.join(COUNT_FIELDS)}) and summary") from exc
    except (TypeError, ValueError) as exc:
        raise InputError(f"an edge has a malformed field ({exc})", where=where) from exc
    return edge


def document_from_json(data: Any, source: str = "<json>") -> GraphDocument:
    """Parse a moral-graph JSON object (raises :class:`InputError` naming the bad element)."""
    if not isinstance(data, dict) or "values" not in data or "edges" not in data:
        raise InputError("not a moral-graph JSON object: it needs 'values' and 'edges'",
                         where=source)
    for key in ("values", "edges", "allEdges"):
        if key in data and not isinstance(data[key], list):
            raise InputError(f"'{key}' must be a list", where=source)
    values, ranks, first = [], {}, {}
    for i, v in enumerate(data["values"]):
        card, rank = _card_from_json(v, f"{source}: values[{i}]")
        if card.id in first:
            raise InputError(
                f"value id {card.id!r} is used twice (first by values[{first[card.id]}])",
                where=f"{source}: values[{i}]", hint="value ids must be unique")
        first[card.id] = i
        values.append(card)
        if rank is not None:
            ranks[card.id] = rank
    edges = tuple(_edge_from_json(e, f"{source}: edges[{i}]") for i, e in enumerate(data["edges"]))
    if values:  # the graph's edges join its values (allEdges may reach values it trimmed)
        for i, e in enumerate(edges):
            for field_name, vid in (("sourceValueId", e.source), ("wiserValueId", e.wiser)):
                if vid not in first:
                    raise InputError(f"{field_name} {vid!r} is not a value of this graph",
                                     where=f"{source}: edges[{i}]",
                                     hint="every edge must join two entries of 'values'")
    all_edges = None
    if "allEdges" in data:
        all_edges = tuple(_edge_from_json(e, f"{source}: allEdges[{i}]")
                          for i, e in enumerate(data["allEdges"]))
    extra = {k: v for k, v in data.items() if k not in ("values", "edges", "allEdges", "pluralign")}
    return GraphDocument(values=tuple(values), page_rank=ranks, edges=edges, all_edges=all_edges,
                         pluralign=data.get("pluralign"), extra=extra)


def read_graph_json(path: str | Path) -> GraphDocument:
    """Read a moral-graph JSON file."""
    path = Path(path)
    return document_from_json(read_json(path), str(path))


def check_document(doc: GraphDocument, config: GraphSummarySettings | None = None,
                   tol: float = 1e-9) -> list[str]:
    """Recompute each edge's summary and inclusion from its counts; list the disagreements.

    An empty list means the file is consistent with the published definitions (for the given
    thresholds; a graph exported with ``markedWiserThreshold: 0`` needs ``min_marked_wiser=0``).
    """
    config = config or GraphSummarySettings()
    problems = []
    for e in doc.edges:
        w, n, lw, u, _ = e.counts
        total = w + n + lw + u
        like = (w - lw) / total if total else 0.0
        ent = float(entropy_bits([list(e.counts)])[0])
        name = f"edge {e.source!r} → {e.wiser!r}"
        if not math.isclose(like, e.wiser_likelihood, abs_tol=tol):
            problems.append(f"{name}: wiserLikelihood {e.wiser_likelihood} ≠ {like}")
        if not math.isclose(ent, e.entropy, abs_tol=tol):
            problems.append(f"{name}: entropy {e.entropy} ≠ {ent}")
        if not (w > 0 and like >= config.min_wiser_likelihood and ent <= config.max_entropy
                and w >= config.min_marked_wiser):
            problems.append(f"{name}: would not pass the inclusion thresholds")
    return problems
