"""Critique → revision with a model that ignores its context (like the tiny model): each step
samples with its own seed (or a context-blind model repeats its answer as the revision), retries
use fresh seeds, and every item ends as a pair or as a recorded rejection, never lost."""

from __future__ import annotations

import json
import random

from pluralign.constitution.document import Clause
from pluralign.llm import prompts as P
from pluralign.llm.config import ProviderSettings
from pluralign.llm.provider import Provider
from pluralign.llm.synth import GenerationSettings, step_seed, synth_revisions
from pluralign.llm.types import Completion

VOCAB = ["river", "lamp", "quiet", "orange", "table", "music", "garden", "window"]
VOCAB += ["letter", "bridge", "cloud", "stone"]


class SeedOnly(Provider):
    """Answers with English words drawn from the request's seed only (not from the messages);
    records (step, seed) of every request sent."""

    def __init__(self, config):
        super().__init__(config)
        self.sent: list[tuple[str, int]] = []

    def _send(self, request):
        system, user = request.messages[0][1], request.messages[-1][1]
        if system == P.CRITIQUE_SYSTEM:
            step = "critique"
        else:  # the revision's user turn starts with the critique's point
            step = "revision" if user.startswith("Keep in mind that") else "answer"
        with self._usage_lock:
            self.usage.requests += 1
            self.sent.append((step, request.seed))
        rng = random.Random(request.seed)
        text = "The " + " ".join(rng.choice(VOCAB) for _ in range(7)) + "."
        return Completion(text=text, model="seed-only")


def _run(tmp_path, out_name: str) -> tuple[list[dict], SeedOnly]:
    config = ProviderSettings(base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path / "cache")
    provider = SeedOnly(config)
    clauses = [Clause("c1", "Say when you are unsure.")]
    questions = [{"key": f"q{i}", "clause_id": "c1", "question": f"Question {i}?"} for i in (1, 2)]
    out = tmp_path / out_name
    synth_revisions(
        provider, clauses, questions, out, GenerationSettings(seed=5, attempts=3),
        show_progress=False,
    )
    return [json.loads(x) for x in out.read_text().splitlines() if x.strip()], provider


def test_each_step_and_attempt_has_its_own_seed_and_no_item_is_lost(tmp_path):
    rows, provider = _run(tmp_path, "pairs.jsonl")
    allowed = {
        s: {step_seed(5, s, a) for a in range(3)} for s in ("answer", "critique", "revision")
    }
    assert provider.sent and all(seed in allowed[step] for step, seed in provider.sent)
    assert {seed for step, seed in provider.sent if step == "answer"} == {step_seed(5, "answer")}
    assert len(set().union(*allowed.values())) == 9  # no two (step, attempt) share a seed
    # the answer and a revision are drawn with different seeds, so they never coincide
    for row in rows:
        assert row["chosen"] != row["rejected"]
    skipped = tmp_path / "pairs.jsonl.skipped.jsonl"
    dropped = [json.loads(x) for x in skipped.read_text().splitlines()] if skipped.exists() else []
    assert len(rows) + len(dropped) == 2  # every item: a pair or a recorded rejection
    steps = ("answer", "critique", "revision", "pair")
    assert all(d["gate"] and d["step"] in steps for d in dropped), dropped
    gates = json.loads((tmp_path / "pairs.jsonl.gates.json").read_text())["steps"]
    assert gates["answer"]["checked"] == 2
    assert sum(s["checked"] for s in gates.values()) == sum(
        1 for line in (tmp_path / "pairs.jsonl.gates.jsonl").read_text().splitlines() if line
    )

    again, warm = _run(tmp_path, "pairs-again.jsonl")  # same requests: all from the cache
    assert [r["chosen"] for r in again] == [r["chosen"] for r in rows]
    assert warm.usage.requests == 0 and warm.usage.cache_hits > 0
