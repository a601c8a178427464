"""The moral-graph summary against hand-computed cases and the per-edge reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.errors import InputError
from pluralign.moralgraph import reference
from pluralign.moralgraph.summary import (
    COUNT_FIELDS,
    GraphSummarySettings,
    entropy_bits,
    summarize,
    wiser_likelihood,
)
from pluralign.moralgraph.types import Edge, ValuesCard


def E(a, b, rel, ctx="c", who="u"):
    return Edge(participant=who, from_id=a, to_id=b, context=ctx, relationship=rel)


def pair(graph, a, b):
    rows = graph.pairs[(graph.pairs["source"] == a) & (graph.pairs["wiser"] == b)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_counts_likelihood_entropy_by_hand():
    # 1→2: 3 upgrade, 1 no_upgrade, 1 not_sure; 2→1: 1 upgrade
    edges = [E(1, 2, "upgrade")] * 3 + [E(1, 2, "no_upgrade"), E(1, 2, "not_sure"),
                                        E(2, 1, "upgrade")]
    g = summarize(edges)
    p = pair(g, 1, 2)
    assert [p[f] for f in COUNT_FIELDS] == [3, 1, 1, 1, 6]
    assert p["wiserLikelihood"] == pytest.approx((3 - 1) / 6)
    # counts 3,1,1,1,6 of 12: 1/4, 1/12 ×3, 1/2
    assert p["entropy"] == pytest.approx(0.25 * 2 + 3 * math.log2(12) / 12 + 0.5)
    assert not p["included"]  # entropy 1.896 > 1.69
    q = pair(g, 2, 1)
    assert [q[f] for f in COUNT_FIELDS] == [1, 0, 3, 0, 6]
    assert q["wiserLikelihood"] == pytest.approx(-0.5)
    h = -(0.1 * math.log2(0.1) + 0.3 * math.log2(0.3) + 0.6 * math.log2(0.6))
    assert q["entropy"] == pytest.approx(h)
    assert not q["included"]
    assert g.page_rank == {} and g.winners == {"c": None}


def test_reverse_pair_of_non_upgrade_has_zero_likelihood():
    g = summarize([E(1, 2, "no_upgrade")])
    q = pair(g, 2, 1)
    assert [q[f] for f in COUNT_FIELDS] == [0, 0, 0, 0, 1]
    assert q["wiserLikelihood"] == 0.0 and q["entropy"] == 0.0


def test_inclusion_thresholds_each_bind():
    one = [E(1, 2, "upgrade")]
    assert not summarize(one).pairs["included"].any()  # markedWiser 1 < 2
    lower = GraphSummarySettings(min_marked_wiser=1)
    assert summarize(one, config=lower).pairs["included"].sum() == 1
    # markedWiser > 0 is required even with a zero threshold
    assert not summarize([E(1, 2, "not_sure")] * 3,
                         config=GraphSummarySettings(min_marked_wiser=0, min_wiser_likelihood=-1)
                         ).pairs["included"].any()
    # 2 upgrade + 2 no_upgrade: likelihood 0.5, entropy of (2,2,0,0,4) = 1.5
    mixed = [E(1, 2, "upgrade")] * 2 + [E(1, 2, "no_upgrade")] * 2
    p = pair(summarize(mixed), 1, 2)
    assert p["wiserLikelihood"] == 0.5 and p["entropy"] == pytest.approx(1.5) and p["included"]
    assert not pair(summarize(mixed, config=GraphSummarySettings(min_wiser_likelihood=0.51)), 1, 2)[
        "included"]
    assert not pair(summarize(mixed, config=GraphSummarySettings(max_entropy=1.49)), 1, 2)[
        "included"]


def test_pagerank_chain_by_hand():
    edges = [E(1, 2, "upgrade")] * 2 + [E(1, 2, "no_upgrade")] + [E(2, 3, "upgrade")] * 2
    g = summarize(edges)
    # pairs 1→2 (w 2/3) and 2→3 (w 1) are included; PR = (1-d)/3 + d·PR(parent)
    assert g.page_rank[1] == pytest.approx(0.05)
    assert g.page_rank[2] == pytest.approx(0.05 + 0.85 * 0.05)
    assert g.page_rank[3] == pytest.approx(0.05 + 0.85 * (0.05 + 0.85 * 0.05))
    assert g.winners == {"c": 3}
    assert [v for v, _ in g.ranking("c")] == [3, 2, 1]


def test_pagerank_splits_by_weight_by_hand():
    # 1→2 weight 1.0; 1→3 weight (3-1)/4 = 0.5 (3 upgrades, one reverse upgrade 3→1)
    edges = [E(1, 2, "upgrade")] * 2 + [E(1, 3, "upgrade")] * 3 + [E(3, 1, "upgrade")]
    g = summarize(edges)
    assert set(g.edges["wiser"]) == {2, 3}
    assert g.page_rank[1] == pytest.approx(0.05)
    assert g.page_rank[2] == pytest.approx(0.05 + 0.85 * 0.05 * 1.0 / 1.5)
    assert g.page_rank[3] == pytest.approx(0.05 + 0.85 * 0.05 * 0.5 / 1.5)


def test_damping_and_iterations_are_used():
    edges = [E(1, 2, "upgrade")] * 2
    g = summarize(edges, config=GraphSummarySettings(damping=0.5, iterations=1))
    # one step from 1/2 each: PR(1) = 0.25, PR(2) = 0.25 + 0.5·0.5
    assert g.page_rank == pytest.approx({1: 0.25, 2: 0.5})
    g0 = summarize(edges, config=GraphSummarySettings(iterations=0))
    assert g0.page_rank == pytest.approx({1: 0.5, 2: 0.5})


def test_contexts_are_summarised_separately_and_pooled():
    edges = ([E("a", "b", "upgrade", "x")] * 2 + [E("b", "a", "upgrade", "y")] * 2
             + [E("a", "c", "upgrade", "y")] * 2)
    g = summarize(edges)
    assert g.winners == {"x": "b", "y": "c"}
    assert set(g.context_page_rank["x"]) == {"a", "b"}
    # pooled: a→b and b→a cancel (likelihood 0), a→c remains
    p = pair(g, "a", "b")
    assert p["wiserLikelihood"] == 0.0 and p["contexts"] == ("x", "y")
    assert list(zip(g.edges["source"], g.edges["wiser"], strict=True)) == [("a", "c")]
    cx = g.context_edges("x")
    assert list(cx["markedWiser"]) == [2] and list(cx["impressions"]) == [2]


def test_ties_pick_the_first_id():
    edges = [E(1, 3, "upgrade")] * 2 + [E(2, 4, "upgrade")] * 2
    assert summarize(edges).winners == {"c": 3}


def test_empty_and_bad_input():
    g = summarize([])
    assert g.page_rank == {} and g.winners == {} and len(g.pairs) == 0
    with pytest.raises(ValueError, match="relationship"):
        E(1, 2, "better")
    with pytest.raises(ValueError, match="two different"):
        E(1, 1, "upgrade")
    with pytest.raises(ValueError, match="not among the cards"):
        summarize([E(1, 2, "upgrade")], [ValuesCard(id=1, title="x")])
    frame = pd.DataFrame({"participant": ["u"], "from_id": [1], "to_id": [1], "context": ["c"],
                          "relationship": ["upgrade"]})
    with pytest.raises(ValueError, match="itself"):
        summarize(frame)


def test_helpers():
    assert entropy_bits([[1, 1, 0, 0, 0]])[0] == pytest.approx(1.0)
    assert entropy_bits([[0, 0, 0, 0, 0]])[0] == 0.0
    assert wiser_likelihood([0], [0], [0], [0])[0] == 0.0
    with pytest.raises(InputError, match="field 'damping': must be <= 1, got 1.5"):
        GraphSummarySettings(damping=1.5)
    with pytest.raises(InputError, match="field 'max_entropy': must be >= 0"):
        GraphSummarySettings(max_entropy=-0.1)


edge_lists = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5),
              st.sampled_from(["upgrade", "upgrade", "no_upgrade", "not_sure"]),
              st.sampled_from(["c1", "c2", "c3"])).filter(lambda t: t[0] != t[1]),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(edge_lists, st.integers(0, 3))
def test_matches_per_edge_reference(rows, threshold):
    edges = [E(a, b, r, c, who=f"u{i}") for i, (a, b, r, c) in enumerate(rows)]
    config = GraphSummarySettings(min_marked_wiser=threshold)
    g = summarize(edges, config=config)
    ref = reference.summarize_graph(edges, config)
    assert len(g.pairs) == len(ref["pairs"])
    for row in g.pairs.itertuples(index=False):
        r = ref["pairs"][(row.source, row.wiser)]
        assert [getattr(row, f) for f in COUNT_FIELDS] == [r["counts"][f] for f in COUNT_FIELDS]
        assert list(row.contexts) == r["contexts"]
        assert row.wiserLikelihood == pytest.approx(r["wiserLikelihood"])
        assert row.entropy == pytest.approx(r["entropy"])
        assert row.included == r["included"]
    assert g.page_rank == pytest.approx(ref["pageRank"])
    for c, rc in ref["contexts"].items():
        assert g.context_page_rank[c] == pytest.approx(rc["pageRank"])
        assert g.winners[c] == rc["winner"]


@settings(max_examples=40, deadline=None)
@given(edge_lists, st.randoms(use_true_random=False))
def test_invariants(rows, rnd):
    edges = [E(a, b, r, c) for a, b, r, c in rows]
    g = summarize(edges)
    p = g.pairs
    assert ((p["wiserLikelihood"] >= -1) & (p["wiserLikelihood"] <= 1)).all()
    assert ((p["entropy"] >= 0) & (p["entropy"] <= math.log2(5) + 1e-12)).all()
    assert (p["impressions"] == p["markedWiser"] + p["markedNotWiser"] + p["markedUnsure"]
            + p[["source", "wiser"]].apply(
                lambda s: sum(1 for e in edges if (e.to_id, e.from_id) == (s.source, s.wiser)),
                axis=1)).all()
    inc = p[p["included"]]
    assert (inc["markedWiser"] >= 2).all() and (inc["wiserLikelihood"] >= 0.33).all()
    # both directions of a pair are seen equally often
    imp = {(r.source, r.wiser): r.impressions for r in p.itertuples()}
    assert all(imp[(b, a)] == n for (a, b), n in imp.items())
    # PageRank: each ≥ (1-d)/n, total ≤ 1 (dangling mass leaks, as published)
    if g.page_rank:
        n = len(g.page_rank)
        assert min(g.page_rank.values()) >= 0.15 / n - 1e-12
        assert sum(g.page_rank.values()) <= 1 + 1e-9
    # edge order does not matter
    shuffled = list(edges)
    rnd.shuffle(shuffled)
    h = summarize(shuffled)
    assert h.page_rank == pytest.approx(g.page_rank)
    assert h.winners == g.winners
    key = ["source", "wiser"]
    a = g.pairs.drop(columns="contexts").sort_values(key).reset_index(drop=True)
    b = h.pairs.drop(columns="contexts").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(edge_lists)
def test_relabelling_values_relabels_the_graph(rows):
    edges = [E(a, b, r, c) for a, b, r, c in rows]
    g = summarize(edges)
    h = summarize([E(f"v{e.from_id}", f"v{e.to_id}", e.relationship, e.context) for e in edges])
    assert h.page_rank == pytest.approx({f"v{k}": v for k, v in g.page_rank.items()})
    assert np.array_equal(g.pairs["included"].sum(), h.pairs["included"].sum())
