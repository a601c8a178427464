"""``run(result, settings, seed)``: topics and the grounded summary of one conversation.

:class:`SensemakingResult` round-trips through a folder (``write`` / ``read``): ``topics.json``
(the topic model, names and stability), ``summary.json`` (``pluralign-summary/1``: sentences,
claims, citations, grounding) and ``summary.md`` (for reading).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from pluralign.sensemaking.settings import SensemakingSettings
from pluralign.sensemaking.summaries import Summary, build_summary
from pluralign.sensemaking.topics import TopicModel, find_topics, stability

FILES = ("topics.json", "summary.json", "summary.md")


@dataclass(frozen=True)
class SensemakingResult:
    """The topics and the summary of a conversation, with the settings that made them."""

    topics: TopicModel
    summary: Summary
    settings: SensemakingSettings

    def write(self, folder) -> Path:
        """Write :data:`FILES` into ``folder`` (atomically, each)."""
        from pluralign.io import atomic_write_text, write_json_atomic

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            folder / "topics.json", {**self.topics.to_dict(), "settings": asdict(self.settings)}
        )
        write_json_atomic(folder / "summary.json", self.summary.to_dict())
        atomic_write_text(folder / "summary.md", self.summary.to_markdown())
        return folder

    @classmethod
    def read(cls, folder) -> SensemakingResult:
        from pluralign.io import read_json

        folder = Path(folder)
        topics = read_json(folder / "topics.json", what="topics")
        settings = SensemakingSettings(**topics.pop("settings", {}))
        summary = Summary.from_dict(
            read_json(folder / "summary.json", what="summary"), str(folder / "summary.json")
        )
        return cls(TopicModel.from_dict(topics), summary, settings)


def topic_model(
    result,
    settings: SensemakingSettings,
    seed: int,
    writer=None,
    texts: dict[int, str] | None = None,
):
    """The named topics of ``result``'s statements and the vectors they came from."""
    from pluralign.models.embed import embed
    from pluralign.sensemaking.naming import name_topics

    ids = [int(s) for s in result.matrix.statements]
    all_texts = [(texts or {}).get(s, t) for s, t in zip(ids, result.matrix.texts, strict=True)]
    vectors, method = embed(all_texts, settings.embedder)
    kw = dict(
        max_topics=settings.max_topics,
        min_topic_size=settings.min_topic_size,
        subtopic_min=settings.subtopic_min,
        max_subtopics=settings.max_subtopics,
    )
    model = find_topics(ids, vectors, seed=seed, embedder=method, **kw)
    if settings.stability_seeds:
        from dataclasses import replace

        seeds = [seed + 1 + k for k in range(settings.stability_seeds)]
        model = replace(model, stability=stability(ids, vectors, model, seeds, **kw))
    model = name_topics(model, dict(zip(ids, all_texts, strict=True)), writer)
    return model, vectors, method


def run(
    result, settings: SensemakingSettings | None = None, seed: int = 0, writer=None
) -> SensemakingResult:
    """Topics and the grounded summary of an
    :class:`~pluralign.aggregate.AggregateResult` (``writer``: a
    :class:`~pluralign.sensemaking.writer.Writer` for LLM topic names and sentences, or None
    for keywords and templates)."""
    from pluralign.errors import InputError
    from pluralign.models.embed import embed

    settings = settings or SensemakingSettings()
    if result.matrix.shape[1] == 0:
        raise InputError(
            "the conversation has no statements",
            where="conversation",
            hint="sensemaking needs statements with votes",
        )
    model, vectors, method = topic_model(result, settings, seed, writer)
    summary = build_summary(
        result,
        model,
        min_votes=settings.min_votes,
        per_topic=settings.per_topic,
        differences_per_topic=settings.differences_per_topic,
        vectors=vectors,
        writer=writer,
        embed_fn=(lambda t: embed(t, method)[0]) if method == "minilm" else None,
        keep_ungrounded=settings.keep_ungrounded,
    )
    return SensemakingResult(model, summary, settings)
