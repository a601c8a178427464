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


def test_hand_counted_statements_held_back():
    from pluralign.data.split import held_back_statements

    ten = {f"s{i}": "x" for i in range(10)}
    # per kind floor(f * n + 0.5): 10 at 0.1 -> 1, at 0.25 -> 3 (2.5 rounds up)
    assert len(held_back_statements(ten, 0.1, seed=0)) == 1
    assert len(held_back_statements(ten, 0.25, seed=0)) == 3
    assert held_back_statements(ten, 0.25, seed=0) == held_back_statements(ten, 0.25, seed=0)
    assert held_back_statements(ten, 0.0, seed=0) == set()
    # 4 + 2 statements at 0.1: 0.9 and 0.7 round to none, so one of the largest kind
    small = {"a1": "a", "a2": "a", "a3": "a", "a4": "a", "b1": "b", "b2": "b"}
    back = held_back_statements(small, 0.1, seed=3)
    assert len(back) == 1 and next(iter(back)).startswith("a")
    # per kind 0.9 * 2 + 0.5 -> 2 of 2, but one statement always stays in training
    assert len(held_back_statements({"u": "k", "v": "k"}, 0.9, seed=0)) == 1
    assert held_back_statements({"u": "k"}, 0.5, seed=0) == set()


def _clause_pair(clause: str, prompt: str, i: int) -> PreferencePair:
    return PreferencePair(prompt, f"yes {i}", f"no {i}", 1.0,
                          provenance={"clause_id": clause})


def test_synthesised_pairs_hold_back_whole_clauses_and_mark_the_parts():
    # clauses c0..c9, two prompts each: 0.1 of 10 clauses -> 1 held back with both prompts;
    # of the other 18 prompts, 0.3 -> round(5.4) = 5 held out as wordings
    pairs = [_clause_pair(f"c{c}", f"q{c}-{k}", 2 * c + k) for c in range(10) for k in range(2)]
    train, held = split_by_prompt(pairs, 0.3, seed=0, unseen_fraction=0.1)
    parts = {p.prompt: p.provenance["heldout_part"] for p in held}
    trained = {p.provenance["clause_id"] for p in train}
    unseen = {p.provenance["clause_id"] for p in held
              if p.provenance["heldout_part"] == "unseen-statement"}
    assert len(held) == 2 + 5 and len(train) == 13
    assert unseen and not unseen & trained
    for p in held:
        assert (p.provenance["clause_id"] in trained) == (parts[p.prompt] == "new-wording")
    assert all("heldout_part" not in p.provenance for p in train)
    # no clause: no statement to hold back, no part
    plain = [_pair(f"p{i}", 1.0, i) for i in range(10)]
    assert all("heldout_part" not in p.provenance for p in split_by_prompt(plain, 0.3, 0, 0.1)[1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 3)), min_size=1,
                max_size=40), st.floats(0.05, 0.9), st.floats(0.0, 0.9), st.integers(0, 5))
def test_no_statement_of_the_unseen_part_is_trained(rows, fraction, unseen, seed):
    pairs = [_clause_pair(c, f"{c}-{k}", i) for i, (c, k) in enumerate(rows)]
    train, held = split_by_prompt(pairs, fraction, seed, unseen_fraction=unseen)
    assert len(train) + len(held) == len(pairs)
    trained = {p.provenance["clause_id"] for p in train}
    for p in held:
        part = p.provenance["heldout_part"]
        assert part in ("new-wording", "unseen-statement")
        assert (p.provenance["clause_id"] in trained) == (part == "new-wording")
    assert not ({p.prompt for p in train} & {p.prompt for p in held})
    if len({c for c, _ in rows}) >= 2 and unseen > 0:  # something is held back whole
        assert any(p.provenance["heldout_part"] == "unseen-statement" for p in held)
    assert train  # never everything held out
