"""The held-out split by prompt (pluralign.data.split)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.data.preferences import PreferencePair
from pluralign.data.split import heldout_prompts, split_by_prompt


def _pair(prompt: str, weight: float, i: int = 0) -> PreferencePair:
    return PreferencePair(prompt=prompt, chosen=f"yes {i}", rejected=f"no {i}", weight=weight)


def test_hand_counted_split():
    # 10 prompts, 30 %: 3 held out; 2 prompts: always one each side; 1 prompt: round(0.3) = 0
    assert len(heldout_prompts([f"p{i}" for i in range(10)], 0.3, seed=0)) == 3
    assert len(heldout_prompts(["a", "b"], 0.01, seed=0)) == 1
    assert len(heldout_prompts(["a", "b"], 0.99, seed=0)) == 1
    assert heldout_prompts(["a"], 0.3, seed=0) == set()
    pairs = [_pair("a", 1.0), _pair("a", 3.0, 1), _pair("b", 2.0)]
    train, held = split_by_prompt(pairs, 0.5, seed=1)
    sides = {p.prompt for p in train}, {p.prompt for p in held}
    assert sides in (({"a"}, {"b"}), ({"b"}, {"a"}))
    weights = [p.weight for p in (train if sides[0] == {"a"} else held)]
    assert weights == [0.5, 1.5]  # 1 and 3 rescaled to mean 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.floats(0.1, 5.0)), min_size=1,
                max_size=40), st.floats(0.05, 0.95), st.integers(0, 5))
def test_a_prompt_never_lands_on_both_sides_and_weights_mean_one(rows, fraction, seed):
    pairs = [_pair(p, w, i) for i, (p, w) in enumerate(rows)]
    train, held = split_by_prompt(pairs, fraction, seed)
    assert len(train) + len(held) == len(pairs)
    assert not ({p.prompt for p in train} & {p.prompt for p in held})
    n_prompts = len({p for p, _ in rows})
    if n_prompts >= 2:
        assert train and held
    for side in (train, held):
        if side:
            assert abs(sum(p.weight for p in side) / len(side) - 1.0) < 1e-9
    assert split_by_prompt(pairs, fraction, seed) == (train, held)  # seeded
