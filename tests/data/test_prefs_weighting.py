"""Panel weighting modes: hard, soft, representative; weights always have mean 1."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.data.preferences import PreferencePair
from pluralign.data.weighting import apply_weighting, normalise_mean_one, representative_subset
from pluralign.errors import InputError


def pairs_for(people, per_person=2, base=1.0):
    return [
        PreferencePair("p", f"c{i}", "r", base, "", "sim", {"participant": p})
        for p in people
        for i in range(per_person)
    ]


def test_hard_keeps_panel_members_with_weight_one():
    res = apply_weighting(pairs_for(["1", "2", "3"]), "hard", panel=["1", "3"])
    assert [p.provenance["participant"] for p in res.pairs] == ["1", "1", "3", "3"]
    assert all(p.weight == 1.0 for p in res.pairs)
    assert res.people == ("1", "3")


def test_soft_hand_computed():
    # person weights 1 and 3, two pairs each: raw 1,1,3,3 → mean 2 → 0.5,0.5,1.5,1.5
    res = apply_weighting(pairs_for(["a", "b", "c"]), "soft", person_weights={"a": 1.0, "b": 3.0})
    assert [p.weight for p in res.pairs] == [0.5, 0.5, 1.5, 1.5]
    assert res.details["pairs_out"] == 4 and res.details["pairs_in"] == 6


def test_soft_multiplies_incoming_weights():
    pairs = pairs_for(["a"], 1, base=2.0) + pairs_for(["b"], 1, base=1.0)
    res = apply_weighting(pairs, "soft", person_weights={"a": 1.0, "b": 2.0})
    assert [p.weight for p in res.pairs] == [1.0, 1.0]


def test_hard_and_soft_differ_only_in_weights():
    pairs = pairs_for(["a", "b"])
    hard = apply_weighting(pairs, "hard", panel=["a", "b"])
    soft = apply_weighting(pairs, "soft", person_weights={"a": 1.0, "b": 4.0})
    assert [p.chosen for p in hard.pairs] == [p.chosen for p in soft.pairs]
    assert {p.weight for p in hard.pairs} == {1.0}
    assert soft.pairs[0].weight < soft.pairs[-1].weight


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.floats(0.01, 100), min_size=1))
def test_soft_weights_have_mean_one(weights):
    res = apply_weighting(pairs_for(list("abcdefgh"), 3), "soft", person_weights=weights)
    w = np.array([p.weight for p in res.pairs])
    assert w.mean() == pytest.approx(1.0)
    assert len(res.pairs) == 3 * len(weights)


def test_normalise_errors():
    with pytest.raises(InputError, match="zero"):
        normalise_mean_one([0, 0])
    with pytest.raises(InputError):
        normalise_mean_one([1, -1])


def test_errors():
    with pytest.raises(InputError, match="unknown weighting"):
        apply_weighting(pairs_for(["a"]), "fancy")
    with pytest.raises(InputError, match="person weights"):
        apply_weighting(pairs_for(["a"]), "soft")
    with pytest.raises(InputError, match="kept no pairs"):
        apply_weighting(pairs_for(["a"]), "hard", panel=["z"])
    no_id = [PreferencePair("p", "c", "r")]
    with pytest.raises(InputError, match="pair 1 has no provenance.participant"):
        apply_weighting(no_id, "soft", person_weights={"a": 1})
    assert apply_weighting(no_id, "hard").pairs[0].weight == 1.0


DEMO = {
    str(i): {"gender": "f" if i < 8 else "m", "age": "young" if i % 2 else "old"} for i in range(12)
}  # 8 f, 4 m


def test_representative_subset_matches_targets():
    targets = {"gender": {"f": 0.5, "m": 0.5}, "age": {"young": 0.5, "old": 0.5}}
    picked, report = representative_subset(DEMO, targets, seed=0)
    # at most 4 m at share 0.5 → target size 8
    assert report["target_size"] == 8
    genders = [DEMO[p]["gender"] for p in picked]
    assert genders.count("f") == genders.count("m") == len(picked) / 2
    assert report["max_abs_deviation"] <= 0.125
    again, _ = representative_subset(DEMO, targets, seed=0)
    assert again == picked


def test_representative_mode_weights_and_errors():
    pairs = pairs_for(list(DEMO))
    res = apply_weighting(
        pairs, "representative", demographics=DEMO, targets={"gender": {"f": 1, "m": 1}}, seed=1
    )
    assert {p.weight for p in res.pairs} == {1.0}
    genders = [DEMO[p]["gender"] for p in res.people]
    assert genders.count("f") == genders.count("m") == 4
    with pytest.raises(InputError, match="target"):
        apply_weighting(pairs, "representative", demographics=DEMO)
    with pytest.raises(InputError, match="nobody"):
        representative_subset(DEMO, {"gender": {"x": 1.0}}, seed=0)
    with pytest.raises(InputError, match="no value for target feature"):
        representative_subset(DEMO, {"region": {"n": 1.0}}, seed=0)
