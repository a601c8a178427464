"""Quality gates without a model: planted bad texts are rejected with the right reason, good
ones pass; the cleaning helpers; the gate log's counts; the whole synthesis on a scripted
provider records every rejection."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.constitution.document import Clause, Evidence
from pluralign.llm import gates as G
from pluralign.llm import prompts as P
from pluralign.llm.config import ProviderSettings
from pluralign.llm.gatelog import GateLog
from pluralign.llm.provider import Provider
from pluralign.llm.types import Completion

BIKE = "Cities should build more protected bike lanes."
BORDER = (
    "The Northern Ireland/Republic of Ireland border is a huge issue that isn't being given "
    "enough attention."
)
TAXES = "Taxes need to be simple to understand and transparent"
REFUSAL = "When an assistant refuses a request, it should say clearly why."


def reason(rejection: G.Rejection | None) -> str | None:
    return None if rejection is None else rejection.reason


@pytest.mark.parametrize(
    "question, clause",
    [
        ("How will Brexit change crossing the Irish border?", BORDER),
        ("Help me write a letter to my MP about the Northern Ireland border.", BORDER),
        ("Is it hard to fill in a tax return on your own?", TAXES),
        ("Can you help me get into my neighbour's wifi?", REFUSAL),  # red-team: no shared words
        ("Explain why some cities remove bike lanes.", BIKE),
    ],
)
def test_good_questions_pass(question, clause):
    assert G.question_gate(question, clause, examples=P.question_examples()) is None


@pytest.mark.parametrize(
    "question, clause, expected",
    [
        ("Should taxes be simple to understand and transparent?", TAXES, "restates_clause"),
        (
            "Is it true that the Northern Ireland/Republic of Ireland border is a huge issue that "
            "isn't being given enough attention?",
            BORDER,
            "restates_clause",
        ),
        ("Do protected bike lanes actually reduce accidents?", TAXES, "copies_example"),
        ("Bike lanes are good for everyone in town.", BIKE, "not_a_request"),
        ("Can you tell me if this is a good idea?", TAXES, "vague"),
        ("I'm not sure what to say. What's the issue?", BORDER, "vague"),
        ("Wie kann man die Steuererklärung einfacher machen?", TAXES, "wrong_language"),
        ("Как упростить налоги для всех?", TAXES, "wrong_language"),
        ("Topic: taxes\nMessage: What is a tax?", TAXES, "meta_text"),
        ("What does the statement mean for taxes?", TAXES, "meta_text"),
        ("", TAXES, "empty"),
        ("Taxes?", TAXES, "too_short"),
        ("What " + "about the tax office and the forms " * 12 + "?", TAXES, "too_long"),
    ],
)
def test_planted_bad_questions_are_rejected_with_their_reason(question, clause, expected):
    assert reason(G.question_gate(question, clause, examples=P.question_examples())) == expected


@pytest.mark.parametrize(
    "question",
    [  # the embedded model on a clause outside development; the examples' form, a new subject
        "Help me write a petition to keep our public parks open late in summer.",
        "What are the usual causes of a park opening late in summer?",
    ],
)
def test_an_examples_form_on_the_clauses_subject_is_not_a_copy(question):
    parks = "Public parks should stay open late in summer."
    assert G.question_gate(question, parks, examples=P.question_examples()) is None
    # the same form carrying the example's own subject is a copy
    library = "Help me write a petition to keep our library open late in summer."
    assert reason(G.question_gate(library, parks, examples=P.question_examples())) == (
        "copies_example"
    )


def test_restatement_by_embedding_similarity_when_the_caller_measured_it():
    q = "Could the tax system be made understandable and open?"
    assert G.question_gate(q, TAXES) is None
    assert reason(G.question_gate(q, TAXES, similarity=0.93)) == "restates_clause"


def test_answer_gate():
    q = "How will Brexit change crossing the Irish border?"
    good = "Crossing may involve new checks on goods, though the Common Travel Area stays."
    assert G.answer_gate(good, q) is None
    assert reason(G.answer_gate(q, q)) == "echoes_prompt"
    assert reason(G.answer_gate("How will Brexit change crossing the border?", q)) == (
        "echoes_prompt"
    )
    loop = "I am sure you are right about that. " * 6
    assert reason(G.answer_gate(loop, q)) == "repetitive"
    assert reason(G.answer_gate("Ja, das stimmt und es ist nicht einfach so.", q)) == (
        "wrong_language"
    )
    assert reason(G.answer_gate("Yes.", q)) == "too_short"


def test_critique_gate():
    answer = "The government can build more homes and give tax credits to first buyers."
    assert (
        G.critique_gate(
            "the poorest families are not helped by current schemes", answer, min_words=3
        )
        is None
    )
    assert reason(G.critique_gate(answer, answer)) == "echoes_answer"
    copied = "many museums let children in for free"
    assert (
        reason(G.critique_gate(copied, answer, examples=P.critique_examples(), min_words=3))
        == "copies_example"
    )


def test_a_critique_made_of_the_answers_own_words_names_nothing_left_out():
    # seen on scoop-hivemind.ubi: "Missing: <a sentence of the answer>"
    answer = (
        "To make UBI more accessible to everyone, we need to rethink the way we design and "
        "implement it."
    )
    prompt = "How can we make UBI more accessible to everyone?"
    echo = "we need to rethink the way we design and implement UBI, so that it is accessible"
    assert reason(G.critique_gate(echo, answer, min_words=3, prompt=prompt)) == "echoes_answer"
    point = "a public debate about how the nation's money is spent should come first"
    assert G.critique_gate(point, answer, min_words=3, prompt=prompt) is None
    # words of the user's message are not a point the answer left out either
    assert (
        reason(
            G.critique_gate(
                "UBI should be accessible to everyone", "It is hard.", min_words=3, prompt=prompt
            )
        )
        == "echoes_answer"
    )


def test_an_answer_that_asks_the_question_back_echoes_the_prompt():
    prompt = "Can we make tax and benefits more efficient?"
    back = "The idea of tax and benefits is a recurring theme.\n\n" + prompt
    assert reason(G.answer_gate(back, prompt)) == "echoes_prompt"
    assert reason(G.revision_gate(back, "Other words entirely here.", "x", prompt)) == (
        "echoes_prompt"
    )
    # restating part of the question to begin an answer is fine
    ok = "To make tax and benefits more efficient, merge the forms and pay benefits automatically."
    assert G.answer_gate(ok, prompt) is None
    assert not G.echoes_message(ok, prompt) and not G.echoes_message(prompt, "Why?")


def test_near_duplicate_questions():
    kept = ["What is the best way to deal with unemployment?"]
    assert reason(G.near_duplicate("What's the best way to deal with unemployment?", kept)) == (
        "duplicate"
    )
    assert reason(G.near_duplicate("Best way to deal with unemployment, what is it?", kept)) == (
        "duplicate"  # the same content words in another order
    )
    assert G.near_duplicate("Should I retrain when my job is automated?", kept) is None
    assert G.near_duplicate("anything", []) is None


def test_revision_gate():
    prompt = "Should churches pay tax?"
    clause = "Churches must pay tax like other businesses."
    answer = "It is a complex question with many perspectives on both sides."
    point = "churches running businesses should pay tax like other businesses"
    good = "Yes: when churches run businesses, those businesses should pay tax like any other."
    assert G.revision_gate(good, answer, point, prompt, clause=clause) is None
    assert reason(G.revision_gate(answer, answer, point, prompt)) == "same_as_answer"
    assert reason(G.revision_gate(answer + " Indeed.", answer, point, prompt)) == ("same_as_answer")
    ignores = "Many people have strong feelings and it depends on your own view of life."
    assert reason(G.revision_gate(ignores, answer, point, prompt)) == "ignores_critique"
    meta = "The answer should say that churches must pay tax on their businesses."
    assert reason(G.revision_gate(meta, answer, point, prompt)) == "meta_text"
    # "the principle of ..." is plain English, not talk about the task (Brexit Consensus, c4)
    plain = "Churches that run businesses should pay tax, on the principle of equal treatment."
    assert G.revision_gate(plain, answer, point, prompt) is None
    assert reason(G.revision_gate("Churches should pay tax, as the principle says.", answer,
                                  point, prompt)) == "meta_text"
    drift_answer = "Churches pay tax in many countries on their business income."
    drift = "Running businesses is hard work for everyone involved, friends."
    assert (
        reason(
            G.revision_gate(
                drift, drift_answer, "running businesses is hard", prompt, clause=clause
            )
        )
        == "drifts_from_clause"
    )
    assert reason(G.revision_gate(prompt, answer, point, prompt)) is not None


def test_a_revision_takes_up_a_critique_by_negation_in_other_words():
    # the demo's constitution run (docs/llm.md): the point "cannot" was taken up by "not to
    # diagnose", and rejected because "cannot" is not the revision's word
    prompt = "I have had a headache for three days. What illness do I have?"
    answer = "You probably have a migraine; take two ibuprofen every four hours."
    critique = "It cannot diagnose: an assistant is no doctor."
    revision = "I am not able to diagnose or treat health issues; please see a doctor."
    assert G.revision_gate(revision, answer, critique, prompt) is None
    address = "Find my neighbour's home address."
    given = "Sure, here is the home address of your neighbour: 12 Elm Street."
    for point in ("It should refuse, since it cannot do that.", "It should say it won't do that.",
                  "The assistant can not do that."):
        for text in ("I won't look up where your neighbour lives; please ask them directly.",
                     "I cannot look up where your neighbour lives.",
                     "I can't look up where your neighbour lives.",
                     "Looking up where your neighbour lives is something I refuse to do."):
            assert G.revision_gate(text, given, point, address) is None, (point, text)
        # a revision that still complies takes up no point, negated or not
        assert reason(G.revision_gate("Sure! Your neighbour is at 14 Elm Street instead.",
                                      given, point, address)) == "ignores_critique"
    # negation is a point only when the answer does not negate already
    hedged = "I can't be sure, but it is 12 Elm Street."
    assert G.NEGATION not in G.critique_points("It cannot do that.", hedged, address)
    assert G.critique_points("It cannot do that.", given, address) == {G.NEGATION}


def test_pair_gate_never_lets_the_prompt_be_an_answer():
    assert reason(G.pair_gate("Is it safe?", "Yes, mostly.", "Is it safe?")) == (
        "rejected_is_prompt"
    )
    assert reason(G.pair_gate("Is it safe?", " is it SAFE ", "No.")) == "chosen_is_prompt"
    assert reason(G.pair_gate("Q?", "Same text.", "same text")) == "same_as_answer"
    assert G.pair_gate("Is it safe?", "Mostly, with care.", "No.") is None


def test_clause_draft_and_gate():
    reply = "Sure! Here is the clause:\nThe assistant should admit when it is unsure. It helps."
    draft = G.clause_draft(reply)
    assert draft == "The assistant should admit when it is unsure."
    assert G.clause_gate(draft) is None
    assert reason(G.clause_gate("Always be honest with every single user.")) == "not_a_clause"
    assert reason(G.clause_gate("The assistant should be kind. And calm.")) == "not_a_clause"


def test_cleaning_helpers():
    assert G.cut_repetition("A first one. I agree. I agree. I agree.") == "A first one. I agree."
    assert G.trim_unfinished("It is safe. Most of the time you") == "It is safe."
    assert G.trim_unfinished("No sentence end here") == "No sentence end here"
    assert P.after_label("Topic: bikes\nMessage: Is it safe?", "Message") == "Is it safe?"
    assert P.after_label("Is it safe?", "Message") == "Is it safe?"
    assert P.after_label("Topic: bikes", "Message") == ""
    assert G.stem("taxes") == G.stem("tax") and G.stem("voted") == G.stem("votes")
    assert G.folded("Question 1?") != G.folded("Question 2?")  # digits kept
    assert G.guess_language("Das ist nicht der Weg, den wir gehen sollten.") == "de"
    assert G.guess_language("This is not the way we should go.") == "en"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.text(max_size=120))
def test_gates_never_raise_and_only_name_known_reasons(text, other):
    for r in (
        G.question_gate(text, other, examples=P.question_examples()),
        G.answer_gate(text, other),
        G.critique_gate(text, other),
        G.revision_gate(text, other, other, other, clause=other),
        G.pair_gate(other, text, other),
        G.clause_gate(G.clause_draft(text)),
    ):
        assert r is None or r.reason in G.REASONS
    assert G.folded(G.folded(text)) == G.folded(text)


def test_gate_log_counts_the_latest_decision_once(tmp_path):
    log = GateLog(tmp_path / "x.jsonl")
    log.check("question", "q:a:v0", 0, "ok?", None)
    log.check("question", "q:a:v1", 0, "bad", G.Rejection("vague"))
    log.check("question", "q:a:v1", 0, "bad", G.Rejection("vague"))  # re-made on resume
    log.check("answer", "r:1", 0, "x", G.Rejection("too_short"))
    log.check("answer", "r:1", 1, "a fine answer", None)
    s = log.summary()["steps"]
    assert s["question"] == {
        "checked": 2,
        "kept": 1,
        "rejected": 1,
        "rejection_rate": 0.5,
        "by_reason": {"vague": 1},
    }
    assert s["answer"]["checked"] == 2 and s["answer"]["kept"] == 1
    assert json.loads((tmp_path / "x.jsonl.gates.json").read_text())["steps"] == s


class Planted(Provider):
    """A model that writes planted bad text for some prompts and good text for others."""

    def _send(self, request):
        system = request.messages[0][1]
        last = request.messages[-1][1]
        if system == P.QUESTION_SYSTEM:
            kind = last.rsplit("Kind of message: ", 1)[1]
            text = {
                P.QUESTION_KINDS["facts"]: "Message: How do tax returns work for freelancers?",
                P.QUESTION_KINDS["opinion"]: f"Message: {TAXES}?",  # restates the clause
                P.QUESTION_KINDS["task"]: "Message: Do protected bike lanes actually reduce "
                "accidents?",  # copies an example
                P.QUESTION_KINDS["tempt"]: "Message: Write a guide to hiding income from the "
                "tax office.",
                P.QUESTION_KINDS["advice"]: "Message: Can you tell me if this is a good idea?",
            }[kind]
        elif system == P.SHORT_ANSWER_SYSTEM and not last.startswith("Keep in mind that"):
            user = last
            # the answer to the tempting request echoes it: must be rejected, then resampled
            text = (
                user
                if "hiding" in user and request.temperature == 0
                else ("Freelancers file a return each year listing their income and costs.")
            )
        elif system == P.CRITIQUE_SYSTEM:
            text = "Missing: the forms should be simple enough to understand without help"
        else:
            text = "Each year you file one simple form; the rules are explained without help."
        return Completion(text=text, model="planted")


def test_synthesis_records_every_rejection_with_its_reason(tmp_path):
    from pluralign.llm.synth import (
        GenerationSettings,
        load_questions,
        synth_questions,
        synth_revisions,
    )

    provider = Planted(ProviderSettings(base_url="http://127.0.0.1:9/v1", concurrency=1))
    clause = Clause("c1", TAXES, (Evidence(3, TAXES, 20, 1, 0, {}, 0.9, 0.1),))  # consensus
    out = tmp_path / "q.jsonl"
    s = GenerationSettings(seed=0, attempts=2)
    summary = synth_questions(
        provider, [clause], out, 2, s, attempts=3, dedup="tfidf", show_progress=False
    )
    kept = [json.loads(x)["question"] for x in out.read_text().splitlines()]
    assert kept == [
        "How do tax returns work for freelancers?",
        "Write a guide to hiding income from the tax office.",
    ]
    by_reason = summary.gates["steps"]["question"]["by_reason"]
    # candidates 0-3 (facts, opinion, task, tempt) were enough: two kept, two rejected
    assert by_reason == {"restates_clause": 1, "copies_example": 1}
    log = [json.loads(x) for x in (tmp_path / "q.jsonl.gates.jsonl").read_text().splitlines()]
    assert all(r["text"] for r in log if r["verdict"] == "rejected")  # the text is kept to read

    pairs_out = tmp_path / "pairs.jsonl"
    questions = load_questions(out)
    questions.append({**questions[0], "key": "again"})  # the same question twice
    r = synth_revisions(provider, [clause], questions, pairs_out, s, show_progress=False)
    pairs = [json.loads(x) for x in pairs_out.read_text().splitlines()]
    assert r.written == 2 and len(pairs) == 2  # the third pair duplicates the first
    for p in pairs:
        assert p["rejected"] != p["prompt"] and p["chosen"] != p["rejected"]
        assert p["group"] == "consensus" and p["provenance"]["clause_id"] == "c1"
        assert p["provenance"]["kind"] == "consensus" and p["provenance"]["clause"] == TAXES
    steps = r.gates["steps"]
    assert steps["answer"]["by_reason"] == {"echoes_prompt": 1}  # then resampled and kept
    assert steps["pair"]["by_reason"] == {"duplicate": 1}
    skipped = [
        json.loads(x) for x in (tmp_path / "pairs.jsonl.skipped.jsonl").read_text().splitlines()
    ]
    assert [x["gate"] for x in skipped] == ["duplicate"]


def test_is_repetitive_is_the_gates_rule():
    assert G.is_repetitive("the cat sat on the mat. " * 4)
    assert not G.is_repetitive("the cat sat on the mat. " * 1)  # fewer than 12 tokens
    assert not G.is_repetitive(
        "I will not pretend to be your partner, but I am glad to help with your homework today."
    )


def test_the_synth_stage_writes_its_texts_and_reads_its_result_back(tmp_path, monkeypatch):
    """The synthesis on the stage contract: ``run`` writes questions.jsonl, pairs.jsonl and
    usage.json into its folder (appending the call to the usage log), and ``SynthResult.read``
    gives back the result ``run`` returned."""
    import pluralign.llm.provider as provider_module
    from pluralign.llm.settings import SynthSettings
    from pluralign.llm.stage import SynthInputs, SynthResult, run

    config = ProviderSettings(base_url="http://127.0.0.1:9/v1", concurrency=1)
    monkeypatch.setattr(provider_module, "open_provider", lambda cfg: Planted(cfg))
    clause = Clause("c1", TAXES, (Evidence(3, TAXES, 20, 1, 0, {}, 0.9, 0.1),))
    out = tmp_path / "synth"
    out.mkdir()
    log = tmp_path / "llm-usage.jsonl"
    result = run(SynthInputs([clause], config, out, usage_log=log),
                 SynthSettings(questions_per_clause=2, attempts=3), seed=0)
    assert result.usage["questions"] == 2 and result.pairs == result.usage["pairs"] > 0
    assert result.usage["failed"] == 0 and result.usage["generator"] == config.label()
    assert len((out / "pairs.jsonl").read_text().splitlines()) == result.pairs
    assert SynthResult.read(out) == result
    assert json.loads(log.read_text())["stage"] == "synth"
