"""`evaluate_models` wiring: margins come from pluralign.train.preference_margins (replaced here by
a stand-in that scores by text), identical pairs are scored once, before/after per margin mode."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from pluralign.evaluate.run import evaluate_models, unique_margins


@pytest.fixture
def fake_train(monkeypatch):
    calls = []

    def preference_margins(model_dir, ref_model_dir, rows, beta=0.1):
        calls.append((model_dir, ref_model_dir, len(rows)))
        # a "trained" model prefers chosen texts starting with "yes"; the base has no preference
        # except a small one for short texts
        out = []
        for r in rows:
            if model_dir == "trained":
                m = 1.0 if r["chosen"].startswith("yes") else -1.0
            else:
                m = 0.1 * (len(r["rejected"]) - len(r["chosen"]))
            out.append(beta * m)
        if ref_model_dir is not None and ref_model_dir == model_dir:
            return np.zeros(len(rows))
        return np.asarray(out)

    module = types.ModuleType("pluralign.train")
    module.preference_margins = preference_margins
    monkeypatch.setitem(sys.modules, "pluralign.train", module)
    return calls


ROWS = [
    {"prompt": "p", "chosen": c, "rejected": r, "weight": 1.0, "group": g, "provenance": {}}
    for c, r, g in [
        ("yes a", "no", "x"),
        ("yes a", "no", "x"),
        ("no", "yes b", "y"),
        ("yes c", "nopes", "y"),
    ]
]


def test_unique_margins_scores_each_triple_once():
    seen = []

    def score(rows):
        seen.append(len(rows))
        return np.arange(len(rows), dtype=float)

    m = unique_margins(ROWS, score)
    assert seen == [3] and m.tolist() == [0.0, 0.0, 1.0, 2.0]
    with pytest.raises(ValueError):
        unique_margins(ROWS, lambda rows: [1.0])


def test_implicit_margins(fake_train):
    res = evaluate_models("trained", "base", ROWS, beta=0.5, n_boot=20)
    assert fake_train == [("trained", "base", 3)]  # one call, duplicates scored once
    overall = res.score("all", "all", "all")
    assert overall.before.estimate == 0.5  # reference against itself: ties
    assert overall.after.estimate == 0.75
    assert res.score("all", "group", "y").after.estimate == 0.5


def test_likelihood_margins(fake_train):
    res = evaluate_models("trained", "base", ROWS, margin="likelihood", n_boot=20)
    assert ("base", None, 3) in fake_train and ("trained", None, 3) in fake_train
    # base prefers the shorter text: rows 1-2 ("yes a" vs "no") wrong, row 3 right, row 4 tie
    assert res.score("all", "all", "all").before.estimate == pytest.approx((0 + 0 + 1 + 0.5) / 4)
    with pytest.raises(ValueError):
        evaluate_models("trained", "base", ROWS, margin="other")
