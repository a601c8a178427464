"""Draft a constitution from the statements every opinion group agreed with.

Following Collective Constitutional AI (Anthropic & the Collective Intelligence Project, 2023),
which kept Polis statements with high agreement in every opinion group, the candidate clauses
are the statements that are cross-group consensus under :class:`ConstitutionSettings.rule`, the one
definition :mod:`pluralign.aggregate.consensus` gives (and ``pluralign aggregate`` lists): in
every group at least ``min_group_votes`` (3) votes, a posterior probability of at least
``min_posterior`` (0.25) that every group — and every half of a group — agrees (agree share ≥
0.65, disagree share ≤ 0.15; a prior worth 15 votes centred on the statement's overall shares),
and GAC = Π_g (A_g + 1)/(S_g + 2) ≥ ``min_gac`` (default 0.5^G for G groups) — "every group"
being the groups that can be heard (``min_group_coverage``: a one-person group does not veto).

The candidates become principles (:mod:`pluralign.constitution.principles`): grouped by topic,
merged when they say the same thing, written in one ``style`` (``choose``: "Choose the response
that …", ``should``: "The AI should …", ``verbatim``: the statement's own cleaned words) by an
LLM when one is given, and checked for faithfulness; flagged clauses are listed first in
constitution.md. Each clause lists every statement behind it with its votes overall and per
group, GAC and bridging score, exactly as voted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace

import numpy as np

from pluralign import __version__
from pluralign.aggregate.consensus import nearest_miss, taking_part
from pluralign.constitution.document import Clause, Constitution, Evidence, GroupVotes
from pluralign.constitution.settings import ConstitutionSettings
from pluralign.models.embed import embed


def _evidence(result, j: int, texts: Mapping[int, str]) -> Evidence:
    st = result.stats
    sid = int(result.matrix.statements[j])
    a, d, p = (int(x) for x in _overall(result, j))
    groups = {
        g: GroupVotes(
            int(st.agree[g, j]),
            int(st.disagree[g, j]),
            int(st.seen[g, j] - st.agree[g, j] - st.disagree[g, j]),
        )
        for g in range(result.n_groups)
    }
    return Evidence(
        statement=sid,
        text=texts.get(sid, result.matrix.texts[j]),
        agree=a,
        disagree=d,
        passes=p,
        groups=groups,
        gac=round(float(result.gac[j]), 6),
        bridging=round(float(result.bridging[j]), 6),
    )


def _overall(result, j: int) -> tuple[int, int, int]:
    seen = result.matrix.seen[:, j]
    vals = result.matrix.values[:, j]
    a, d = int((vals > 0).sum()), int((vals < 0).sum())
    return a, d, int(seen.sum()) - a - d


def candidates(result, settings: ConstitutionSettings) -> np.ndarray:
    """Column indices of the statements that are cross-group consensus, by decreasing GAC."""
    return result.consensus_columns(settings.rule)


def no_consensus_reason(result, settings: ConstitutionSettings,
                        option=lambda field: field) -> str:
    """Why no statement is cross-group consensus: the closest one and the threshold(s) it
    missed, by how much (``option`` names the setting for a field, see
    :meth:`~pluralign.aggregate.consensus.ConsensusMiss.message`)."""
    st = result.stats
    miss = nearest_miss(
        st.agree, st.seen, result.gac, result.matrix.statements, settings.rule, result.half_counts,
        st.disagree,
    )
    if miss is None:
        return "there are no statements"
    return miss.message(option)


def draft_constitution(
    result,
    statements: Mapping[int, str] | None = None,
    settings: ConstitutionSettings | None = None,
    title: str | None = None,
    writer=None,
    topics=None,
) -> Constitution:
    """Draft clauses from an :class:`~pluralign.aggregate.AggregateResult`.

    ``statements`` optionally maps statement id → text (default: the texts in the vote
    matrix). ``writer`` (a :class:`pluralign.sensemaking.writer.Writer`) words the clauses with
    an LLM; without one every clause is the cleaned wording of its best-supported statement,
    marked as not reworded. ``topics`` is a :class:`pluralign.sensemaking.topics.TopicModel` of
    the conversation (default: fitted here, named by ``writer`` or by keywords).
    """
    from pluralign.constitution.principles import draft_principles, topic_order
    from pluralign.sensemaking.merge import MergeRules
    from pluralign.sensemaking.textclean import Vocabulary

    settings = settings or ConstitutionSettings()
    title = settings.title if title is None else title
    texts = dict(statements or {})
    all_ids = [int(s) for s in result.matrix.statements]
    all_texts = [texts.get(s, t) for s, t in zip(all_ids, result.matrix.texts, strict=True)]
    vocabulary = Vocabulary.of(all_texts)
    language_note = None
    if writer is not None and _is_embedded(writer) and vocabulary.language not in (None, "en"):
        # SmolLM2-135M writes English only: on austria-climate (German) every draft was
        # flagged (e.g. "Choose the response that does not delete, delete, delete") and the
        # clauses became English frames around German statements, after 13 minutes
        language_note = (f"the conversation is in '{vocabulary.language}' and the embedded model "
                         "writes English only: not reworded (give --base-url/--model or "
                         "--checkpoint for a model that writes the language)")
        writer = None
    idx, excluded = _without_self_descriptions(candidates(result, settings), all_ids, all_texts)
    ev = [_evidence(result, int(j), texts) for j in idx]
    if not ev:  # nothing to draft: skip embedding and topics (minutes on a large conversation)
        from pluralign.sensemaking.topics import TopicModel

        method = embed([], settings.embedder)[1]
        vectors = np.zeros((len(all_texts), 1))
        topics = topics or TopicModel(topics=(), embedder=method, seed=result.seed)
    else:
        vectors, method = embed(all_texts, settings.embedder)
    if topics is None:
        topics = fit_topics(all_ids, all_texts, vectors, method, result.seed, settings, writer)
    rules = MergeRules.for_embedder(method)
    if settings.merge_threshold is not None:
        rules = replace(rules, similarity=settings.merge_threshold,
                        ask_similarity=min(rules.ask_similarity, settings.merge_threshold))
    llm_checks = writer is not None and not _is_embedded(writer)
    principles = draft_principles(
        [e.statement for e in ev],
        [e.text for e in ev],
        [e.gac for e in ev],
        topics,
        vectors[idx] if len(idx) else np.zeros((0, vectors.shape[1])),
        style=settings.style,
        values=result.matrix.values[:, idx].toarray() if len(idx) else None,
        seen=(result.matrix.seen[:, idx].toarray() > 0) if len(idx) else None,
        vocabulary=vocabulary,
        rules=rules,
        writer=writer,
        ask_merge=llm_checks if settings.ask_merge is None else settings.ask_merge,
        check_entailment=(
            llm_checks if settings.check_entailment is None else settings.check_entailment
        ),
        attempts=settings.attempts,
        keep_flagged=settings.keep_flagged,
        embed_fn=(lambda t: embed(t, method)[0]) if method == "minilm" else None,
    )
    support = [e.gac for e in ev]
    if settings.max_clauses is not None:
        principles = sorted(principles, key=lambda p: -support[p.columns[0]])
        principles = principles[: settings.max_clauses]
    principles = topic_order(principles, support)
    names = {t.id: t.name for t in topics.topics for t in (t, *t.subtopics)}
    clauses = [
        Clause(
            id=f"c{c + 1}",
            text=p.text,
            evidence=tuple(ev[i] for i in p.columns),
            note={"wording": p.wording, **({"merged": list(p.merged)} if p.merged else {})},
            topic=p.topic,
            flags=p.flags,
        )
        for c, p in enumerate(principles)
    ]
    used_topics = {c.topic: names.get(c.topic, c.topic) for c in clauses}
    provenance = {
        "pluralign_version": __version__,
        "input_sha256": result.matrix.source_sha256,
        "seed": result.seed,
        "n_groups": result.n_groups,
        "group_sizes": [
            int(x)
            for x in np.bincount(result.groups[result.groups >= 0], minlength=result.n_groups)
        ],
        "aggregate_settings": asdict(result.settings),
        "draft_settings": {
            **asdict(settings),
            "embedder_used": method,
            "merge_threshold_used": rules.similarity,
            "merge_rules": asdict(rules),
            "min_gac_used": settings.rule.gac_threshold(
                int(taking_part(result.stats.seen, settings.rule)[0].sum())),
        },
        "writer": (
            {"model": writer.model, "prompt_version": _prompt_version(),
             "failed_requests": writer.failed}
            if writer is not None else {"model": None, "note": language_note or "offline: no LLM"}
        ),
        "topics": {"count": len(topics.topics), "stability": topics.stability,
                   "silhouette": topics.silhouette, "embedder": topics.embedder},
        "candidates": len(ev),
        "excluded": excluded,
        "clauses": len(clauses),
        "flagged": sum(1 for c in clauses if c.flags),
        "reworded": sum(1 for p in principles if p.reworded),
        "framed": sum(1 for p in principles if str(p.wording.get("by", "")).startswith(
            "rule: the best-supported statement's cleaned words")),
        "merged_statements": sum(len(p.columns) - 1 for p in principles),
    }
    return Constitution(
        title=title, clauses=tuple(clauses), provenance=provenance, topics=used_topics
    )


def _without_self_descriptions(idx, ids, texts) -> tuple[np.ndarray, list[dict]]:
    """The candidate columns without the statements that describe the voter ("I live in a
    city", "I am 55 years of age or older": :mod:`pluralign.sensemaking.demographic`), and a
    record of each one left out (statement, text, why) for the provenance."""
    from pluralign.sensemaking.demographic import describes_voter

    keep, excluded = [], []
    for j in idx:
        why = describes_voter(texts[j])
        if why is None:
            keep.append(int(j))
        else:
            excluded.append({"statement": ids[j], "text": texts[j], "reason": why})
    return np.asarray(keep, dtype=np.int64), excluded


def _prompt_version() -> str:
    from pluralign.sensemaking.prompts import PROMPT_VERSION

    return PROMPT_VERSION


def _is_embedded(writer) -> bool:
    """Whether the writer's provider is the embedded SmolLM2 (too small for yes/no judgements)."""
    config = getattr(writer.provider, "config", None)
    checkpoint = getattr(config, "checkpoint", None)
    if checkpoint is None:
        return False
    from pluralign.models import is_embedded_name

    return bool(is_embedded_name(checkpoint))


def fit_topics(ids, texts, vectors, method, seed, settings, writer=None):
    """The conversation's topics (:func:`pluralign.sensemaking.topics.find_topics`), named."""
    from pluralign.sensemaking.naming import name_topics
    from pluralign.sensemaking.topics import find_topics

    model = find_topics(ids, vectors, seed=seed, max_topics=settings.max_topics, embedder=method)
    return name_topics(model, dict(zip(ids, texts, strict=True)), writer)
