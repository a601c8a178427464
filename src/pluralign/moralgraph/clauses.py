"""From moral graph to constitution: the winning value of each context becomes a clause.

Democratic Fine-Tuning guides a model with the wisest values per context (Klingefjord, Lowe &
Edelman 2024). Each clause states, for one context, the value with the highest PageRank in that
context's graph, and carries the graph as provenance: the value card and its sources, its PageRank
and margin over the runner-up, the included edges that point to it (who judged it wiser than what,
with their counts), and the summary settings. Clauses are plain frozen dataclasses (``as_dict``
for JSON); :func:`to_constitution` turns them into a ``pluralign.constitution.Constitution`` (or
appends them to one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from pluralign.moralgraph.summary import COUNT_FIELDS, MoralGraph
from pluralign.moralgraph.types import Context, ValueId


@dataclass(frozen=True)
class ValueClause:
    """A constitution clause derived from the moral graph, with its provenance."""

    id: str
    context: str
    text: str
    value_id: ValueId
    title: str
    policies: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["policies"] = list(self.policies)
        return data


def clause_text(context: str, title: str, description: str, policies: Sequence[str]) -> str:
    """``"<context>, the assistant is guided by “<title>”: <description> It attends to: …"``."""
    text = f"{context.rstrip('.')}, the assistant is guided by “{title}”"
    if description:
        text += f": {description.strip()}"
        if not text.endswith("."):
            text += "."
    else:
        text += "."
    if policies:
        text += " It attends to: " + "; ".join(p.strip() for p in policies) + "."
    return text


def clauses_from_graph(graph: MoralGraph,
                       contexts: Mapping[str, str] | Sequence[Context] | None = None,
                       *, min_margin: float = 0.0) -> list[ValueClause]:
    """One clause per context whose graph has a winner (contexts without edges are skipped).

    ``contexts`` maps context ids to the wording used in the clause (default: the id itself).
    ``min_margin`` skips contexts whose winner leads the runner-up by less than this PageRank.
    """
    if contexts is None:
        wording: dict[str, str] = {}
    elif isinstance(contexts, Mapping):
        wording = dict(contexts)
    else:
        wording = {c.id: c.description or c.id for c in contexts}
    out = []
    for ctx, winner in graph.winners.items():
        if winner is None:
            continue
        ranking = graph.ranking(ctx)
        rank = graph.context_page_rank[ctx][winner]
        runner_up = ranking[1] if len(ranking) > 1 else None
        margin = rank - (runner_up[1] if runner_up else 0.0)
        if margin < min_margin:
            continue
        card = graph.values.get(winner)
        title = card.title if card else str(winner)
        description = card.description if card else ""
        policies = card.policies if card else ()
        edges = graph.context_edges(ctx)
        incoming = edges[edges["wiser"] == winner]
        context_pairs = graph.context_pairs[graph.context_pairs["context"] == ctx]
        provenance = {
            "source": "moral_graph",
            "context": ctx,
            "value": {"id": winner, "title": title,
                      "sources": list(card.sources) if card else []},
            "pageRank": rank,
            "runnerUp": ({"id": runner_up[0], "pageRank": runner_up[1]} if runner_up else None),
            "margin": margin,
            "ranking": [{"id": v, "pageRank": r} for v, r in ranking],
            "wiserThan": [
                {"sourceValueId": row["source"],
                 **{f: int(row[f]) for f in COUNT_FIELDS},
                 "wiserLikelihood": float(row["wiserLikelihood"]),
                 "entropy": float(row["entropy"])}
                for _, row in incoming.iterrows()
            ],
            "votesInContext": int(context_pairs["impressions"].sum() // 2),
            "settings": graph.config.as_dict(),
        }
        out.append(ValueClause(
            id=f"moral-graph:{ctx}:{winner}", context=ctx,
            text=clause_text(wording.get(ctx, ctx), title, description, policies),
            value_id=winner, title=title, policies=tuple(policies), provenance=provenance,
        ))
    return out


def to_constitution(clauses: Sequence[ValueClause], title: str = "Values from the moral graph",
                    base=None, provenance: Mapping[str, Any] | None = None):
    """A ``pluralign.constitution.Constitution`` holding the clauses (appended to ``base`` if
    given). Its clause type carries Polis-statement evidence only, so these clauses have no
    statements; their moral-graph provenance goes under ``provenance["moral_graph"]`` keyed by
    clause id (kept by the constitution's YAML round trip)."""
    from pluralign.constitution import Clause, Constitution

    existing = tuple(base.clauses) if base is not None else ()
    taken = {c.id for c in existing}
    dupes = [c.id for c in clauses if c.id in taken]
    if dupes:
        from pluralign.errors import InputError

        raise InputError(f"clause id(s) already in the constitution: {', '.join(dupes)}")
    meta = dict(base.provenance) if base is not None else {}
    graph_meta = dict(meta.get("moral_graph") or {})
    graph_meta.update(dict(provenance or {}))
    graph_meta["clauses"] = {**graph_meta.get("clauses", {}),
                             **{c.id: c.provenance for c in clauses}}
    meta["moral_graph"] = graph_meta
    new = tuple(Clause(id=c.id, text=c.text, evidence=()) for c in clauses)
    return Constitution(title=base.title if base is not None else title,
                        clauses=existing + new, provenance=meta)
