"""Grounded summaries: per topic, what most of every group agrees on and where groups differ.

Every sentence cites the statements behind it with the agree (and disagree) share of each
opinion group, and states its claim in a form the data can check (:class:`Claim`): "most of
groups G agree" means an agree share A_g / S_g above ½ in each of them, "most of group g
disagrees" a disagree share D_g / S_g above ½ (passes count in S_g, as in Polis). Statements
with fewer than ``min_votes`` votes in all are left out.

* **Common ground** of a topic: statements most of every group agrees with, the highest lowest
  group share first, except statements that describe the voter ("I live in a city",
  :mod:`pluralign.sensemaking.demographic`); statements that say the same thing
  (:mod:`pluralign.sensemaking.merge`) share one sentence. Written by the LLM when one is given
  ("Participants agree that …",
  checked for faithfulness against the cited statements like a principle), else as a template
  that quotes the statements' cleaned wording.
* **Differences**: statements that most of one group agrees with and most of another disagrees
  with, the widest gap first; always a template naming the groups and their shares.

:func:`verify` checks every sentence against the votes — the statements exist, have at least
``min_votes`` votes, every claimed direction holds in those groups, every cited share equals the
data's to the printed precision, and LLM wording keeps to its statements — and marks each
sentence grounded or not, with the reasons. A summary read from a file (hand-edited, or from
another tool) is checked the same way (``pluralign summarize --check``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

MAJORITY = 0.5
"""A group "mostly" agrees (disagrees) when more than this share of its votes agree (disagree)."""


@dataclass(frozen=True)
class Citation:
    """A statement behind a sentence and, per group, the agree and disagree shares claimed."""

    statement: int
    agree: dict[int, float]
    disagree: dict[int, float]
    votes: int

    def to_dict(self) -> dict:
        return {
            "statement": self.statement,
            "votes": self.votes,
            "agree": {str(g): v for g, v in sorted(self.agree.items())},
            "disagree": {str(g): v for g, v in sorted(self.disagree.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Citation:
        return cls(
            statement=int(d["statement"]),
            agree={int(g): float(v) for g, v in (d.get("agree") or {}).items()},
            disagree={int(g): float(v) for g, v in (d.get("disagree") or {}).items()},
            votes=int(d.get("votes", 0)),
        )


@dataclass(frozen=True)
class Claim:
    """What a sentence asserts about every cited statement: the groups most of which agree,
    and the groups most of which disagree."""

    agree: tuple[int, ...] = ()
    disagree: tuple[int, ...] = ()


@dataclass(frozen=True)
class Sentence:
    """One summary sentence with its claim, citations and grounding."""

    text: str
    kind: str
    """``common_ground`` or ``difference``."""
    claim: Claim
    citations: tuple[Citation, ...]
    written_by: str = "template"
    grounded: bool | None = None
    problems: tuple[str, ...] = ()

    @property
    def cited(self) -> str:
        """The citations as printed: ``#12: group 0 92 %, group 1 88 % agree; #13: …``."""
        return "; ".join(cite_text(c, self.kind, self.claim) for c in self.citations)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "kind": self.kind,
            "claim": {"agree": list(self.claim.agree), "disagree": list(self.claim.disagree)},
            "citations": [c.to_dict() for c in self.citations],
            "written_by": self.written_by,
            "grounded": self.grounded,
            "problems": list(self.problems),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Sentence:
        claim = d.get("claim") or {}
        return cls(
            text=str(d["text"]),
            kind=str(d["kind"]),
            claim=Claim(
                tuple(int(g) for g in claim.get("agree", ())),
                tuple(int(g) for g in claim.get("disagree", ())),
            ),
            citations=tuple(Citation.from_dict(c) for c in d.get("citations", ())),
            written_by=str(d.get("written_by", "template")),
            grounded=d.get("grounded"),
            problems=tuple(d.get("problems", ())),
        )


@dataclass(frozen=True)
class TopicSummary:
    topic: str
    name: str
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Summary:
    """Grounded summaries of every topic, and the share of sentences that passed the check."""

    topics: tuple[TopicSummary, ...]
    min_votes: int
    n_groups: int
    provenance: dict = field(default_factory=dict)
    dropped: tuple[Sentence, ...] = ()
    """Sentences that failed the grounding check and were left out."""

    @property
    def sentences(self) -> list[Sentence]:
        return [s for t in self.topics for s in t.sentences]

    @property
    def written(self) -> int:
        """Sentences written (kept and dropped)."""
        return len(self.sentences) + len(self.dropped)

    @property
    def share_grounded(self) -> float | None:
        """Grounded sentences over all sentences written (None when none was written)."""
        total = self.written
        if not total:
            return None
        ok = sum(1 for s in self.sentences if s.grounded) + sum(
            1 for s in self.dropped if s.grounded
        )
        return ok / total

    def to_dict(self) -> dict:
        return {
            "format": "pluralign-summary/1",
            "min_votes": self.min_votes,
            "n_groups": self.n_groups,
            "share_grounded": self.share_grounded,
            "provenance": self.provenance,
            "topics": [
                {"topic": t.topic, "name": t.name, "sentences": [s.to_dict() for s in t.sentences]}
                for t in self.topics
            ],
            "dropped": [s.to_dict() for s in self.dropped],
        }

    @classmethod
    def from_dict(cls, d: Mapping, where: str = "summary.json") -> Summary:
        from pluralign.errors import InputError

        try:
            return cls(
                topics=tuple(
                    TopicSummary(
                        str(t["topic"]),
                        str(t.get("name", t["topic"])),
                        tuple(Sentence.from_dict(s) for s in t.get("sentences", ())),
                    )
                    for t in d["topics"]
                ),
                min_votes=int(d.get("min_votes", 20)),
                n_groups=int(d.get("n_groups", 0)),
                provenance=dict(d.get("provenance") or {}),
                dropped=tuple(Sentence.from_dict(s) for s in d.get("dropped", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                f"not a pluralign summary: {exc!r}",
                where=where,
                hint="write one with `pluralign summarize`",
            ) from exc

    def to_markdown(self) -> str:
        return summary_markdown(self)


@dataclass(frozen=True)
class Tallies:
    """Per (group, statement) agrees, disagrees and votes seen, and the total votes per
    statement (everyone who voted, clustered or not), in ``statements`` order."""

    statements: np.ndarray
    agree: np.ndarray
    disagree: np.ndarray
    seen: np.ndarray
    votes: np.ndarray
    taking_part: tuple[int, ...] | None = None
    """The groups that can be heard (:func:`pluralign.aggregate.consensus.taking_part`, as the
    consensus rule has it): "every group" means these, and only they are cited; None: all."""

    @classmethod
    def of(cls, result) -> Tallies:
        """From an :class:`~pluralign.aggregate.AggregateResult`."""
        from pluralign.aggregate.consensus import taking_part

        st = result.stats
        part = taking_part(st.seen, result.settings.consensus)[0]
        return cls(
            statements=np.asarray(result.matrix.statements),
            agree=np.asarray(st.agree, float),
            disagree=np.asarray(st.disagree, float),
            seen=np.asarray(st.seen, float),
            votes=np.asarray(result.matrix.seen.sum(axis=0), float).ravel(),
            taking_part=tuple(int(g) for g in np.flatnonzero(part)),
        )

    @property
    def n_groups(self) -> int:
        return self.agree.shape[0]

    @property
    def every(self) -> tuple[int, ...]:
        """The groups "every group" means: those taking part (all when not given)."""
        return tuple(range(self.n_groups)) if self.taking_part is None else self.taking_part

    def column(self) -> dict[int, int]:
        return {int(s): j for j, s in enumerate(self.statements)}

    def shares(self) -> tuple[np.ndarray, np.ndarray]:
        s = np.maximum(self.seen, 1)
        return (
            np.where(self.seen > 0, self.agree / s, 0.0),
            np.where(self.seen > 0, self.disagree / s, 0.0),
        )


def _citation(t: Tallies, j: int) -> Citation:
    a, d = t.shares()
    return Citation(
        statement=int(t.statements[j]),
        agree={g: round(float(a[g, j]), 2) for g in t.every},
        disagree={g: round(float(d[g, j]), 2) for g in t.every},
        votes=int(t.votes[j]),
    )


def _pct(x: float) -> str:
    return f"{round(100 * x)} %"


def _quote(text: str) -> str:
    return "“" + text.rstrip(".") + "”"


def cite_text(c: Citation, kind: str, claim: Claim) -> str:
    """The printed citation of one statement: ``#12: group 0 92 %, group 1 88 % agree``."""
    if kind == "common_ground":
        parts = ", ".join(f"group {g} {_pct(v)}" for g, v in sorted(c.agree.items()))
        return f"#{c.statement}: {parts} agree"
    parts = [f"group {g} {_pct(c.agree[g])} agree" for g in claim.agree]
    parts += [f"group {g} {_pct(c.disagree[g])} disagree" for g in claim.disagree]
    return f"#{c.statement}: " + ", ".join(parts)


def common_ground_template(texts: Sequence[str]) -> str:
    quoted = " and ".join(_quote(t) for t in texts)
    return f"Most of every group agrees with {quoted}."


def difference_template(text: str, claim: Claim) -> str:
    agree = " and ".join(f"group {g}" for g in claim.agree)
    disagree = " and ".join(f"group {g}" for g in claim.disagree)
    return f"Most of {agree} agrees with {_quote(text)}, while most of {disagree} disagrees."


def eligible(t: Tallies, min_votes: int, min_group_votes: int = 3) -> np.ndarray:
    """Statements with at least ``min_votes`` votes and ``min_group_votes`` in every group (that
    takes part: :attr:`Tallies.every`)."""
    return (t.votes >= min_votes) & (t.seen[list(t.every)] >= min_group_votes).all(axis=0)


def build_summary(
    result,
    topics,
    *,
    min_votes: int = 20,
    per_topic: int = 3,
    differences_per_topic: int = 2,
    texts: Mapping[int, str] | None = None,
    vectors: np.ndarray | None = None,
    writer=None,
    embed_fn=None,
    keep_ungrounded: bool = False,
) -> Summary:
    """The grounded summary of ``result`` over ``topics`` (a
    :class:`~pluralign.sensemaking.topics.TopicModel` of the same statements), checked by
    :func:`verify`; failing sentences are dropped (or kept, marked, with ``keep_ungrounded``)."""
    from pluralign.sensemaking.merge import MergeRules, group_statements
    from pluralign.sensemaking.textclean import Vocabulary, clean_text

    t = Tallies.of(result)
    col = t.column()
    all_texts = {
        int(s): x for s, x in zip(result.matrix.statements, result.matrix.texts, strict=True)
    }
    all_texts.update(texts or {})
    vocab = Vocabulary.of(all_texts.values())
    cleaned = {s: clean_text(x, vocab)[0] for s, x in all_texts.items()}
    a, d = t.shares()
    ok = eligible(t, min_votes)
    low = a[list(t.every)].min(axis=0)
    # "most of every group lives in a city" says who voted, not what they share: statements
    # that describe the voter (sensemaking.demographic) are not common ground (they may still
    # show where groups differ: who is in which group)
    from pluralign.sensemaking.demographic import describes_voter

    about_voter = np.array([describes_voter(all_texts[int(s)]) is not None for s in t.statements],
                           dtype=bool)
    common = ok & (a[list(t.every)] > MAJORITY).all(axis=0) & ~about_voter
    rules = MergeRules()
    plans: list[tuple[str, str, list[list[int]], list[tuple[int, Claim]]]] = []
    for topic in topics.topics:
        members = [col[s] for s in topic.statements if s in col]
        cg = sorted((j for j in members if common[j]), key=lambda j: (-low[j], t.statements[j]))
        groups: list[list[int]] = []
        if cg:
            vecs = (
                vectors[cg] if vectors is not None else np.eye(len(cg))
            )  # without vectors nothing merges
            found, _ = group_statements(
                [int(t.statements[j]) for j in cg],
                [cleaned[int(t.statements[j])] for j in cg],
                vecs,
                rules,
            )
            groups = [[cg[k] for k in g.members] for g in found][:per_topic]
        diffs = []
        for j in members:
            if not ok[j]:
                continue
            agree_g = tuple(g for g in t.every if a[g, j] > MAJORITY)
            disagree_g = tuple(g for g in t.every if d[g, j] > MAJORITY)
            if agree_g and disagree_g:
                gap = max(a[g, j] for g in agree_g) - min(a[g, j] for g in disagree_g)
                diffs.append((gap, j, Claim(agree_g, disagree_g)))
        diffs.sort(key=lambda x: (-x[0], t.statements[x[1]]))
        plans.append(
            (topic.id, topic.name, groups, [(j, c) for _, j, c in diffs[:differences_per_topic]])
        )
    llm_text: dict[tuple[int, int], str] = {}
    if writer is not None:
        asks = [(k, g) for k, (_, _, groups, _) in enumerate(plans) for g in range(len(groups))]
        replies = writer.common_ground(
            [[cleaned[int(t.statements[j])] for j in plans[k][2][g]] for k, g in asks]
        )
        llm_text = {kg: r for kg, r in zip(asks, replies, strict=True) if r}
    every = t.every
    out, dropped = [], []
    for k, (tid, name, groups, diffs) in enumerate(plans):
        sentences = []
        for g, cols in enumerate(groups):
            cits = tuple(_citation(t, j) for j in cols)
            claim = Claim(agree=every)
            words = [cleaned[int(t.statements[j])] for j in cols]
            text, by = llm_text.get((k, g)), "llm"
            if text is None:
                text, by = common_ground_template(words), "template"
            sentences.append(Sentence(text, "common_ground", claim, cits, by))
        for j, claim in diffs:
            text = difference_template(cleaned[int(t.statements[j])], claim)
            sentences.append(Sentence(text, "difference", claim, (_citation(t, j),)))
        checked = [verify_sentence(s, t, min_votes, cleaned, embed_fn) for s in sentences]
        # an LLM sentence that fails its wording check gets the template instead
        fixed = []
        for s in checked:
            if s.written_by == "llm" and not s.grounded:
                words = [cleaned.get(c.statement, "") for c in s.citations]
                alt = verify_sentence(
                    replace(s, text=common_ground_template(words), written_by="template"),
                    t,
                    min_votes,
                    cleaned,
                )
                dropped.append(s)
                s = alt
            fixed.append(s)
        kept = [s for s in fixed if s.grounded or keep_ungrounded]
        dropped += [s for s in fixed if not s.grounded and not keep_ungrounded]
        out.append(TopicSummary(tid, name, tuple(kept)))
    provenance = {
        "input_sha256": result.matrix.source_sha256,
        "seed": result.seed,
        "writer": writer.model if writer is not None else None,
    }
    return Summary(
        topics=tuple(out),
        min_votes=min_votes,
        n_groups=t.n_groups,
        provenance=provenance,
        dropped=tuple(dropped),
    )


def verify_sentence(
    s: Sentence,
    t: Tallies,
    min_votes: int,
    texts: Mapping[int, str] | None = None,
    embed_fn=None,
) -> Sentence:
    """``s`` marked grounded or not, with every problem found (see the module docstring)."""
    from pluralign.sensemaking.faithful import check_principle

    problems: list[str] = []
    col = t.column()
    a, d = t.shares()
    if not s.citations:
        problems.append("cites no statement")
    if s.kind == "common_ground" and not set(t.every) <= set(s.claim.agree):
        problems.append("common ground must claim agreement in every group")
    if s.kind == "difference" and not (s.claim.agree and s.claim.disagree):
        problems.append("a difference must name a group that agrees and one that disagrees")
    for c in s.citations:
        j = col.get(c.statement)
        if j is None:
            problems.append(f"statement #{c.statement} does not exist in the conversation")
            continue
        if t.votes[j] < min_votes:
            problems.append(f"#{c.statement} has {int(t.votes[j])} votes, fewer than {min_votes}")
        for g in s.claim.agree:
            if not 0 <= g < t.n_groups:
                problems.append(f"group {g} does not exist")
            elif not a[g, j] > MAJORITY:
                problems.append(f"#{c.statement}: group {g} agrees {_pct(a[g, j])}, not most")
        for g in s.claim.disagree:
            if not 0 <= g < t.n_groups:
                problems.append(f"group {g} does not exist")
            elif not d[g, j] > MAJORITY:
                problems.append(f"#{c.statement}: group {g} disagrees {_pct(d[g, j])}, not most")
        for g, v in c.agree.items():
            if 0 <= g < t.n_groups and abs(v - a[g, j]) > 0.005 + 1e-9:
                problems.append(
                    f"#{c.statement}: group {g}'s agree share is {a[g, j]:.2f}, not {v:.2f}"
                )
        for g, v in c.disagree.items():
            if 0 <= g < t.n_groups and abs(v - d[g, j]) > 0.005 + 1e-9:
                problems.append(
                    f"#{c.statement}: group {g}'s disagree share is {d[g, j]:.2f}, not {v:.2f}"
                )
    if s.written_by == "llm" and texts is not None and not problems:
        sources = [texts.get(c.statement, "") for c in s.citations]
        sim = None
        if embed_fn is not None:
            v = embed_fn([s.text] + sources)
            centre = v[1:].mean(axis=0)
            sim = float(v[0] @ centre / (np.linalg.norm(centre) or 1.0))
        body = s.text.removeprefix("Participants agree that ")
        for f in check_principle(body, sources, similarity=sim):
            problems.append(f"wording: {f.detail}")
    return replace(s, grounded=not problems, problems=tuple(problems))


def verify(
    summary: Summary, result, texts: Mapping[int, str] | None = None, embed_fn=None
) -> Summary:
    """Every sentence of ``summary`` re-checked against ``result``'s votes."""
    t = Tallies.of(result)
    if texts is None:
        texts = {
            int(s): x for s, x in zip(result.matrix.statements, result.matrix.texts, strict=True)
        }
    topics = tuple(
        replace(
            ts,
            sentences=tuple(
                verify_sentence(s, t, summary.min_votes, texts, embed_fn) for s in ts.sentences
            ),
        )
        for ts in summary.topics
    )
    dropped = tuple(
        verify_sentence(s, t, summary.min_votes, texts, embed_fn) for s in summary.dropped
    )
    return replace(summary, topics=topics, dropped=dropped, n_groups=t.n_groups)


def summary_markdown(summary: Summary, title: str = "Summary") -> str:
    """The summary as Markdown: per topic, common ground then differences, each sentence with
    its citations; the grounded share at the top."""
    share = summary.share_grounded
    lines = [f"# {title}", ""]
    lines.append(
        f"{len(summary.sentences)} sentences over {len(summary.topics)} topics, "
        f"{summary.n_groups} opinion groups; statements with fewer than {summary.min_votes} "
        "votes left out. Grounded (every citation checked against the votes): "
        + ("–" if share is None else f"{share:.0%}")
        + "."
    )
    lines.append("")
    for ts in summary.topics:
        if not ts.sentences:
            continue
        lines += [f"## {ts.name}", ""]
        for kind, head in (("common_ground", "Common ground"), ("difference", "Differences")):
            chosen = [s for s in ts.sentences if s.kind == kind]
            if not chosen:
                continue
            lines += [f"**{head}**", ""]
            for s in chosen:
                cites = s.cited
                mark = "" if s.grounded else " ⚠ " + "; ".join(s.problems)
                lines.append(f"- {s.text} [{cites}]{mark}")
            lines.append("")
    return "\n".join(lines)
