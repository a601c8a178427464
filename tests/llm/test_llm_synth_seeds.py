"""Critique → revision with a model that ignores its context (like the tiny model): each step
must sample with its own seed, or the revision repeats the answer and no pair is written."""

from __future__ import annotations

import json

from pluralign.llm.config import ProviderConfig
from pluralign.llm.constitution_io import Clause
from pluralign.llm.provider import Provider
from pluralign.llm.synth import SynthSettings, step_seed, synth_revisions
from pluralign.llm.types import Completion


class SeedOnly(Provider):
    """Answers with a text that depends only on the request's seed (not on the messages)."""

    def _send(self, request):
        with self._usage_lock:
            self.usage.requests += 1
        return Completion(text=f"words drawn with seed {request.seed}", model="seed-only")


def _run(tmp_path, out_name: str) -> tuple[list[dict], Provider]:
    config = ProviderConfig(base_url="http://127.0.0.1:9/v1", cache_dir=tmp_path / "cache")
    provider = SeedOnly(config)
    clauses = [Clause("c1", "Say when you are unsure.")]
    questions = [{"key": f"q{i}", "clause_id": "c1", "question": f"Question {i}?"} for i in (1, 2)]
    out = tmp_path / out_name
    synth_revisions(provider, clauses, questions, out, SynthSettings(seed=5), show_progress=False)
    return [json.loads(x) for x in out.read_text().splitlines() if x.strip()], provider


def test_revision_uses_its_own_seed_so_a_context_blind_model_still_gives_pairs(tmp_path):
    rows, provider = _run(tmp_path, "pairs.jsonl")
    assert len(rows) == 2  # one pair per question, none skipped
    for row in rows:
        assert row["chosen"] == f"words drawn with seed {step_seed(5, 'revision')}"
        assert row["rejected"] == f"words drawn with seed {step_seed(5, 'answer')}"
    assert len({step_seed(5, s) for s in ("answer", "critique", "revision")}) == 3
    assert provider.usage.requests > 0

    again, warm = _run(tmp_path, "pairs-again.jsonl")  # same requests: all from the cache
    assert again and [r["chosen"] for r in again] == [r["chosen"] for r in rows]
    assert warm.usage.requests == 0 and warm.usage.cache_hits > 0
