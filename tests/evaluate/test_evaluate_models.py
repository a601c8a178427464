"""`evaluate_models` wiring: log-probabilities come from pluralign.train.pair_logps (replaced here
by a stand-in that scores by text), each model is scored once on the distinct pairs, before/after
per margin mode, the implicit reward beside the likelihood accuracy."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError
from pluralign.evaluate.run import evaluate_models, unique_rows
from pluralign.evaluate.settings import EvaluateSettings


def _logp(model_dir, text):
    # the base prefers short texts; the "trained" model also likes texts that start with "yes"
    return -0.1 * len(text) + (5.0 if model_dir == "trained" and text.startswith("yes") else 0.0)


@pytest.fixture
def fake_train(monkeypatch):
    calls = []

    def pair_logps(model_dir, rows):
        calls.append((model_dir, len(rows)))
        return (np.asarray([_logp(model_dir, r["chosen"]) for r in rows]),
                np.asarray([_logp(model_dir, r["rejected"]) for r in rows]))

    module = types.ModuleType("pluralign.train")
    module.pair_logps = pair_logps
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


def test_unique_rows_index_each_triple_once():
    uniq, where = unique_rows(ROWS)
    assert len(uniq) == 3 and where.tolist() == [0, 0, 1, 2]


def test_likelihood_margins_with_the_implicit_reward_beside(fake_train):
    res = evaluate_models("trained", "base", ROWS, EvaluateSettings(n_boot=20))
    assert sorted(fake_train) == [("base", 3), ("trained", 3)]  # each model once, 3 distinct
    overall = res.score("all", "all", "all")
    # base: row 1-2 wrong (prefers the shorter "no"), row 3 right, row 4 a tie
    assert overall.before.estimate == pytest.approx((0 + 0 + 1 + 0.5) / 4)
    assert overall.after.estimate == 0.75 and overall.implicit.estimate == 0.75
    assert res.score("all", "group", "y").after.estimate == 0.5
    assert res.settings["margin"] == "likelihood" and overall.units == 4
    assert "implicit" in res.to_dict()["overall"][0]


def test_implicit_margins(fake_train):
    res = evaluate_models("trained", "base", ROWS,
                          EvaluateSettings(beta=0.5, margin="implicit", n_boot=20))
    overall = res.score("all", "all", "all")
    assert overall.before.estimate == 0.5  # reference against itself: ties
    assert overall.after.estimate == 0.75 and overall.implicit is None
    with pytest.raises(InputError, match="margin"):
        evaluate_models("trained", "base", ROWS, EvaluateSettings(margin="other"))


def test_precomputed_logps_are_not_recomputed(fake_train):
    uniq, _ = unique_rows(ROWS)
    base = (np.asarray([_logp("base", r["chosen"]) for r in uniq]),
            np.asarray([_logp("base", r["rejected"]) for r in uniq]))
    evaluate_models("trained", "base", ROWS, EvaluateSettings(n_boot=20), logps={"ref": base})
    assert fake_train == [("trained", 3)]


def test_typed_pairs_and_settings_give_what_the_rows_give(fake_train):
    """The public signature: PreferencePair objects and one EvaluateSettings, nothing hidden."""
    import inspect

    pairs = [PreferencePair.from_dict(r) for r in ROWS]
    settings = EvaluateSettings(n_boot=30, alpha=0.1)
    typed = evaluate_models("trained", "base", pairs, settings, seed=3)
    loose = evaluate_models("trained", "base", ROWS, settings, seed=3)
    assert typed.to_dict() == loose.to_dict()
    assert typed.settings["n_boot"] == 30 and typed.settings["alpha"] == 0.1
    kinds = {p.kind for p in inspect.signature(evaluate_models).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds


def test_generations_flag_answers_that_loop(tmp_path):
    import json

    from pluralign.evaluate.generations import write_generations

    fluent = "I will not pretend to be your partner, but I am glad to help with homework."
    loop = "I am here for you. " * 6
    items = [{"prompt": "p1", "kind": "consensus"}, {"prompt": "p2"}]
    rows = write_generations(tmp_path / "g.jsonl", items, [fluent, fluent], [fluent, loop])
    assert [(r["repetitive_before"], r["repetitive_after"], r["changed"]) for r in rows] == [
        (False, False, False),
        (False, True, True),
    ]
    on_disk = [json.loads(x) for x in (tmp_path / "g.jsonl").read_text().splitlines()]
    assert on_disk == rows and on_disk[0]["kind"] == "consensus"
