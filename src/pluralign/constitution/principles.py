"""From consensus statements to principles: by topic, merged when they say the same thing,
reworded in one style, checked for faithfulness.

The steps of :func:`draft_principles` (``docs/sensemaking.md`` explains each with its evidence):

1. **Clean** each candidate's wording (:func:`pluralign.sensemaking.textclean.clean_text`): typos,
   spacing, capitals. The statement's own text stays untouched in the provenance.
2. **Topics** of the whole conversation (:mod:`pluralign.sensemaking.topics`); each candidate
   belongs to its leaf topic.
3. **Group** the candidates of a topic that say the same thing
   (:func:`pluralign.sensemaking.merge.group_statements`: cosine of sentence vectors, vetoes from
   the votes, numbers and negations, support from the votes or an LLM; complete linkage). Each
   merge records its reason.
4. **Write** one principle per group: ``verbatim`` (or offline) uses the cleaned wording of the
   group's best-supported statement (highest group-aware consensus), marked ``reworded: false``.
   ``choose`` / ``should``: a single statement that already tells the AI what to do is put in
   the style by rule (:func:`pluralign.sensemaking.style.direct`, exact); every other group asks
   the LLM (:class:`pluralign.sensemaking.writer.Writer`), greedy first and then up to
   ``attempts − 1`` samples while every draft so far was flagged.
5. **Check** every LLM draft (:func:`pluralign.sensemaking.faithful.check_principle`: rules, the
   embedding cosine to its sources and, when enabled, the LLM's entailment verdict). The first
   unflagged draft is the principle. When every draft is flagged, the clause is the best-supported
   statement's cleaned words inside the style's frame (:func:`pluralign.sensemaking.style.frame`,
   faithful by construction) and lists the rejected drafts with their flags (``keep_flagged``:
   keep the first flagged draft instead, flagged). A group whose statements disagree is flagged
   ``merged_disagreement`` whatever its wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from pluralign.sensemaking import prompts as P
from pluralign.sensemaking.faithful import Flag, check_principle
from pluralign.sensemaking.merge import Group, MergeRules, co_votes, group_statements
from pluralign.sensemaking.style import direct, frame
from pluralign.sensemaking.textclean import Fix, Vocabulary, clean_text
from pluralign.sensemaking.topics import TopicModel

STYLES = ("choose", "should", "verbatim")


@dataclass(frozen=True)
class Principle:
    """One drafted principle: its text, the candidate columns behind it (best-supported first),
    its topic, flags and how its wording came about."""

    text: str
    columns: tuple[int, ...]
    topic: str
    flags: tuple[Flag, ...] = ()
    reworded: bool = False
    wording: dict = field(default_factory=dict)
    merged: tuple[dict, ...] = ()


def merged_disagreement(
    ids: Sequence[int], values: np.ndarray, seen: np.ndarray, rules: MergeRules
) -> list[Flag]:
    """Flags for pairs of a group's statements that its co-voters split on (more than
    ``rules.max_opposition`` agreed with one and disagreed with the other)."""
    flags = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            n, opp, _ = co_votes(values, seen, i, j)
            if opp is not None and n >= rules.min_co_voters and opp > rules.max_opposition:
                flags.append(
                    Flag(
                        "merged_disagreement",
                        f"#{ids[i]} and #{ids[j]}: {opp:.0%} of {n} co-voters agreed with one and "
                        "disagreed with the other",
                        by="votes",
                    )
                )
    return flags


def _similarities(texts: Sequence[str], sources: Sequence[Sequence[str]], embed_fn) -> list[float]:
    """Cosine of each text to the mean vector of its sources."""
    flat = [s for group in sources for s in group]
    vectors = embed_fn(list(texts) + flat)
    out, k = [], len(texts)
    for i, group in enumerate(sources):
        src = vectors[k : k + len(group)]
        k += len(group)
        centre = src.mean(axis=0)
        norm = float(np.linalg.norm(centre)) or 1.0
        out.append(float(vectors[i] @ centre) / norm)
    return out


def draft_principles(
    ids: Sequence[int],
    texts: Sequence[str],
    support: Sequence[float],
    topics: TopicModel,
    vectors: np.ndarray,
    *,
    style: str,
    values: np.ndarray | None = None,
    seen: np.ndarray | None = None,
    vocabulary: Vocabulary | None = None,
    rules: MergeRules | None = None,
    writer=None,
    ask_merge: bool = False,
    check_entailment: bool = False,
    attempts: int = 3,
    keep_flagged: bool = False,
    embed_fn: Callable[[list[str]], np.ndarray] | None = None,
) -> list[Principle]:
    """Principles from candidate statements ``ids`` (texts as voted on, ``support`` their
    group-aware consensus, ``vectors`` their unit sentence vectors, ``values``/``seen`` their
    dense vote columns). ``writer`` is a :class:`~pluralign.sensemaking.writer.Writer` or None
    (offline). Returns principles in topic order, best-supported first within a topic."""
    if style not in STYLES:
        from pluralign.errors import InputError

        raise InputError(
            f"unknown style {style!r}", where="style", hint="choose, should or verbatim"
        )
    rules = rules or MergeRules()
    vocabulary = vocabulary or Vocabulary.of(texts)
    cleaned: list[tuple[str, tuple[Fix, ...]]] = [clean_text(t, vocabulary) for t in texts]
    leaf = topics.leaf_of()
    order = sorted(range(len(ids)), key=lambda i: (-support[i], ids[i]))
    by_topic: dict[str, list[int]] = {}
    for i in order:
        t = leaf.get(int(ids[i]))
        by_topic.setdefault(t.id if t else "", []).append(i)

    groups: list[tuple[str, Group, list[int]]] = []
    for topic_id, members in by_topic.items():
        sub_vectors = vectors[members]
        votes = None
        if values is not None and seen is not None:
            votes = (values[:, members], seen[:, members])
        ask = None
        if writer is not None and ask_merge:

            def ask(pairs, members=members):
                return writer.same_point(
                    [(cleaned[members[a]][0], cleaned[members[b]][0]) for a, b in pairs]
                )

        found, _ = group_statements(
            [ids[i] for i in members],
            [cleaned[i][0] for i in members],
            sub_vectors,
            rules,
            votes=votes,
            ask=ask,
        )
        for g in found:
            groups.append((topic_id, g, [members[k] for k in g.members]))

    sources = [[cleaned[i][0] for i in cols] for _, _, cols in groups]
    drafts: list[list[tuple[str, tuple[Flag, ...]]]] = [[] for _ in groups]
    chosen: list[tuple[str, tuple[Flag, ...]] | None] = [None] * len(groups)
    by_rule: dict[int, str] = {}
    if writer is not None and style != "verbatim":
        for g, src in enumerate(sources):
            exact = direct(src[0], style) if len(src) == 1 else None
            if exact is not None:
                by_rule[g] = "rule: the statement already tells the AI what to do"
                chosen[g] = (exact, ())
        pending = [g for g in range(len(groups)) if chosen[g] is None]
        for attempt in range(max(1, attempts)):
            if not pending:
                break
            texts_out = writer.reword([sources[g] for g in pending], style, attempt)
            written = [(g, t) for g, t in zip(pending, texts_out, strict=True) if t]
            sims = (
                _similarities([t for _, t in written], [sources[g] for g, _ in written], embed_fn)
                if embed_fn is not None and written
                else [None] * len(written)
            )
            entail = (
                writer.entailed([(sources[g], t) for g, t in written])
                if check_entailment and written
                else [None] * len(written)
            )
            for (g, t), sim, ent in zip(written, sims, entail, strict=True):
                flags = check_principle(t, sources[g], similarity=sim, entailed=ent)
                drafts[g].append((t, flags))
                if not flags and chosen[g] is None:
                    chosen[g] = (t, ())
            pending = [g for g in pending if chosen[g] is None]

    out = []
    for k, (topic_id, group, cols) in enumerate(groups):
        group_flags: list[Flag] = []
        if values is not None and seen is not None and len(cols) > 1:
            group_flags = merged_disagreement(
                [ids[i] for i in cols], values[:, cols], seen[:, cols], rules
            )
        lead = cols[0]
        wording: dict = {"style": style}
        fixes = [
            {"statement": int(ids[i]), "before": f.before, "after": f.after, "reason": f.reason}
            for i in cols[:1]
            for f in cleaned[i][1]
            if f.reason in ("spelling", "two words run together", "AI in capitals", "capital I")
        ]
        if chosen[k] is not None:
            text, flags, reworded = chosen[k][0], (), True
            wording.update(
                model=writer.model, prompt_version=P.PROMPT_VERSION, attempt=len(drafts[k])
            )
        elif drafts[k] and keep_flagged:
            text, flags = drafts[k][0]
            reworded = True
            wording.update(by="llm", model=writer.model, prompt_version=P.PROMPT_VERSION, attempt=1)
        elif writer is not None and style != "verbatim":
            # the statement's own words in the frame: styled, not reworded
            text, flags, reworded = frame(cleaned[lead][0], style), (), False
            wording.update(
                by="rule: the best-supported statement's cleaned words in the style's frame",
                reason="every draft the LLM wrote was flagged"
                if drafts[k]
                else "the LLM gave no usable draft",
                model=writer.model,
                prompt_version=P.PROMPT_VERSION,
            )
        else:
            text, flags, reworded = cleaned[lead][0], (), False
            wording["by"] = (
                "the best-supported statement, cleaned"
                if style == "verbatim"
                else "the best-supported statement, cleaned (offline: not reworded)"
            )
        if drafts[k] and (chosen[k] is None or len(drafts[k]) > 1):
            wording["rejected"] = [
                {"text": t, "flags": [f.to_dict() for f in fl]}
                for t, fl in drafts[k]
                if fl and t != text
            ]
        if fixes:
            wording["fixed"] = fixes
        out.append(
            Principle(
                text=text,
                columns=tuple(cols),
                topic=topic_id,
                flags=tuple(flags) + tuple(group_flags),
                reworded=reworded,
                wording=wording,
                merged=group.joins,
            )
        )
    return out


def topic_order(principles: Sequence[Principle], support: Sequence[float]) -> list[Principle]:
    """Principles grouped by topic (topics with the most principles first, ties: the strongest
    support), best-supported first within a topic."""
    by: dict[str, list[Principle]] = {}
    for p in principles:
        by.setdefault(p.topic, []).append(p)

    def strength(p: Principle) -> float:
        return support[p.columns[0]]

    ranked = sorted(by.values(), key=lambda ps: (-len(ps), -max(strength(p) for p in ps)))
    return [p for ps in ranked for p in sorted(ps, key=lambda p: -strength(p))]
