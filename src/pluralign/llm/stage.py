"""The LLM synthesis as a run stage: ``run(inputs, settings, seed) -> SynthResult``.

Questions per clause, then answer → critique → revision pairs (``questions.jsonl``,
``pairs.jsonl``), written into the stage's folder as they come (a killed run resumes: finished
items are kept, and requests are cached by their hash); ``usage.json`` records the requests
this call sent, what was written and what the quality gates dropped. A round whose ``steps``
leave out critique and revision prefers the answer written with the clause as an explicit
instruction instead (docs/rounds.md). :meth:`SynthResult.read` reads ``usage.json`` back; the
data stage reads ``pairs.jsonl``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.contract import StageSpec
from pluralign.errors import InputError
from pluralign.llm.config import ProviderSettings
from pluralign.llm.settings import SynthSettings

USAGE_FILE = "usage.json"
PAIRS_FILE = "pairs.jsonl"
QUESTIONS_FILE = "questions.jsonl"


@dataclass(frozen=True)
class SynthInputs:
    """The constitution's clauses, the provider that writes, the folder the texts are written
    into, and the synthesis steps of this round (None: every step)."""

    clauses: Sequence[Any]
    generator: ProviderSettings
    folder: Path
    steps: Sequence[str] | None = None
    usage_log: Path | None = None
    """A JSONL file each call appends its request count to (``RUN/llm-usage.jsonl``)."""
    name: str = "synth"
    """The stage's name in ``usage_log``."""
    generator_sha256: str | None = None
    """The sha256 of the generator's weights when the run knows it (a later round's synthesis
    by the previous round's model); recorded in ``usage.json``."""


@dataclass(frozen=True)
class SynthResult:
    """What a synthesis call did: ``usage.json``."""

    usage: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> int:
        return int(self.usage.get("pairs", 0))

    def write(self, folder: str | Path) -> Path:
        from pluralign.io import write_json_atomic

        path = Path(folder) / USAGE_FILE
        write_json_atomic(path, dict(self.usage), sort_keys=True, default=str)
        return path

    @classmethod
    def read(cls, folder: str | Path) -> SynthResult:
        from pluralign.io import read_json

        return cls(read_json(Path(folder) / USAGE_FILE))


def run(inputs: SynthInputs, settings: SynthSettings, seed: int) -> SynthResult:
    """Questions per clause, then answer → critique → revision pairs (questions.jsonl,
    pairs.jsonl), resumable; usage.json records the requests this call sent."""
    import dataclasses
    import json

    from pluralign.llm.provider import open_provider
    from pluralign.llm.synth import (
        GenerationSettings,
        load_questions,
        synth_questions,
        synth_revisions,
    )
    from pluralign.models.info import quiet_libraries

    quiet_libraries()
    out = Path(inputs.folder)
    clauses = list(inputs.clauses)
    if settings.max_clauses:
        clauses = clauses[: settings.max_clauses]
    gen = GenerationSettings(temperature=settings.temperature, max_tokens=settings.max_tokens,
                             seed=seed, attempts=settings.attempts, language=settings.language)
    with open_provider(inputs.generator) as provider:
        q = synth_questions(provider, clauses, out / QUESTIONS_FILE,
                            settings.questions_per_clause, gen, attempts=settings.attempts,
                            dedup=settings.dedup, show_progress=False)
        r = synth_revisions(provider, clauses, load_questions(out / QUESTIONS_FILE),
                            out / PAIRS_FILE, gen, show_progress=False,
                            critique="critique" in (inputs.steps or ("critique",)))
        usage = dataclasses.asdict(provider.usage)
    failed = q.failed + r.failed
    result = SynthResult({
        "requests": usage["requests"], "cache_hits": usage["cache_hits"], "usage": usage,
        "questions": q.written + q.already_done, "pairs": r.written + r.already_done,
        "failed": failed, "generator": inputs.generator.label(),
        **({"generator_sha256": inputs.generator_sha256} if inputs.generator_sha256 else {}),
        "gates": {**(q.gates or {}).get("steps", {}), **(r.gates or {}).get("steps", {})}})
    result.write(out)  # also when requests failed: what this call did
    if inputs.usage_log is not None:
        with open(inputs.usage_log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"stage": inputs.name, "requests": usage["requests"],
                                 "cache_hits": usage["cache_hits"]}) + "\n")
    if failed:
        raise InputError(f"{failed} LLM requests failed after their retries",
                         hint="run the same command again: finished items are kept")
    return result


STAGE = StageSpec("synth", SynthSettings, run, SynthResult, reads=("constitution", "model"))
