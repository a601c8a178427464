"""Settings of the sensemaking stage: topics and grounded summaries (every default, with help).

``pluralign summarize``'s options take their defaults and help from :class:`SensemakingSettings`;
the constitution stage runs sensemaking with its own embedder and topic count
(:class:`~pluralign.constitution.settings.ConstitutionSettings`; both take the one embedder
default, :data:`pluralign.models.settings.DEFAULT_EMBEDDER`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pluralign.contract import Settings, setting
from pluralign.models.settings import DEFAULT_EMBEDDER, EMBEDDERS


@dataclass(frozen=True)
class SensemakingSettings(Settings):
    """What :func:`pluralign.sensemaking.run` does (docs/sensemaking.md)."""

    section = "sensemaking"

    embedder: str = setting(DEFAULT_EMBEDDER, "Sentence vectors: auto (MiniLM when "
                            "installed, else TF-IDF), minilm or tfidf.", choices=EMBEDDERS)
    max_topics: int = setting(15, "Most top-level topics.", ge=1)
    min_topic_size: int = setting(5, "Fewest statements a topic has on average.", ge=1)
    subtopic_min: int = setting(
        24, "A topic with at least this many statements gets subtopics.", ge=1)
    max_subtopics: int = setting(6, "Most subtopics of one topic.", ge=1)
    stability_seeds: int = setting(
        4, "Refits with other seeds whose agreement with the topics is reported (0: none).", ge=0)
    min_votes: int = setting(20, "Statements with fewer votes are left out of the summary.", ge=0)
    per_topic: int = setting(3, "Most common-ground sentences per topic.", ge=0)
    differences_per_topic: int = setting(2, "Most difference sentences per topic.", ge=0)
    keep_ungrounded: bool = setting(
        False, "Keep sentences that fail the grounding check (marked) instead of dropping them.")

    @classmethod
    def help(cls) -> dict[str, str]:
        """Field name → help text."""
        return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
