"""The simulator → preference pairs path on a real (small) `pluralign simulate` assembly."""

from __future__ import annotations

from collections import Counter

import pytest

from pluralign.data.prompt_bank import load_bank
from pluralign.data.simprefs import build_sim_preferences, load_simulation


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    out = tmp_path_factory.mktemp("realsim")
    write_simulation(
        simulate_assembly(SimulationConfig(participants=60, statements=60, seed=3)), out
    )
    return out


def test_real_simulation_gives_stance_true_pairs(sim_dir):
    sim = load_simulation(sim_dir)
    assert len(sim.groups) == 60 and sim.membership
    assert all(s.kind for s in sim.statements)  # categories come from the truth
    res = build_sim_preferences(sim, load_bank(), seed=0)
    every = res.train + res.heldout
    assert res.details["bank_prompts"] >= 1  # bank prompts found by slug
    assert {p.provenance["participant"] for p in every} == set(sim.groups)
    # every prompt's pairs stay in one split
    split_of = {}
    for p in every:
        assert (
            split_of.setdefault(p.provenance["prompt_id"], p.provenance["split"])
            == p.provenance["split"]
        )
    choices = Counter((p.provenance["kind"], p.provenance["choice"]) for p in every)
    agree_share = choices[("consensus", "agree")] / (
        choices[("consensus", "agree")] + choices[("consensus", "disagree")]
    )
    assert agree_share > 0.8
    if choices[("consensus-against", "agree")] + choices[("consensus-against", "disagree")]:
        assert choices[("consensus-against", "disagree")] > choices[("consensus-against", "agree")]
    # a bank prompt's chosen text is one of its responses of the drawn stance
    bank = {b.id: b for b in load_bank()}
    for p in every:
        if p.provenance["prompt_origin"] == "bank":
            b = bank[p.provenance["prompt_id"]]
            assert p.chosen in {r.text for r in b.by_stance(p.provenance["choice"])}
