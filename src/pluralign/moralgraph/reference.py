"""A plain per-edge Python transcription of the published moral-graph summary.

It walks the edges one by one with dictionaries, the way Democratic Fine-Tuning's ``summarizeGraph``
does, and computes PageRank by looping over edges. It is slow on purpose-free grounds (no numpy) and
exists as a test oracle for :func:`pluralign.moralgraph.summary.summarize` and as the peer of
``benchmarks/moral_graph.py``. Definitions: see :mod:`pluralign.moralgraph.summary`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from pluralign.moralgraph.summary import COUNT_FIELDS, GraphSummarySettings
from pluralign.moralgraph.types import Edge, ValueId


def entropy(counts: dict[str, int]) -> float:
    total = sum(counts.values())
    h = 0.0
    for c in counts.values():
        p = c / total if total else 0.0
        if p > 0:
            h -= p * math.log2(p)
    return h


def summarize_pairs(edges: Iterable[Edge], config: GraphSummarySettings | None = None) -> dict:
    """Pairs as ``{(a, b): {"contexts", "counts", "wiserLikelihood", "entropy", "included"}}``."""
    config = config or GraphSummarySettings()
    edges = list(edges)
    pairs: dict[tuple[ValueId, ValueId], dict] = {}

    def get(a, b):
        if (a, b) not in pairs:
            pairs[(a, b)] = {"contexts": [], "counts": dict.fromkeys(COUNT_FIELDS, 0)}
        return pairs[(a, b)]

    for e in edges:
        p = get(e.from_id, e.to_id)
        p["contexts"].append(e.context)
        p["counts"]["impressions"] += 1
        if e.relationship == "upgrade":
            p["counts"]["markedWiser"] += 1
        elif e.relationship == "no_upgrade":
            p["counts"]["markedNotWiser"] += 1
        elif e.relationship == "not_sure":
            p["counts"]["markedUnsure"] += 1
    for e in edges:
        p = get(e.to_id, e.from_id)
        p["contexts"].append(e.context)
        p["counts"]["impressions"] += 1
        if e.relationship == "upgrade":
            p["counts"]["markedLessWise"] += 1
    for p in pairs.values():
        c = p["counts"]
        p["contexts"] = list(dict.fromkeys(p["contexts"]))
        total = c["markedWiser"] + c["markedNotWiser"] + c["markedUnsure"] + c["markedLessWise"]
        p["wiserLikelihood"] = (c["markedWiser"] - c["markedLessWise"]) / total if total else 0.0
        p["entropy"] = entropy(c)
        p["included"] = bool(
            c["markedWiser"]
            and p["wiserLikelihood"] >= config.min_wiser_likelihood
            and p["entropy"] <= config.max_entropy
            and c["markedWiser"] >= config.min_marked_wiser
        )
    return pairs


def pagerank(edges: list[tuple[ValueId, ValueId, float]], damping: float = 0.85,
             iterations: int = 100) -> dict[ValueId, float]:
    """Weighted PageRank over ``(source, wiser, weight)`` edges, one edge at a time."""
    nodes = list(dict.fromkeys(v for s, t, _ in edges for v in (s, t)))
    out: dict[ValueId, float] = {}
    for s, _, w in edges:
        out[s] = out.get(s, 0.0) + w
    rank = {v: 1 / len(nodes) for v in nodes}
    for _ in range(iterations):
        new = {v: (1 - damping) / len(nodes) for v in nodes}
        for s, t, w in edges:
            if out[s] > 0:
                new[t] += damping * rank[s] * w / out[s]
        rank = new
    return rank


def summarize_graph(edges: Iterable[Edge], config: GraphSummarySettings | None = None) -> dict:
    """Pooled and per-context pairs, PageRank and winners, as plain dicts."""
    config = config or GraphSummarySettings()
    edges = list(edges)

    def graph(subset):
        pairs = summarize_pairs(subset, config)
        inc = [(a, b, p["wiserLikelihood"]) for (a, b), p in pairs.items() if p["included"]]
        return pairs, pagerank(inc, config.damping, config.iterations)

    pooled_pairs, pooled_rank = graph(edges)
    contexts = list(dict.fromkeys(e.context for e in edges))
    per_context = {}
    for c in contexts:
        pairs, rank = graph([e for e in edges if e.context == c])
        best = sorted(rank.items(), key=lambda kv: (-kv[1], (isinstance(kv[0], str), kv[0])))
        per_context[c] = {"pairs": pairs, "pageRank": rank,
                          "winner": best[0][0] if best else None}
    return {"pairs": pooled_pairs, "pageRank": pooled_rank, "contexts": per_context}
