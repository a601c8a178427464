"""Settings of the sensemaking stage: topics and grounded summaries (every default, with help)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from pluralign.constitution.settings import ConstitutionSettings
from pluralign.errors import InputError


def _help(text: str, default: Any) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class SensemakingSettings:
    """What :func:`pluralign.sensemaking.run` does (docs/sensemaking.md)."""

    embedder: str = _help("Sentence vectors: auto (MiniLM when installed, else TF-IDF), minilm "
                          "or tfidf.", ConstitutionSettings.embedder)
    max_topics: int = _help("Most top-level topics.", 15)
    min_topic_size: int = _help("Fewest statements a topic has on average.", 5)
    subtopic_min: int = _help("A topic with at least this many statements gets subtopics.", 24)
    max_subtopics: int = _help("Most subtopics of one topic.", 6)
    stability_seeds: int = _help(
        "Refits with other seeds whose agreement with the topics is reported (0: none).", 4
    )
    min_votes: int = _help("Statements with fewer votes are left out of the summary.", 20)
    per_topic: int = _help("Most common-ground sentences per topic.", 3)
    differences_per_topic: int = _help("Most difference sentences per topic.", 2)
    keep_ungrounded: bool = _help(
        "Keep sentences that fail the grounding check (marked) instead of dropping them.", False
    )

    def __post_init__(self) -> None:
        from pluralign.constitution.embed import METHODS

        if self.embedder not in METHODS:
            raise InputError(
                f"unknown embedder {self.embedder!r}",
                where="embedder",
                hint=f"one of: {', '.join(METHODS)}",
            )
        for name in ("max_topics", "min_topic_size", "subtopic_min", "max_subtopics"):
            if getattr(self, name) < 1:
                raise InputError(f"{name} must be at least 1", where=name)
        for name in ("stability_seeds", "min_votes", "per_topic", "differences_per_topic"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be at least 0", where=name)

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name → help text."""
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}
