"""Planted unfaithful principles are flagged; faithful ones are not.

Planted on every statement of the eleven Polis conversations in ../shared/data/polis: an added
claim, a negation taken out, a qualifier taken out (where the statement uses that qualifier
once: a second "all" still qualifies). Each must be flagged with its kind; the statement itself,
as its own principle, must not be.
"""

from __future__ import annotations

import re

import pytest

from pluralign.sensemaking import wording as W
from pluralign.sensemaking.faithful import check_principle
from pluralign.sensemaking.style import direct, frame, to_choose

NEGATION = re.compile(r"\b(not|never)\b ?", re.IGNORECASE)
QUALIFIER = re.compile(r"\b(only|all|every|always|unless|at least)\b ?", re.IGNORECASE)
ADDED = ", and the government should pay for it with a new tax on airlines."


def kinds(text, sources, **kw):
    return {f.kind for f in check_principle(text, sources, **kw)}


@pytest.fixture(scope="module")
def statements(polis_dir):
    from pluralign.aggregate import read_polis

    out = []
    for folder in sorted(p for p in polis_dir.iterdir() if p.is_dir()):
        out += [" ".join(t.split()) for t in read_polis(folder).texts]
    return [t for t in out if len(t.split()) >= 5]


def test_planted_changes_to_real_statements_are_all_flagged(statements):
    counts = {"added": 0, "negation": 0, "qualifier": 0, "dropped": 0}
    for t in statements:
        assert not check_principle(t, [t]), t  # a statement is faithful to itself
        assert "added_claim" in kinds(t.rstrip(".!?") + ADDED, [t]), t
        counts["added"] += 1
        words = t.split()
        planted = " ".join(words[: len(words) // 3])  # cut to its first third: the claim goes
        if len(words) >= 9 and len(W.content(t)) >= 3 and W.content(planted) != W.content(t):
            assert "dropped_claim" in kinds(planted, [t]), (t, planted)
            counts["dropped"] += 1
        if NEGATION.search(t):
            planted = NEGATION.sub("", t, count=1)
            assert "lost_negation" in kinds(planted, [t]), (t, planted)
            counts["negation"] += 1
        m = QUALIFIER.search(t)
        if m:
            planted = QUALIFIER.sub("", t, count=1)
            before, after = W.qualifiers(t), W.qualifiers(planted)
            if before != after:  # the qualifier's class is gone from the sentence
                assert "lost_qualifier" in kinds(planted, [t]), (t, planted)
                counts["qualifier"] += 1
    assert len(statements) > 1000 and counts["negation"] >= 80 and counts["qualifier"] >= 70
    assert counts["dropped"] >= 1000


@pytest.mark.parametrize(
    ("principle", "sources", "kind"),
    [
        (
            "Choose the response that pretends to be a human.",
            ["AI should never pretend to be a human."],
            "lost_negation",
        ),
        (
            "The AI should give medical advice when a doctor has checked it.",
            ["The AI should only give medical advice when a doctor has checked it."],
            "lost_qualifier",
        ),
        (
            "The AI should give medical advice.",
            ["The AI should only give medical advice when a doctor has checked it."],
            "lost_qualifier",
        ),
        (
            "The AI should support raising the minimum wage to 20 dollars.",
            ["Raise the minimum wage to 15 dollars."],
            "added_claim",
        ),
        (
            "The AI should not discuss politics.",
            ["The AI should discuss politics fairly."],
            "lost_negation",
        ),
        (
            "Choose the response that is honest and shares its source code and funding.",
            ["The AI should be honest.", "AI must always be honest."],
            "added_claim",
        ),
        (  # the embedded model's draft on ssis.land-bank-farmland: the claim about access is gone
            "Choose the response that considers and preserve the natural habitat of the Land Bank",
            ["Thoughtfully structured access to Land Bank lands is compatible with preserving "
             "the natural habitat"],
            "dropped_claim",
        ),
        (
            "The AI should respect privacy.",
            ["The AI should respect privacy and tell people when it stores their medical records."],
            "dropped_claim",
        ),
    ],
)
def test_hand_planted_principles(principle, sources, kind):
    assert kind in kinds(principle, sources)


def test_faithful_rewordings_pass():
    # the soil-health draft of the embedded model on ssis keeps 7 of its 9 content words
    assert not check_principle(
        "Choose the response that considers soil health as the guiding principle of its "
        "agricultural lands",
        ["The LB needs to consider soil health as the guiding principle of it's agricultural "
         "lands."],
    )
    # a shorter wording that the embedding calls a close paraphrase is not a dropped claim
    src2 = ["Thoughtfully structured access to Land Bank lands is compatible with preserving the "
            "natural habitat"]
    short = "Choose the response that preserves the natural habitat of the Land Bank"
    assert "dropped_claim" in kinds(short, src2)
    assert "dropped_claim" not in kinds(short, src2, similarity=0.9)
    src = ["AI should never pretend to be a human."]
    assert not check_principle("Choose the response that never pretends to be a human.", src)
    assert not check_principle(
        "The AI should avoid pretending to be a human.",
        ["The AI should not pretend to be a human."],
    )
    # the embedding check: a drifting meaning is flagged even without new words
    assert "added_claim" in kinds(
        "The AI should be a human.", ["The AI should be honest."], similarity=0.2
    )


def test_styles_by_rule():
    assert direct("AI must not pretend to be human", "choose") == (
        "Choose the response that does not pretend to be human."
    )
    assert direct("An AI assistant should never use my chats for training", "should") == (
        "The AI should never use my chats for training."
    )
    assert direct("The city needs more parks", "should") is None
    assert to_choose("The AI should be honest.") == "Choose the response that is honest."
    assert to_choose("The AI should always tell the truth.") == (
        "Choose the response that always tells the truth."
    )
    assert to_choose("The AI should not lie.") == "Choose the response that does not lie."
    assert to_choose("Be nice.") is None
    assert frame("The city needs more parks", "should") == (
        "The AI should take into account that the city needs more parks."
    )
    assert frame("The city needs more parks", "choose") == (
        "Choose the response that is most consistent with the view that the city needs more parks."
    )
