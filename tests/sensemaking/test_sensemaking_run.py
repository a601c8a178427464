"""Topics, grounded summaries and LLM-worded principles on a real Polis conversation.

The LLM is a scripted provider (its answers depend on the request), so the tests check what
pluralign does with good and bad answers; the embedded model's own output is measured in
docs/sensemaking.md.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pluralign.errors import InputError
from pluralign.llm.config import ProviderSettings
from pluralign.llm.provider import Provider
from pluralign.llm.types import Completion
from pluralign.sensemaking import SensemakingSettings, run
from pluralign.sensemaking.summaries import Citation, verify
from pluralign.sensemaking.writer import Writer


class Scripted(Provider):
    """Rewords faithfully ("The AI should" + the statement), except that every statement
    mentioning "Brexit" gets an added claim on the first attempt; names a topic after the first
    words of its first statement."""

    def _send(self, request):
        with self._usage_lock:
            self.usage.requests += 1
        user = request.messages[-1][1]
        if "Name the topic" in user:
            first = user.split("\n- ", 1)[1].split()[:2]
            text = "Views on " + " ".join(w.strip(".,;:!?'\"()") for w in first)
        elif "Answer yes or no" in user:
            text = "no"
        elif user.startswith("Statement: "):
            body = user.split("\n", 1)[0].removeprefix("Statement: ").rstrip(".")
            text = f"The AI should consider that {body[:1].lower()}{body[1:]}."
            if "brexit" in body.lower() and request.temperature == 0:
                # in the first sentence (a principle is one sentence; the rest would be cut)
                first = body.split(". ", 1)[0].rstrip(".")
                text = (f"The AI should consider that {first[:1].lower()}{first[1:]} and ban all "
                        "foreign cars by 2030.")
        elif "Participants agree that" in user:
            first = user.split("\n- ", 1)[1].split("\n", 1)[0].rstrip(".")
            text = f"Participants agree that {first[:1].lower()}{first[1:]}."
        else:
            text = "The AI should be fair."
        return Completion(text=text, model="scripted")


@pytest.fixture(scope="module")
def result(polis_dir):
    from pluralign.aggregate import aggregate, read_polis

    return aggregate(read_polis(polis_dir / "brexit-consensus"), seed=0)


@pytest.fixture()
def writer(tmp_path):
    return Writer(
        Scripted(ProviderSettings(base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path / "cache"))
    )


SETTINGS = SensemakingSettings(embedder="tfidf", stability_seeds=2)


def test_summary_offline_is_grounded_and_round_trips(result, tmp_path):
    sense = run(result, SETTINGS, seed=0)
    s = sense.summary
    assert len(sense.topics.topics) >= 2 and s.sentences
    assert s.share_grounded == 1.0
    assert {x.kind for x in s.sentences} == {"common_ground", "difference"}
    votes = dict(
        zip(
            (int(x) for x in result.matrix.statements),
            result.matrix.seen.sum(axis=0).A1,
            strict=True,
        )
    )
    for x in s.sentences:
        assert x.citations and all(votes[c.statement] >= SETTINGS.min_votes for c in x.citations)
    assert verify(s, result).share_grounded == 1.0
    stab = sense.topics.stability
    assert stab is not None and 0 <= stab["leaf_ari_mean"] <= 1
    back = type(sense).read(sense.write(tmp_path / "s"))
    assert back.summary.to_dict() == s.to_dict() and back.settings == SETTINGS
    md = (tmp_path / "s" / "summary.md").read_text()
    assert f"#{s.sentences[0].citations[0].statement}" in md


def test_a_tampered_citation_fails_the_grounding_check(result):
    s = run(result, SETTINGS, seed=0).summary
    first = s.topics[0]
    sentence = first.sentences[0]
    c = sentence.citations[0]
    wrong_share = replace(c, agree={g: max(0.0, v - 0.3) for g, v in c.agree.items()})
    missing = Citation(statement=99999, votes=50, agree={}, disagree={})
    for bad in (wrong_share, missing):
        forged = replace(sentence, citations=(bad,))
        topics = (replace(first, sentences=(forged,)),) + s.topics[1:]
        checked = verify(replace(s, topics=topics), result)
        assert not checked.topics[0].sentences[0].grounded
        assert checked.share_grounded < 1.0
    # claiming a group agrees where it does not fails too
    diff = next(x for x in s.sentences if x.kind == "difference")
    flipped = replace(
        diff, claim=replace(diff.claim, agree=diff.claim.disagree, disagree=diff.claim.agree)
    )
    topics = tuple(
        replace(t, sentences=tuple(flipped if x is diff else x for x in t.sentences))
        for t in s.topics
    )
    assert verify(replace(s, topics=topics), result).share_grounded < 1.0


def test_min_votes_leaves_statements_out(result):
    s = run(result, replace(SETTINGS, min_votes=10**6, stability_seeds=0), seed=0).summary
    assert not s.sentences


def test_llm_sentences_are_checked_and_topics_named(result, writer):
    sense = run(result, SETTINGS, seed=0, writer=writer)
    names = [t.name for t in sense.topics.topics]
    assert all(n.startswith("Views on ") for n in names) and len(set(names)) == len(names)
    s = sense.summary
    assert "llm" in {x.written_by for x in s.sentences}
    assert all(x.grounded for x in s.sentences)  # every sentence kept passed the check
    # the scripted model words a merged group after its first statement alone: those sentences
    # fail the wording check, are replaced by the template, and count as not grounded
    assert s.dropped and all(x.written_by == "llm" and not x.grounded for x in s.dropped)
    assert all(p.startswith("wording:") for x in s.dropped for p in x.problems)
    assert s.share_grounded == pytest.approx(len(s.sentences) / s.written)


def test_principles_reworded_unfaithful_drafts_rejected(result, writer):
    from pluralign.constitution import ConstitutionSettings, draft_constitution

    c = draft_constitution(
        result, settings=ConstitutionSettings(embedder="tfidf", style="choose"), writer=writer
    )
    # the LLM's unflagged drafts count as reworded; a statement kept in the style's frame after
    # every draft was flagged does not
    framed = sum(1 for cl in c.clauses if "frame" in str(cl.note["wording"].get("by", "")))
    assert c.clauses and framed and c.provenance["framed"] == framed
    assert c.provenance["reworded"] == len(c.clauses) - framed
    assert all(cl.text.startswith("Choose the response that") for cl in c.clauses)
    assert all("foreign cars" not in cl.text for cl in c.clauses)
    rejected = [r for cl in c.clauses for r in cl.note["wording"].get("rejected", [])]
    cars = [r for r in rejected if "foreign cars" in r["text"]]
    assert cars and all("added_claim" in {f["kind"] for f in r["flags"]} for r in cars)
    assert all(r["flags"] for r in rejected)  # every rejected draft says why
    # the statements behind each clause are kept exactly as voted on
    texts = dict(zip((int(x) for x in result.matrix.statements), result.matrix.texts, strict=True))
    assert all(e.text == texts[e.statement] for cl in c.clauses for e in cl.evidence)
    assert c.provenance["writer"]["model"] == writer.model


def test_offline_principles_are_cleaned_statements_marked_not_reworded(result):
    from pluralign.constitution import ConstitutionSettings, draft_constitution

    c = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf"))
    assert c.provenance["reworded"] == 0
    assert all("not reworded" in cl.note["wording"]["by"] for cl in c.clauses)
    assert len(c.topics) >= 1 and all(cl.topic in c.topics for cl in c.clauses)


def test_bad_input_is_a_clear_error(result, tmp_path):
    from pluralign.constitution import ConstitutionSettings, draft_constitution
    from pluralign.constitution.check import check_against

    empty = (
        replace(result, matrix=result.matrix[:, []])
        if hasattr(result.matrix, "__getitem__")
        else None
    )
    if empty is not None:
        with pytest.raises(InputError, match="no statements"):
            run(empty, SETTINGS)
    none = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf", min_gac=1.0))
    assert not none.clauses
    c = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf"))
    text = c.to_yaml().replace(f"id: {c.clauses[0].evidence[0].statement}\n", "id: 99999\n", 1)
    edited = type(c).from_yaml(text)
    with pytest.raises(InputError, match="cites statement 99999, which does not exist") as e:
        check_against(edited, result, "constitution.yaml", text)
    assert "line" in str(e.value) or e.value.where
    with pytest.raises(InputError, match="style"):
        ConstitutionSettings(style="poem")


def test_embedded_model_does_not_reword_a_german_conversation(polis_dir, tmp_path):
    """SmolLM2-135M writes English only: on austria-climate (German) it wrote "Choose the
    response that does not delete, delete, delete" and every clause became an English frame
    around a German statement. The draft now keeps the cleaned statements and says why."""
    from pluralign.aggregate import aggregate, read_polis
    from pluralign.constitution import ConstitutionSettings, draft_constitution
    from pluralign.llm.config import ProviderSettings
    from pluralign.sensemaking.writer import Writer

    provider = Scripted(ProviderSettings(checkpoint="smollm2", cache_dir=tmp_path / "cache"))
    result = aggregate(read_polis(polis_dir / "austria-climate.5twd2jsnkf.2022-08-08"), seed=0)
    c = draft_constitution(result, settings=ConstitutionSettings(embedder="tfidf"),
                           writer=Writer(provider))
    assert c.clauses and provider.usage.requests == 0
    assert "'de'" in c.provenance["writer"]["note"] and c.provenance["reworded"] == 0
    assert not any(cl.text.startswith("Choose the response") for cl in c.clauses)
    # the reader is told why, not that the draft was made offline
    headline = c.to_markdown().split("\n## ", 1)[0]
    assert "writes English only" in headline and "offline" not in headline


def test_a_one_person_group_does_not_block_common_ground(result):
    """One participant of brexit-consensus moved into a group of their own (a third group): the
    consensus rule leaves that group out (it cannot cast 3 votes on a statement,
    pluralign.aggregate.consensus.taking_part), and so does the summary: common ground still
    claims "every group" of the two that take part, cites only them, and passes the grounding
    check. With every group taking part (min_group_coverage 0, the rule before) the one person
    blocks all common ground and every difference."""
    import numpy as np

    from pluralign.aggregate.pipeline import _result

    groups = result.groups.copy()
    groups[np.flatnonzero(groups == 0)[0]] = 2

    def regroup(coverage):
        settings = replace(result.settings,
                           consensus=replace(result.settings.consensus,
                                             min_group_coverage=coverage))
        return _result(result.matrix, settings, result.seed, result.in_conv,
                       result.in_conv_source, groups, result.projection, 3, result.silhouettes,
                       result.bridging, result.explained_variance)

    three = regroup(0.5)
    assert three.n_groups == 3 and len(three.consensus) > 0
    s = run(three, replace(SETTINGS, stability_seeds=0), seed=0).summary
    common = [x for x in s.sentences if x.kind == "common_ground"]
    assert common and all(x.claim.agree == (0, 1) for x in common)
    assert all(set(c.agree) == {0, 1} for x in common for c in x.citations)
    assert s.share_grounded == 1.0 and verify(s, three).share_grounded == 1.0
    before = regroup(0.0)
    assert len(before.consensus) == 0
    assert not run(before, replace(SETTINGS, stability_seeds=0), seed=0).summary.sentences
