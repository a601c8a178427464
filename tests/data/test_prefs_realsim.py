"""The simulator → preference pairs path on a real (small) `pluralign simulate` assembly."""

from __future__ import annotations

from collections import Counter

import pytest

from pluralign.data.prompt_bank import load_bank
from pluralign.data.simprefs import build_sim_preferences, load_simulation


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    out = tmp_path_factory.mktemp("realsim")
    write_simulation(
        simulate_assembly(SimulationSettings(participants=60, statements=60, seed=3)), out
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


def test_unseen_divisive_statements_are_held_out_only_and_leave_the_rest_unchanged(sim_dir):
    """data.heldout_unseen: the statement bank's divisive statements outside the conversation
    become held-out prompts of kind unseen-divisive; the conversation's pairs are identical with
    or without them, and members choose by the bank's stance profiles."""
    from pluralign.data.simprefs import unseen_statements
    from pluralign.formats.statement_bank import DIVISIVE
    from pluralign.formats.statement_bank import load_bank as load_statement_bank

    sim = load_simulation(sim_dir)
    unseen = unseen_statements(sim_dir, sim, "divisive")
    bank = load_statement_bank()
    conversation = {s.text for s in sim.statements}
    divisive = [b for b in bank.statements if b.category == DIVISIVE]
    assert {s.slug for s in unseen} == {b.slug for b in divisive if b.text not in conversation}
    assert len(unseen) >= 15 and all(s.kind == "unseen-divisive" for s in unseen)
    b = bank.by_slug(unseen[0].slug)
    a, d = b.profile[0, 0], b.profile[0, 1]
    assert unseen[0].agree[bank.groups[0].id] == pytest.approx(a / (a + d))
    assert len(unseen_statements(sim_dir, sim, "all")) > len(unseen)

    plain = build_sim_preferences(sim, load_bank(), seed=1, prompts_per_member=30)
    more = build_sim_preferences(sim, load_bank(), seed=1, prompts_per_member=30, unseen=unseen)
    assert more.train == plain.train
    extra = [p for p in more.heldout if p.provenance["kind"] == "unseen-divisive"]
    assert [p for p in more.heldout if p.provenance["kind"] != "unseen-divisive"] == list(
        plain.heldout
    )
    assert {p.provenance["split"] for p in extra} == {"heldout"}
    assert {p.provenance["statement_ids"][0] for p in extra} == {s.id for s in unseen}
    # each member answers the conversation's share of the unseen prompts (30 of n prompts)
    n_unseen = more.details["unseen_prompts"]
    share = 30 / plain.details["prompts"]
    prompts_of = {(p.provenance["participant"], p.provenance["prompt_id"]) for p in extra}
    assert {m for m, _ in prompts_of} == set(sim.groups)
    counts = Counter(m for m, _ in prompts_of)
    assert set(counts.values()) == {max(1, round(share * n_unseen))}
    # a group's agree rate on the unseen prompts follows the profile (many draws: within 0.1)
    by_group = {}
    for p in extra:
        s = next(u for u in unseen if u.id == p.provenance["statement_ids"][0])
        g = p.provenance["latent_group"]
        by_group.setdefault(g, []).append((p.provenance["choice"] == "agree", sim.p_agree(
            p.provenance["participant"], s)))
    for rows in by_group.values():
        got = sum(x for x, _ in rows) / len(rows)
        want = sum(y for _, y in rows) / len(rows)
        assert abs(got - want) < 0.1


def test_unseen_statements_need_the_simulators_truth(sim_dir, tmp_path):
    import json
    import shutil

    from pluralign.data.simprefs import unseen_statements
    from pluralign.errors import InputError

    copy = tmp_path / "sim"
    shutil.copytree(sim_dir, copy)
    truth = json.loads((copy / "truth.json").read_text())
    truth["provenance"]["bank_sha256"] = "0" * 64
    (copy / "truth.json").write_text(json.dumps(truth))
    with pytest.raises(InputError, match="statement bank changed") as exc:
        unseen_statements(copy, load_simulation(copy), "divisive")
    assert "truth.json" in str(exc.value.where)
    del truth["provenance"]
    (copy / "truth.json").write_text(json.dumps(truth))
    with pytest.raises(InputError, match="written by `pluralign simulate`"):
        unseen_statements(copy, load_simulation(copy), "divisive")
