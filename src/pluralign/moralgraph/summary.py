"""The moral-graph summary, per Democratic Fine-Tuning's published definitions.

Reference: Klingefjord, Lowe & Edelman (2024), "What are human values, and how do we align AI to
them?" (arXiv:2404.10636), and the summary code of the Meaning Alignment Institute
(``summarizeGraph`` / ``calculatePageRank`` in github.com/meaningalignment/dft,
``app/values-tools/generate-moral-graph.ts``, and moral-graph-elicitation,
``app/lib/values-tools/moral-graph.ts``). This is an independent, vectorised implementation of the
same definitions; :mod:`pluralign.moralgraph.reference` is a plain per-edge transcription used as a
test oracle and benchmark peer.

For every edge ``e = (participant, a → b, context c, relationship r)``:

* the ordered pair ``(a, b)`` gets ``c`` in its contexts, ``impressions += 1``, and
  ``markedWiser``/``markedNotWiser``/``markedUnsure += 1`` when ``r`` is
  ``upgrade``/``no_upgrade``/``not_sure``;
* the reverse pair ``(b, a)`` gets ``c`` in its contexts, ``impressions += 1``, and
  ``markedLessWise += 1`` when ``r`` is ``upgrade``.

Then for each pair, with ``W, N, U, L, I`` those five counts:

* ``wiserLikelihood = (W − L) / (W + N + U + L)`` (0 when the denominator is 0);
* ``entropy = −Σ p log2 p`` over the five counts *including impressions*
  (``p = count / (W+N+U+L+I)``), exactly as the published ``calculateEntropy(edge.counts)``;
* the pair is an edge of the graph when ``W > 0``, ``wiserLikelihood ≥ 0.33``,
  ``entropy ≤ 1.69`` and ``W ≥ 2`` (the thresholds of :class:`GraphSummarySettings`);
* weighted PageRank over the included edges (nodes = their endpoints, weight = wiserLikelihood,
  damping 0.85, 100 synchronous iterations from ``1/n``, no redistribution of dangling mass):
  ``PR'(v) = (1 − d)/n + Σ_{(u→v)} d · PR(u) · w(u→v) / Σ_{(u→x)} w(u→x)``.

The graph *per context* is the same summary over the edges of that context only (as their graph API
does when filtered by ``contextId``); the **winning value** of a context is the value with the
highest PageRank in that context's graph (ties: the first value id in sorted order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pluralign.moralgraph.settings import GraphSummarySettings
from pluralign.moralgraph.types import RELATIONSHIPS, Edge, ValueId, ValuesCard

COUNT_FIELDS = ("markedWiser", "markedNotWiser", "markedLessWise", "markedUnsure", "impressions")
EDGE_COLUMNS = ("participant", "from_id", "to_id", "context", "relationship")


def entropy_bits(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of non-negative ``counts`` (0 for an all-zero row)."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(total > 0, counts / np.where(total > 0, total, 1.0), 0.0)
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def wiser_likelihood(wiser, not_wiser, less_wise, unsure) -> np.ndarray:
    """``(W − L) / (W + N + U + L)``, 0 where no votes (the reverse pair of a non-upgrade vote)."""
    w, n, lw, u = (np.asarray(x, dtype=float) for x in (wiser, not_wiser, less_wise, unsure))
    total = w + n + lw + u
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (w - lw) / np.where(total > 0, total, 1.0), 0.0)


def edges_frame(edges: Iterable[Edge] | pd.DataFrame) -> pd.DataFrame:
    """Edges as a DataFrame with columns ``participant, from_id, to_id, context, relationship``."""
    if isinstance(edges, pd.DataFrame):
        missing = [c for c in EDGE_COLUMNS if c not in edges.columns]
        if missing:
            raise ValueError(f"edge frame lacks columns {missing}")
        bad = ~edges["relationship"].isin(RELATIONSHIPS)
        if bad.any():
            raise ValueError(
                f"relationship {edges['relationship'][bad].iloc[0]!r} is not one of {RELATIONSHIPS}"
            )
        return edges
    rows = [(e.participant, e.from_id, e.to_id, e.context, e.relationship) for e in edges]
    return pd.DataFrame(rows, columns=list(EDGE_COLUMNS))


@dataclass(frozen=True)
class _Pairs:
    group: np.ndarray
    source: np.ndarray
    wiser: np.ndarray
    counts: np.ndarray  # (pairs, 5) in COUNT_FIELDS order
    likelihood: np.ndarray
    entropy: np.ndarray
    included: np.ndarray


def _pair_counts(src, dst, rel, grp, n_values: int, config: GraphSummarySettings) -> _Pairs:
    """Counts for every (group, ordered pair) touched by an edge, forward and reverse."""
    nv = np.int64(max(n_values, 1))
    fwd = (grp.astype(np.int64) * nv + src) * nv + dst
    rev = (grp.astype(np.int64) * nv + dst) * nv + src
    keys, inverse = np.unique(np.concatenate([fwd, rev]), return_inverse=True)
    m = len(src)
    f_idx, r_idx = inverse[:m], inverse[m:]
    k = len(keys)
    counts = np.zeros((k, 5), dtype=np.int64)
    counts[:, 0] = np.bincount(f_idx[rel == 0], minlength=k)
    counts[:, 1] = np.bincount(f_idx[rel == 1], minlength=k)
    counts[:, 2] = np.bincount(r_idx[rel == 0], minlength=k)
    counts[:, 3] = np.bincount(f_idx[rel == 2], minlength=k)
    counts[:, 4] = np.bincount(f_idx, minlength=k) + np.bincount(r_idx, minlength=k)
    likelihood = wiser_likelihood(counts[:, 0], counts[:, 1], counts[:, 2], counts[:, 3])
    entropy = entropy_bits(counts)
    included = (
        (counts[:, 0] > 0)
        & ~(likelihood < config.min_wiser_likelihood)
        & ~(entropy > config.max_entropy)
        & ~(counts[:, 0] < config.min_marked_wiser)
    )
    return _Pairs(
        group=keys // (nv * nv), source=(keys // nv) % nv, wiser=keys % nv, counts=counts,
        likelihood=likelihood, entropy=entropy, included=included,
    )


def weighted_pagerank(
    group: np.ndarray, source: np.ndarray, wiser: np.ndarray, weight: np.ndarray,
    n_values: int, damping: float = 0.85, iterations: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted PageRank of each group's graph at once (one block-diagonal sparse matrix).

    Returns ``(node_group, node_value, rank)``. Nodes are the endpoints of the given edges; each
    group starts from ``1/n_g`` and iterates
    ``PR' = (1 − d)/n_g + d · Σ_{u→v} PR(u) · w(u→v) / W(u)`` with ``W(u)`` the total out-weight
    of ``u``; a source with ``W(u) ≤ 0`` passes nothing on, as in the published code.
    """
    from scipy import sparse

    nv = np.int64(max(n_values, 1))
    s_key = group.astype(np.int64) * nv + source
    t_key = group.astype(np.int64) * nv + wiser
    nodes, inverse = np.unique(np.concatenate([s_key, t_key]), return_inverse=True)
    n = len(nodes)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    s_node, t_node = inverse[: len(s_key)], inverse[len(s_key) :]
    node_group = nodes // nv
    _, group_index, group_size = np.unique(node_group, return_inverse=True, return_counts=True)
    size = group_size[group_index].astype(float)
    out = np.bincount(s_node, weights=weight, minlength=n)
    factor = np.where(out[s_node] > 0, weight / np.where(out[s_node] > 0, out[s_node], 1.0), 0.0)
    matrix = sparse.csr_matrix((damping * factor, (t_node, s_node)), shape=(n, n))
    rank = 1.0 / size
    base = (1.0 - damping) / size
    for _ in range(iterations):
        rank = base + matrix @ rank
    return node_group, nodes % nv, rank


@dataclass(frozen=True)
class MoralGraph:
    """A summarised moral graph: pooled over contexts, and per context.

    ``pairs`` has one row per ordered pair touched by an edge (pooled over all contexts) with
    ``source, wiser, contexts`` (tuple, in order of first appearance), the five counts,
    ``wiserLikelihood``, ``entropy`` and ``included``; ``context_pairs`` the same per ``context``.
    ``page_rank`` maps value id → PageRank in the pooled graph (only values on included edges);
    ``context_page_rank`` does so per context, and ``winners`` gives each context's winning value
    (``None`` when its graph has no edge).
    """

    config: GraphSummarySettings
    pairs: pd.DataFrame
    context_pairs: pd.DataFrame
    page_rank: dict[ValueId, float]
    context_page_rank: dict[str, dict[ValueId, float]]
    winners: dict[str, ValueId | None]
    values: dict[ValueId, ValuesCard] = field(default_factory=dict)
    n_edges: int = 0

    @property
    def edges(self) -> pd.DataFrame:
        """The included pairs of the pooled graph (Democratic Fine-Tuning's ``edges``)."""
        return self.pairs[self.pairs["included"]].reset_index(drop=True)

    def context_edges(self, context: str) -> pd.DataFrame:
        """The included pairs of one context's graph."""
        cp = self.context_pairs
        return cp[(cp["context"] == context) & cp["included"]].reset_index(drop=True)

    @property
    def contexts(self) -> list[str]:
        return list(self.winners)

    def ranking(self, context: str | None = None) -> list[tuple[ValueId, float]]:
        """Values by decreasing PageRank (ties by id) in one context's graph or the pooled one."""
        ranks = self.page_rank if context is None else self.context_page_rank.get(context, {})
        return sorted(ranks.items(), key=lambda kv: (-kv[1], _sort_key(kv[0])))


def _sort_key(value: ValueId) -> tuple[int, int | str]:
    return (0, value) if isinstance(value, int) else (1, str(value))


def _python_id(value) -> ValueId:
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    return value


def summarize(
    edges: Iterable[Edge] | pd.DataFrame,
    values: Sequence[ValuesCard] | Mapping[ValueId, ValuesCard] | None = None,
    config: GraphSummarySettings | None = None,
) -> MoralGraph:
    """Summarise upgrade votes into a moral graph (see the module docstring for the definitions).

    ``edges`` are :class:`~pluralign.moralgraph.types.Edge` objects or a DataFrame with columns
    ``participant, from_id, to_id, context, relationship``. ``values`` (optional) are the cards,
    kept for export; when given, every edge must refer to one of them.
    """
    config = config or GraphSummarySettings()
    frame = edges_frame(edges)
    cards = dict(values) if isinstance(values, Mapping) else {v.id: v for v in values or ()}
    m = len(frame)
    ids, uniques = pd.factorize(
        pd.concat([frame["from_id"], frame["to_id"]], ignore_index=True), sort=False
    )
    if cards:
        unknown = [u for u in uniques if _python_id(u) not in cards]
        if unknown:
            raise ValueError(f"edges refer to values that are not among the cards: {unknown[:5]}")
    if m and np.any(ids[:m] == ids[m:]):
        row = int(np.argmax(ids[:m] == ids[m:]))
        raise ValueError(f"edge {row} goes from a value to itself ({uniques[ids[row]]!r})")
    src, dst = ids[:m].astype(np.int64), ids[m:].astype(np.int64)
    rel = pd.Categorical(frame["relationship"], categories=list(RELATIONSHIPS)).codes
    rel = rel.astype(np.int8)
    ctx_codes, ctx_names = pd.factorize(frame["context"], sort=False)
    ctx_codes = ctx_codes.astype(np.int64)
    nv = len(uniques)
    value_ids = [_python_id(u) for u in uniques]
    contexts = [str(c) for c in ctx_names]

    pooled = _pair_counts(src, dst, rel, np.zeros(m, dtype=np.int64), nv, config)
    per_ctx = _pair_counts(src, dst, rel, ctx_codes, nv, config)

    pooled_contexts = _contexts_of_pairs(src, dst, ctx_codes, pooled, nv, contexts)
    pairs = _frame(pooled, value_ids, pooled_contexts)
    context_pairs = _frame(per_ctx, value_ids, None)
    context_pairs.insert(0, "context", np.asarray(contexts, dtype=object)[per_ctx.group]
                         if m else np.zeros(0, dtype=object))

    pr = {}
    for p, is_pooled in ((pooled, True), (per_ctx, False)):
        inc = p.included
        g, v, r = weighted_pagerank(p.group[inc], p.source[inc], p.wiser[inc], p.likelihood[inc],
                                    nv, config.damping, config.iterations)
        pr[is_pooled] = (g, v, r)
    g, v, r = pr[True]
    page_rank = {value_ids[int(vi)]: float(ri) for vi, ri in zip(v, r, strict=True)}
    context_page_rank: dict[str, dict[ValueId, float]] = {c: {} for c in contexts}
    g, v, r = pr[False]
    for gi, vi, ri in zip(g, v, r, strict=True):
        context_page_rank[contexts[int(gi)]][value_ids[int(vi)]] = float(ri)
    winners: dict[str, ValueId | None] = {}
    for c in contexts:
        ranks = context_page_rank[c]
        winners[c] = (min(ranks.items(), key=lambda kv: (-kv[1], _sort_key(kv[0])))[0]
                      if ranks else None)
    return MoralGraph(config=config, pairs=pairs, context_pairs=context_pairs,
                      page_rank=page_rank, context_page_rank=context_page_rank,
                      winners=winners, values=cards, n_edges=m)


def _frame(p: _Pairs, value_ids: list[ValueId], contexts: list[tuple[str, ...]] | None):
    ids = np.empty(len(value_ids), dtype=object)
    ids[:] = value_ids
    data = {"source": ids[p.source] if len(p.source) else np.zeros(0, dtype=object),
            "wiser": ids[p.wiser] if len(p.wiser) else np.zeros(0, dtype=object)}
    if contexts is not None:
        col = np.empty(len(contexts), dtype=object)
        col[:] = contexts
        data["contexts"] = col
    for i, name in enumerate(COUNT_FIELDS):
        data[name] = p.counts[:, i]
    data["wiserLikelihood"] = p.likelihood
    data["entropy"] = p.entropy
    data["included"] = p.included
    return pd.DataFrame(data)


def _contexts_of_pairs(src, dst, ctx, pooled: _Pairs, nv: int, names: list[str]):
    """For each pooled pair, the distinct contexts of its edges (either direction), in order of
    first appearance in the input (forward pass first, then reverse pass, as published)."""
    k = len(pooled.source)
    if k == 0:
        return []
    nv = np.int64(max(nv, 1))
    pair_key = pooled.source * nv + pooled.wiser  # sorted ascending (group is 0)
    m = len(src)
    keys = np.concatenate([src * nv + dst, dst * nv + src])
    pair_idx = np.searchsorted(pair_key, keys)
    contexts = np.concatenate([ctx, ctx])
    order = np.arange(2 * m)
    nc = np.int64(max(len(names), 1))
    combo = pair_idx * nc + contexts
    uniq, first = np.unique(combo, return_index=True)
    # sort the distinct (pair, context) by pair, then by first appearance
    by = np.lexsort((order[first], uniq // nc))
    uniq = uniq[by]
    pair_of = uniq // nc
    ctx_of = uniq % nc
    name_arr = np.asarray(names, dtype=object)
    splits = np.flatnonzero(np.diff(pair_of)) + 1
    return [tuple(chunk) for chunk in np.split(name_arr[ctx_of], splits)]
