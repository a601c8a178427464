"""Which statements say the same thing? Evidence per pair, one decision rule, groups without chains.

Sentence embeddings see *topic*, not *stance*: "The Land Bank has done enough conservation" and
"The land bank should purchase more land for conservation" have cosine 0.85, "I voted to Leave" /
"I voted to Remain" 0.86. So a pair of statements is merged only when (:func:`same_idea`)

1. nothing vetoes it:
   * **votes** — among participants who cast a non-pass vote on both, the share who agreed with
     one and disagreed with the other is at most :attr:`MergeRules.max_opposition` (checked when
     at least :attr:`MergeRules.min_co_voters` such participants exist): people who hold one
     statement and reject the other are telling us the statements differ;
   * **numbers** — both state numbers and they differ ("1 %" vs "1.5 %", income brackets);
   * **negation** — one negates and the other does not while they share most content words
     (content overlap ≥ :attr:`MergeRules.negation_overlap`): "We need to streamline the
     bureaucracy" vs "Streamlining the bureaucracy will not solve it";
2. and the cosine of their sentence vectors is at least :attr:`MergeRules.similarity`, or it is
   at least :attr:`MergeRules.ask_similarity` and either
   * the **votes** support it: enough co-voters, at most :attr:`MergeRules.support_opposition`
     of them split, and their votes correlate (Pearson, agree 1 / pass 0 / disagree −1) at
     least :attr:`MergeRules.support_correlation` — the crowd reads the two alike; or
   * the **LLM**, asked whether the two make the same point, says yes (when it is asked: by
     default not with the embedded SmolLM2-135M, which answers this question worse than chance
     on the labelled pairs, docs/sensemaking.md).

Groups are then formed by complete linkage over the pairs that passed: two groups join only
when *every* pair across them passed, most similar first. Unlike joining a statement to the
first group whose lead is similar enough (single linkage), this cannot chain distinct ideas
together ("be fair" under "be honest" via a statement that mentions both). Every decision is
kept with its evidence (:class:`PairEvidence`) so the constitution can say why statements were
merged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from pluralign.sensemaking import wording as W


@dataclass(frozen=True)
class MergeRules:
    """Thresholds of :func:`same_idea` (defaults for MiniLM vectors; TF-IDF: see
    :meth:`for_embedder`). Chosen on the hand-labelled pairs of five conversations and measured
    on five held back (tests/sensemaking/data/merge_pairs.yaml, docs/sensemaking.md)."""

    similarity: float = 0.85
    """Cosine at or above which a pair is merged on its wording alone."""
    ask_similarity: float = 0.70
    """Cosine at or above which (and below ``similarity``) the votes or the LLM decide."""
    max_opposition: float = 0.20
    """Largest share of co-voters who agreed with one statement and disagreed with the other."""
    support_opposition: float = 0.15
    """Largest such share for the votes to support a merge in the band."""
    support_correlation: float = 0.35
    """Smallest vote correlation of co-voters for the votes to support a merge in the band."""
    min_co_voters: int = 8
    """Co-voters (non-pass on both) needed before the votes count, for or against."""
    negation_overlap: float = 0.5
    """Content overlap above which a negation on one side only means the two disagree."""

    @classmethod
    def for_embedder(cls, method: str) -> MergeRules:
        """The rules for vectors of ``method`` (``minilm`` or ``tfidf``)."""
        if method == "tfidf":
            return cls(similarity=0.60, ask_similarity=0.35)
        return cls()


@dataclass(frozen=True)
class PairEvidence:
    """Everything known about whether statements ``a`` and ``b`` say the same thing."""

    a: int
    b: int
    similarity: float
    co_voters: int
    opposition: float | None
    correlation: float | None
    numbers_differ: bool
    negation_differs: bool
    llm: bool | None = None
    """The LLM's answer to "same point?" (None: not asked)."""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["similarity"] = round(self.similarity, 4)
        for k in ("opposition", "correlation"):
            if d[k] is not None:
                d[k] = round(d[k], 4)
        return d


def co_votes(
    values: np.ndarray, seen: np.ndarray, i: int, j: int
) -> tuple[int, float | None, float | None]:
    """(co-voters, opposition share, correlation) of columns ``i`` and ``j`` of dense vote
    arrays (participants × statements; ``values`` agree 1, disagree -1, pass or unseen 0;
    ``seen`` true where a vote was cast): participants with a non-pass vote on both, the share of
    them whose two votes differ in sign, and the Pearson correlation of the two votes over all
    who voted on both (passes as 0; None when either is constant)."""
    vi, vj = values[:, i], values[:, j]
    both = (vi != 0) & (vj != 0)
    n = int(both.sum())
    if n == 0:
        return 0, None, None
    opposition = float(((vi[both] * vj[both]) < 0).mean())
    cast = seen[:, i] & seen[:, j]
    a, b = vi[cast].astype(float), vj[cast].astype(float)
    corr = None
    if len(a) > 2 and a.std() > 0 and b.std() > 0:
        corr = float(np.corrcoef(a, b)[0, 1])
    return n, opposition, corr


def evidence(
    a: int,
    b: int,
    text_a: str,
    text_b: str,
    similarity: float,
    co_voters: int = 0,
    opposition: float | None = None,
    correlation: float | None = None,
    rules: MergeRules | None = None,
) -> PairEvidence:
    """The vote-free and vote evidence of one pair (see the module docstring)."""
    rules = rules or MergeRules()
    na, nb = W.numbers(text_a), W.numbers(text_b)
    neg_a, neg_b = W.negation_count(text_a) > 0, W.negation_count(text_b) > 0
    return PairEvidence(
        a=a,
        b=b,
        similarity=float(similarity),
        co_voters=co_voters,
        opposition=opposition,
        correlation=correlation,
        numbers_differ=bool(na and nb and na != nb),
        negation_differs=neg_a != neg_b and W.overlap(text_a, text_b) >= rules.negation_overlap,
    )


def veto(ev: PairEvidence, rules: MergeRules) -> str | None:
    """Why the pair must stay apart, or None."""
    if (
        ev.opposition is not None
        and ev.co_voters >= rules.min_co_voters
        and ev.opposition > rules.max_opposition
    ):
        return (
            f"{ev.opposition:.0%} of {ev.co_voters} co-voters agreed with one and disagreed "
            "with the other"
        )
    if ev.numbers_differ:
        return "they state different numbers"
    if ev.negation_differs:
        return "one negates what the other asserts"
    return None


def votes_support(ev: PairEvidence, rules: MergeRules) -> bool:
    """Whether the co-voters read the two statements alike (see the module docstring)."""
    return (
        ev.co_voters >= rules.min_co_voters
        and ev.opposition is not None
        and ev.opposition <= rules.support_opposition
        and ev.correlation is not None
        and ev.correlation >= rules.support_correlation
    )


def needs_llm(ev: PairEvidence, rules: MergeRules) -> bool:
    """Whether the LLM's answer would decide this pair."""
    return (
        veto(ev, rules) is None
        and rules.ask_similarity <= ev.similarity < rules.similarity
        and not votes_support(ev, rules)
    )


def same_idea(ev: PairEvidence, rules: MergeRules) -> tuple[bool, str]:
    """The decision for one pair and its reason."""
    why = veto(ev, rules)
    if why is not None:
        return False, why
    if ev.similarity >= rules.similarity:
        return True, f"cosine {ev.similarity:.2f} ≥ {rules.similarity:.2f}"
    if ev.similarity >= rules.ask_similarity:
        if votes_support(ev, rules):
            return True, (
                f"cosine {ev.similarity:.2f}, and {ev.co_voters} co-voters read them "
                f"alike (vote correlation {ev.correlation:.2f}, {ev.opposition:.0%} "
                "split)"
            )
        if ev.llm is None:
            return False, (
                f"cosine {ev.similarity:.2f} without support from the votes, and the "
                "LLM was not asked"
            )
        return ev.llm, f"cosine {ev.similarity:.2f}; the LLM said {'yes' if ev.llm else 'no'}"
    return False, f"cosine {ev.similarity:.2f} < {rules.ask_similarity:.2f}"


@dataclass(frozen=True)
class Group:
    """Statements that say the same thing (indices into the caller's list), the best-supported
    first, with the pair decisions that joined them."""

    members: tuple[int, ...]
    joins: tuple[dict, ...] = ()


def complete_linkage(
    n: int, linked: np.ndarray, similarity: np.ndarray, order: Sequence[int] | None = None
) -> list[list[int]]:
    """Groups of ``range(n)`` where every pair inside a group is ``linked``; the most similar
    allowed pair of groups joins first (mean cosine across them). Each group lists its members
    in ``order`` (default: index order); groups come in the order of their first member."""
    groups = [[i] for i in range(n)]
    while True:
        best, pair = -np.inf, None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                block = np.ix_(groups[x], groups[y])
                if linked[block].all():
                    s = float(similarity[block].mean())
                    if s > best:
                        best, pair = s, (x, y)
        if pair is None:
            break
        x, y = pair
        groups[x] = groups[x] + groups[y]
        del groups[y]
    rank = {i: r for r, i in enumerate(order if order is not None else range(n))}
    groups = [sorted(g, key=rank.__getitem__) for g in groups]
    return sorted(groups, key=lambda g: rank[g[0]])


def group_statements(
    ids: Sequence[int],
    texts: Sequence[str],
    vectors: np.ndarray,
    rules: MergeRules,
    *,
    votes: tuple[np.ndarray, np.ndarray] | None = None,
    ask: Callable[[list[tuple[int, int]]], list[bool | None]] | None = None,
) -> tuple[list[Group], list[PairEvidence]]:
    """Group statements (given best-supported first) that say the same thing.

    ``votes`` is ``(values, seen)``, the dense vote arrays of these statements with columns in
    the order of ``ids`` (None: no vote evidence); ``ask`` answers "same point?" for a list of
    index pairs (None: offline). Returns the groups and the evidence of every pair considered
    (cosine at least ``rules.ask_similarity``)."""
    n = len(ids)
    sim = vectors @ vectors.T if n else np.zeros((0, 0))
    pairs: dict[tuple[int, int], PairEvidence] = {}
    for i in range(n):
        for j in range(i + 1, n):
            if sim[i, j] < rules.ask_similarity:
                continue
            co, opp, corr = co_votes(*votes, i, j) if votes is not None else (0, None, None)
            pairs[i, j] = evidence(
                ids[i], ids[j], texts[i], texts[j], sim[i, j], co, opp, corr, rules
            )
    asked = [p for p, ev in pairs.items() if needs_llm(ev, rules)]
    if ask is not None and asked:
        for p, answer in zip(asked, ask(asked), strict=True):
            ev = pairs[p]
            pairs[p] = PairEvidence(**{**asdict(ev), "llm": answer})
    linked = np.eye(n, dtype=bool)
    for (i, j), ev in pairs.items():
        linked[i, j] = linked[j, i] = same_idea(ev, rules)[0]
    groups = []
    for members in complete_linkage(n, linked, sim):
        joins = []
        for k in members[1:]:
            lead = members[0]
            ev = pairs[(min(lead, k), max(lead, k))]
            joins.append(
                {
                    "statement": ids[k],
                    "with": ids[lead],
                    "reason": same_idea(ev, rules)[1],
                    **_short(ev),
                }
            )
        groups.append(Group(members=tuple(members), joins=tuple(joins)))
    return groups, list(pairs.values())


def _short(ev: PairEvidence) -> dict:
    out = {"similarity": round(ev.similarity, 3)}
    if ev.opposition is not None:
        out["co_voters"] = ev.co_voters
        out["opposition"] = round(ev.opposition, 3)
    if ev.correlation is not None:
        out["vote_correlation"] = round(ev.correlation, 3)
    if ev.llm is not None:
        out["llm"] = "yes" if ev.llm else "no"
    return out
