"""Settings of the LLM synthesis stage, every default here: ``pipeline.yaml``'s ``synth:``
section takes its defaults from :class:`SynthSettings` (the generation settings each request
records are :class:`pluralign.llm.synth.GenerationSettings`)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting

DEDUP_METHODS = ("auto", "embedding", "tfidf")


@dataclass(frozen=True)
class SynthSettings(Settings):
    """How many questions per clause, and how each text is asked for (docs/llm.md)."""

    section = "synth"

    questions_per_clause: int = setting(2, "Questions written per clause.", ge=1)
    attempts: int = setting(
        2, "Tries per wanted text: attempts x N question candidates per clause, and each of "
        "answer, critique, revision asked up to this often (docs/llm.md).", ge=1)
    temperature: float = setting(
        0.7, "Sampling temperature of candidates and retries after the first, greedy, one.",
        ge=0)
    max_tokens: int = setting(80, "Most tokens per generated text.", ge=1)
    language: str | None = setting(
        "auto", "Language every synthesised text must be in: auto (the clause's), a code such "
        "as en, or null for no check.")
    max_clauses: int | None = setting(
        None, "Use only the first N clauses (keeps small runs small).", ge=1)
    dedup: str = setting(
        "tfidf", "How near-duplicate questions are found: tfidf, embedding (the sentence "
        "embedder) or auto (embedding when installed).", choices=DEDUP_METHODS)
