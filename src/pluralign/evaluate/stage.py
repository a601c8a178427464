"""The evaluation as a run stage: ``run(inputs, settings, seed) -> EvaluateResult``.

Held-out preference accuracy per group, the base model (before) against the trained model
(after), with the implicit reward beside (``metrics.json``, ``margins.json``), and the greedy
answers of both models to held-out prompts (``generations.jsonl``). Each model is loaded once:
its log-probabilities of every held-out reply and its answers come from the same load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.contract import StageSpec
from pluralign.evaluate.run import EvaluationResult
from pluralign.evaluate.settings import EvaluateSettings

GENERATIONS_FILE = "generations.jsonl"


@dataclass(frozen=True)
class EvaluateInputs:
    """The held-out pairs (``PreferencePair.to_dict`` rows), the two models and the
    constitution's clauses (to name the clause each held-out prompt was written for)."""

    rows: Sequence[Mapping[str, Any]]
    base: Path
    trained: Path
    clauses: Sequence[Any] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluateResult:
    """The metrics and the generations of one evaluation."""

    metrics: EvaluationResult
    generations: tuple[Mapping[str, Any], ...] = ()

    def write(self, folder: str | Path) -> Path:
        from pluralign.evaluate.generations import write_generation_rows

        path = self.metrics.write(folder)
        if self.generations:
            write_generation_rows(Path(folder) / GENERATIONS_FILE, self.generations)
        return path

    @classmethod
    def read(cls, folder: str | Path) -> EvaluateResult:
        from pluralign.evaluate.generations import read_generation_rows

        return cls(EvaluationResult.read(folder),
                   tuple(read_generation_rows(Path(folder) / GENERATIONS_FILE)))


def run(inputs: EvaluateInputs, settings: EvaluateSettings, seed: int) -> EvaluateResult:
    """Held-out preference accuracy per group, base model (before) vs trained model (after),
    with the implicit reward beside (metrics.json); greedy answers of both models to held-out
    prompts (generations.jsonl)."""
    from pluralign.errors import InputError
    from pluralign.evaluate.generations import (
        clause_of_statements,
        generation_rows,
        heldout_prompts,
        score_and_answer,
    )
    from pluralign.evaluate.run import evaluate_models, unique_rows

    rows = [dict(r) for r in inputs.rows]
    if not rows:
        raise InputError("no held-out pairs to evaluate on",
                         hint="raise data.heldout_fraction or add preference data")
    clauses = clause_of_statements(list(inputs.clauses)) if inputs.clauses else {}
    items = heldout_prompts(rows, settings.generations, clauses)
    prompts = [item["prompt"] for item in items]
    uniq, _ = unique_rows(rows)
    gen = {"max_new_tokens": settings.max_new_tokens}
    base_lp, before = score_and_answer(inputs.base, uniq, prompts, **gen)
    trained_lp, after = score_and_answer(inputs.trained, uniq, prompts, **gen)
    metrics = evaluate_models(inputs.trained, inputs.base, rows, settings, seed=seed,
                              provenance=dict(inputs.provenance),
                              logps={"policy": trained_lp, "ref": base_lp})
    return EvaluateResult(metrics, tuple(generation_rows(items, before, after)) if items else ())


STAGE = StageSpec("evaluate", EvaluateSettings, run, EvaluateResult,
                  reads=("data", "model", "train", "constitution"))
