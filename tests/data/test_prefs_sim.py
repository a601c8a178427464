"""Preference pairs from a simulated assembly (fixture folder in the simulator's layout)."""

from __future__ import annotations

from collections import Counter

import pytest
from prefs_simfixture import write_sim

from pluralign.data.prompt_bank import BankPrompt, Response, load_bank, template_prompts
from pluralign.data.simprefs import (
    SimStatement,
    build_sim_preferences,
    load_simulation,
    prompt_kind,
    split_prompts,
)
from pluralign.errors import InputError


@pytest.fixture
def sim(tmp_path):
    return load_simulation(write_sim(tmp_path / "sim", n=60))


def test_load_simulation(sim):
    # the junk statement (moderated out) is left out
    assert [s.id for s in sim.statements] == ["0", "1", "2", "3", "4"]
    assert sim.groups["P0001"] == "a" and sim.groups["P0002"] == "b"
    assert sim.demographics["P0001"] == {"gender": "woman", "age_band": "18-34"}
    s2 = sim.statement("2")
    # forced choice: P(agree) / (P(agree) + P(disagree)) = 0.81 / 0.9
    assert s2.agree == {"a": pytest.approx(0.9), "b": pytest.approx(0.1)}
    assert s2.slug == "caution" and s2.kind == "divisive"
    assert sim.statement("0").consensus is True and s2.consensus is False
    assert sim.p_agree("P0002", s2) == pytest.approx(0.1)


def test_membership_mixes_group_stances(sim):
    from dataclasses import replace

    mixed = replace(sim, membership={"P0001": {"a": 0.25, "b": 0.75}})
    assert mixed.p_agree("P0001", sim.statement("2")) == pytest.approx(0.25 * 0.9 + 0.75 * 0.1)


def test_stances_estimated_from_votes_without_profiles(tmp_path):
    sim = load_simulation(write_sim(tmp_path / "s", n=60, stances=False))
    s2 = sim.statement("2")
    # (A + 1) / (A + D + 2) per latent group, Polis voter ids mapped to pool ids
    assert s2.agree["a"] > 0.7 and s2.agree["b"] < 0.3


def test_prompt_kinds(sim):
    kinds = {s.id: prompt_kind(s) for s in sim.statements}  # the truth's categories
    assert kinds["0"] == kinds["1"] == "consensus"
    assert kinds["2"] == kinds["3"] == "divisive"
    assert kinds["4"] == "mixed"
    # without a truth category, the profile decides
    assert prompt_kind(SimStatement("x", "t", agree={"a": 0.1, "b": 0.2})) == "consensus"
    assert prompt_kind(SimStatement("x", "t", agree={"a": 0.8, "b": 0.3})) == "divisive"
    assert prompt_kind(SimStatement("x", "t", agree={"a": 0.6, "b": 0.4})) == "mixed"


def test_split_is_by_prompt_stratified_and_seeded():
    kinds = {f"p{i}": ("c" if i < 6 else "d") for i in range(10)}
    s1 = split_prompts(kinds, 0.3, seed=4)
    assert s1 == split_prompts(kinds, 0.3, seed=4)
    held = Counter(kinds[p] for p, v in s1.items() if v == "heldout")
    assert held == {"c": 2, "d": 1}
    with pytest.raises(InputError):
        split_prompts(kinds, 1.0, seed=0)


def test_build_pairs(sim):
    res = build_sim_preferences(sim, [], seed=5, templates="all")
    assert res.details["prompts"] == 10 and res.details["template_prompts"] == 10
    every = res.train + res.heldout
    assert len(every) == 60 * 10  # one pair per member and prompt
    held_prompts = {p.provenance["prompt_id"] for p in res.heldout}
    train_prompts = {p.provenance["prompt_id"] for p in res.train}
    assert held_prompts and not held_prompts & train_prompts
    assert {p.provenance["kind"] for p in res.heldout} == {"consensus", "divisive", "mixed"}
    # choices follow the group's stance: statement 2 is agreed by a, rejected by b
    by_group = Counter(
        (p.group, p.provenance["choice"]) for p in every if p.provenance["statement_ids"] == ["2"]
    )
    assert by_group[("a", "agree")] > by_group[("a", "disagree")]
    assert by_group[("b", "disagree")] > by_group[("b", "agree")]
    again = build_sim_preferences(sim, [], seed=5)
    assert again.train == res.train and again.heldout == res.heldout
    other = build_sim_preferences(sim, [], seed=6)
    assert other.train != res.train


def test_chosen_response_embodies_the_drawn_stance(sim):
    bank = [
        BankPrompt(
            "b1",
            "t",
            ("ai-disclose",),
            "Are you human?",
            (Response("I am an AI.", "agree"), Response("Yes, I am human.", "disagree")),
        )
    ]
    res = build_sim_preferences(sim, bank, seed=0, templates="none", heldout_fraction=0)
    assert len(res.train) == 60
    for p in res.train:
        agree = p.provenance["choice"] == "agree"
        assert p.chosen == ("I am an AI." if agree else "Yes, I am human.")
        assert p.provenance["statement_ids"] == ["0"]


def test_members_and_options(sim):
    res = build_sim_preferences(
        sim,
        [],
        members=["P0001", "P0002", "P0003"],
        seed=0,
        prompts_per_member=4,
        opinion_groups={"P0001": "x"},
    )
    every = res.train + res.heldout
    assert Counter(p.provenance["participant"] for p in every) == {
        "P0001": 4,
        "P0002": 4,
        "P0003": 4,
    }
    assert {p.group for p in every if p.provenance["participant"] == "P0001"} == {"x"}
    # a bank prompt matched by statement text instead of slug
    by_text = [
        BankPrompt(
            "b2",
            "t",
            ("Assistants should use plenty of emoji.",),
            "Emoji?",
            (Response("Yes 🎉", "agree"), Response("No.", "disagree")),
        )
    ]
    only = build_sim_preferences(sim, by_text, templates="none", heldout_fraction=0)
    assert {p.provenance["statement_ids"][0] for p in only.train} == {"4"}
    with pytest.raises(InputError, match="not in the simulation"):
        build_sim_preferences(sim, [], members=["999"])
    with pytest.raises(InputError, match="no prompt matches"):
        build_sim_preferences(sim, [], templates="none")


def test_packaged_bank_is_valid():
    bank = load_bank()
    assert len(bank) >= 20
    assert len({p.topic for p in bank}) >= 8
    assert all(p.by_stance("agree") and p.by_stance("disagree") for p in bank)


def test_template_prompts_take_both_stances():
    (a, b) = template_prompts("7", "Assistants should cite sources.")
    assert "Assistants should cite sources" in a.prompt
    assert a.by_stance("agree")[0].text != a.by_stance("disagree")[0].text
    assert a.id != b.id and a.origin == "template"


def test_template_responses_differ_only_in_the_stance_word():
    # no surface cue (yes/no, negation, hedging, length) tells the agreeing side apart: a small
    # model trained on mostly-agreeing pairs otherwise learns the form, not the content
    for p in template_prompts("7", "Assistants should cite sources."):
        agree, disagree = p.by_stance("agree")[0].text, p.by_stance("disagree")[0].text
        assert agree.replace(" for ", " against ", 1) == disagree
        assert "not" not in disagree.split()


def test_balance_choices_gives_both_sides_equal_weight():
    from pluralign.data.preferences import PreferencePair
    from pluralign.data.simprefs import balance_choices

    def pair(choice, w):
        return PreferencePair("p", "c", "r", w, "g", "sim", {"choice": choice})

    pairs = [pair("agree", 1.0), pair("agree", 3.0), pair("agree", 2.0), pair("disagree", 2.0)]
    out = balance_choices(pairs)
    # totals 6 vs 2 -> scale 8/12 and 8/4, then mean 1: weights 1/3, 1, 2/3, 2
    assert [round(p.weight, 9) for p in out] == [round(x, 9) for x in (1 / 3, 1, 2 / 3, 2)]
    assert balance_choices(pairs[:3]) == pairs[:3]  # one side only: unchanged


def test_balance_by_prompt_never_overturns_a_prompts_majority():
    from pluralign.data.preferences import PreferencePair
    from pluralign.data.simprefs import balance_choices

    def pair(prompt, choice, w):
        return PreferencePair(prompt, "c", "r", w, "g", "sim",
                              {"choice": choice, "prompt_id": prompt})

    # a: 9 for / 1 against, b: 6 for / 4 against (the panel's majority agrees), c: 1 / 3
    pairs = [pair("a", "agree", 9.0), pair("a", "disagree", 1.0), pair("b", "agree", 6.0),
             pair("b", "disagree", 4.0), pair("c", "agree", 1.0), pair("c", "disagree", 3.0)]
    by_pair = balance_choices(pairs)  # 16 vs 8 -> against weighs twice: b becomes 6 vs 8
    assert by_pair[3].weight > by_pair[2].weight
    out = balance_choices(pairs, "prompt")
    w = [p.weight for p in out]
    # agree-majority prompts a, b weigh 20, c weighs 4: scaled by 24/40 and 24/8, then mean 1
    scale = {"agree": 24 / 40, "disagree": 24 / 8}
    raw = [9 * scale["agree"], 1 * scale["agree"], 6 * scale["agree"], 4 * scale["agree"],
           1 * scale["disagree"], 3 * scale["disagree"]]
    assert w == [round(x / (sum(raw) / 6), 12) for x in raw]
    assert abs(sum(w) / len(w) - 1) < 1e-12
    assert [w[0] / w[1], w[2] / w[3], w[5] / w[4]] == pytest.approx([9, 1.5, 3])  # splits kept
    assert abs((w[0] + w[1] + w[2] + w[3]) - (w[4] + w[5])) < 1e-9  # the two sides equal
    # every prompt on one side, or a pair without a choice: unchanged
    assert balance_choices(pairs[:4], "prompt") == pairs[:4]
    odd = [*pairs, PreferencePair("d", "c", "r", 1.0, "g", "sim", {"prompt_id": "d"})]
    assert balance_choices(odd, "prompt") == odd
    # a tied prompt has no side: it only follows the common rescaling
    tie = [*pairs, pair("t", "agree", 2.0), pair("t", "disagree", 2.0)]
    tw = [p.weight for p in balance_choices(tie, "prompt")]
    assert tw[-1] == tw[-2]
    with pytest.raises(ValueError, match="balance unit"):
        balance_choices(pairs, "statement")


def test_bad_simulation_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_simulation(tmp_path / "missing")
    folder = write_sim(tmp_path / "s")
    (folder / "truth.json").write_text('{"something": 1}')
    with pytest.raises(InputError, match="latent group"):
        load_simulation(folder)
    (folder / "truth.json").write_text("{oops")
    with pytest.raises(InputError, match=r"truth.json, line 1: invalid JSON"):
        load_simulation(folder)


def test_opinion_groups_by_polis_voter_id(sim):
    # the aggregation's groups.csv uses Polis voter ids (P0001 is voter 1); -1 = not clustered
    res = build_sim_preferences(sim, [], seed=0, opinion_groups={"1": "0", "2": "-1"})
    every = res.train + res.heldout
    groups = {p.provenance["participant"]: p.group for p in every}
    assert groups["P0001"] == "0" and groups["P0002"] == "unclustered"
    assert groups["P0003"] == "a"  # not in the file: latent group
    with pytest.raises(InputError, match="opinion groups"):
        build_sim_preferences(sim, [], opinion_groups={"nobody": "1"})


def test_unseen_fraction_holds_back_whole_statements(sim):
    # 5 statements (consensus 2, divisive 2, mixed 1), two template prompts each; at 0.5 each
    # kind holds back floor(0.5 n + 0.5) = 1 statement; the other consensus and divisive
    # statement have 2 prompts each, and 0.3 of 2 rounds to 1 held-out wording per kind
    res = build_sim_preferences(sim, [], seed=2, heldout_fraction=0.3, unseen_fraction=0.5)
    back = res.details["held_back_statements"]
    assert len(back) == 3
    assert sorted(prompt_kind(sim.statement(s)) for s in back) == ["consensus", "divisive",
                                                                   "mixed"]
    assert res.details["heldout_parts"] == {"new-wording": 2, "unseen-statement": 6}
    trained = {p.provenance["statement_ids"][0] for p in res.train}
    assert trained == {s.id for s in sim.statements} - set(back)
    for p in res.heldout:
        sid = p.provenance["statement_ids"][0]
        assert p.provenance["heldout_part"] == ("unseen-statement" if sid in back
                                                else "new-wording")
    # the default 0.1 rounds to none per kind here, so one statement of a largest kind
    default = build_sim_preferences(sim, [], seed=2)
    assert len(default.details["held_back_statements"]) == 1
    none = build_sim_preferences(sim, [], seed=2, unseen_fraction=0)
    assert none.details["held_back_statements"] == []
    assert set(none.details["heldout_parts"]) <= {"new-wording", "unseen-statement"}
