"""data.group_source votes+choices: the panel clustered on their votes and their training
choices together (pluralign.data.choice_groups)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from pluralign.data.choice_groups import (
    choice_entries,
    regroup,
    vote_choice_groups,
    vote_choice_matrix,
)
from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError


def pair(member, prompt, sid, choice, rejected="r", split="train", group="g"):
    return PreferencePair(
        f"prompt {prompt}", f"chosen {prompt} {choice}", f"{rejected} {prompt}", 1.0, group,
        "sim",
        {"participant": member, "prompt_id": prompt, "statement_ids": [sid], "choice": choice,
         "split": split, "opinion_group": group},
    )


def test_a_choice_counts_once_per_prompt_and_is_averaged_with_the_vote():
    pairs = [
        pair("P1", "s7-01", "7", "disagree", rejected="r1"),  # one choice, two pairs
        pair("P1", "s7-01", "7", "disagree", rejected="r2"),
        pair("P1", "s7-02", "7", "disagree"),  # another wording of statement 7
        pair("P2", "s8-01", "8", "agree"),
    ]
    assert choice_entries(pairs) == {("P1", "7"): {"s7-01": -1.0, "s7-02": -1.0},
                                     ("P2", "8"): {"s8-01": 1.0}}
    people, statements, values, seen, n = vote_choice_matrix(
        {("P1", "7"): 1.0, ("P2", "9"): 0.0, ("P3", "7"): 1.0}, pairs, ["P1", "P2"])
    assert people == ["P1", "P2"] and statements == ["7", "8", "9"] and n == 3
    dense, mask = values.toarray(), seen.toarray()
    assert dense[0, 0] == pytest.approx((1 - 1 - 1) / 3)  # vote agree, two choices disagree
    assert dense[1, 1] == 1.0 and mask[1, 2] == 1.0 and dense[1, 2] == 0.0  # a pass is seen
    assert mask.sum() == 3  # P3 is not on the panel


def test_choices_find_the_groups_the_votes_do_not_hold():
    """Everyone votes agree on the consensus statements (the votes hold no group); the members'
    choices on two divisive statements split them by group: the groups of votes + choices are the
    true ones, those of the votes alone are not."""
    rng = np.random.default_rng(0)
    members = [f"P{i:02d}" for i in range(40)]
    truth = [i % 2 for i in range(40)]
    votes = {(m, str(s)): 1.0 for m in members for s in range(5) if rng.random() < 0.6}
    pairs = []
    for m, g in zip(members, truth, strict=True):
        for sid in ("10", "11"):
            p_agree = 0.9 if (g == 0) == (sid == "10") else 0.1
            for k in range(3):
                choice = "agree" if rng.random() < p_agree else "disagree"
                pairs.append(pair(m, f"{sid}-{k}", sid, choice))
    found = vote_choice_groups(votes, pairs, members, seed=0)
    labels = [found.labels[m] for m in members]
    assert adjusted_rand_score(truth, labels) == pytest.approx(1.0)
    assert found.details["choices"] == 240 and found.details["n_groups"] == 2
    alone = vote_choice_groups(votes, [], members, seed=0)
    assert adjusted_rand_score(truth, [alone.labels.get(m, "-") for m in members]) < 0.5
    # the group column changes; the aggregation's group stays in the provenance
    moved = regroup(pairs, found.labels)
    assert {p.group for p in moved} == set(labels)
    assert all(p.provenance["opinion_group"] == "g" for p in moved)
    assert [p.to_dict() | {"group": "g"} for p in moved] == [p.to_dict() for p in pairs]


def test_a_pair_without_a_stance_is_refused():
    bad = PreferencePair("p", "a", "b", 1.0, "g", "prism", {"participant": "u1"})
    with pytest.raises(InputError, match="training pair 1 has no participant"):
        choice_entries([bad])


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    out = tmp_path_factory.mktemp("choicesim")
    write_simulation(
        simulate_assembly(SimulationSettings(participants=60, statements=60, seed=3)), out
    )
    return out


def test_sim_pairs_take_the_groups_of_votes_and_training_choices(sim_dir):
    """sim_preference_sets with group_source votes+choices: the pairs are those of votes, with
    each member's group (train and held-out alike) found from their votes and *training* choices
    only, never the held-out ones; the clustering is recorded in the provenance."""
    from pluralign.data import choice_groups
    from pluralign.data.prefsets import sim_preference_sets
    from pluralign.data.simprefs import load_simulation

    kwargs = {"prompts_per_member": 20, "seed": 1, "heldout_unseen": "divisive"}
    base_train, base_held = sim_preference_sets(sim_dir, **kwargs)
    train, held = sim_preference_sets(sim_dir, group_source="votes+choices", **kwargs)
    strip = [{**p.to_dict(), "group": ""} for p in base_train.pairs]
    assert [{**p.to_dict(), "group": ""} for p in train.pairs] == strip
    assert [{**p.to_dict(), "group": ""} for p in held.pairs] == [
        {**p.to_dict(), "group": ""} for p in base_held.pairs]
    assert all(p.provenance["split"] == "train" for p in train.pairs)
    members = sorted({p.provenance["participant"] for p in base_train.pairs + base_held.pairs})
    expected = choice_groups.vote_choice_groups(
        choice_groups.sim_votes(sim_dir, load_simulation(sim_dir)),
        [p for p in base_train.pairs], members, 1)
    for p in train.pairs + held.pairs:
        assert p.group == expected.labels[p.provenance["participant"]]
    details = train.provenance["builder"]["groups"]
    assert details["members"] == len(members) and details["choices"] > 0
    assert train.provenance["settings"]["group_source"] == "votes+choices"
    assert len({p.group for p in train.pairs}) == details["n_groups"] >= 2
    json.dumps(train.provenance)  # written as the sidecar
    with pytest.raises(InputError, match="group_source 'choices'"):
        sim_preference_sets(sim_dir, group_source="choices", **kwargs)
