"""The first stage of a curriculum (``rounds.steps: [questions, answers]``, docs/rounds.md): each
question is answered plainly and with the clause put before it as an explicit instruction; the
pair prefers the instructed answer, no critique is asked, and an instructed answer that does not
take up the clause is rejected by the revision gate and recorded."""

from __future__ import annotations

import json

from pluralign.constitution.document import Clause
from pluralign.llm import prompts as P
from pluralign.llm.config import ProviderSettings
from pluralign.llm.provider import Provider
from pluralign.llm.synth import GenerationSettings, step_seed, synth_revisions
from pluralign.llm.types import Completion

CLAUSE = "The assistant should mention the cost of public transport for families."


class Scripted(Provider):
    """Plain answers talk about the weather; an instructed answer (its user turn starts with the
    clause) takes up the clause's words, except for the question marked 'stubborn'."""

    def __init__(self, config):
        super().__init__(config)
        self.sent: list[tuple[str, int, str]] = []

    def _send(self, request):
        system, user = request.messages[0][1], request.messages[-1][1]
        instructed = user.startswith("Keep in mind that")
        step = "critique" if system == P.CRITIQUE_SYSTEM else (
            "instructed" if instructed else "answer")
        with self._usage_lock:
            self.usage.requests += 1
            self.sent.append((step, request.seed, user))
        if instructed and "stubborn" not in user:
            text = ("Buses are a good choice, and tickets for families cost less with a "
                    "public transport pass.")
        else:
            text = "It depends on the weather and on how far you travel each day."
        return Completion(text=text, model="scripted")


def test_instructed_pairs_prefer_the_answer_written_with_the_clause(tmp_path):
    provider = Scripted(ProviderSettings(base_url="http://127.0.0.1:9/v1"))
    clauses = [Clause("c1", CLAUSE)]
    questions = [{"key": "q1", "clause_id": "c1", "question": "How should I get to work?"},
                 {"key": "q2", "clause_id": "c1", "question": "Any stubborn advice on commuting?"}]
    out = tmp_path / "pairs.jsonl"
    summary = synth_revisions(provider, clauses, questions, out,
                              GenerationSettings(seed=3, attempts=2), show_progress=False,
                              critique=False)
    rows = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
    pairs = [r for r in rows if "chosen" in r]
    assert len(pairs) == 1 and summary.written == 1 and summary.skipped == 1
    pair = pairs[0]
    assert pair["source"] == "synth:instructed" and pair["prompt"] == "How should I get to work?"
    assert "families" in pair["chosen"] and "weather" in pair["rejected"]
    assert pair["provenance"]["critique"] is None
    steps = [s for s, _, _ in provider.sent]
    assert "critique" not in steps and steps.count("answer") == 2
    # the instruction is the clause, before the user's message; seeds are the step's own
    instructed = [(seed, user) for s, seed, user in provider.sent if s == "instructed"]
    assert instructed[0][1] == P.REVISION_USER.format(
        point=P.lower_first(CLAUSE.rstrip(".")), prompt="How should I get to work?")
    assert {seed for seed, _ in instructed} <= {step_seed(3, "instructed", a) for a in (0, 1)}
    # the stubborn question's instructed answers never took up the clause: dropped, with why
    gates = json.loads((tmp_path / "pairs.jsonl.gates.json").read_text())
    assert gates["steps"]["instructed"]["rejected"] == 2  # both attempts
    assert "same_as_answer" in gates["steps"]["instructed"]["by_reason"]
