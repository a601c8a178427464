"""Draft a constitution from the statements every opinion group agreed with.

Following Collective Constitutional AI (Anthropic & the Collective Intelligence Project, 2023),
which kept Polis statements with high agreement in every opinion group, the candidate clauses
are the statements that are cross-group consensus under :class:`DraftSettings.rule`, the one
definition :mod:`pluralign.aggregate.consensus` gives (and ``pluralign aggregate`` lists): in
every group at least ``min_group_votes`` (3) votes, at least ``min_group_agreement`` (0.6) of
them agrees, and GAC = Π_g (A_g + 1)/(S_g + 2) ≥ ``min_gac`` (default 0.5^G for G groups).

Candidates are taken in decreasing GAC; each joins the first clause whose lead statement is a
near-duplicate (cosine similarity of sentence vectors ≥ ``merge_threshold``, see
:mod:`~pluralign.constitution.embed`) or starts a new clause. A clause keeps its lead statement's
text verbatim and lists every merged statement with its votes per group, GAC and bridging score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pluralign import __version__
from pluralign.aggregate.consensus import ConsensusRule, consensus_candidates, nearest_miss
from pluralign.constitution.embed import MERGE_THRESHOLDS, embed
from pluralign.errors import InputError

FORMAT = "pluralign-constitution/1"


@dataclass(frozen=True)
class DraftSettings:
    """Thresholds of :func:`draft_constitution` (see the module docstring for the rules)."""

    min_gac: float | None = ConsensusRule.min_gac
    """GAC a statement needs; None means 0.5 ** n_groups."""
    min_group_agreement: float = ConsensusRule.min_group_agreement
    """Agree share every opinion group must reach."""
    min_group_votes: int = ConsensusRule.min_group_votes
    """Votes every opinion group must have cast on a statement."""
    merge_threshold: float | None = None
    """Cosine similarity for near-duplicates; None uses the embedder's default (0.80 MiniLM,
    0.55 TF-IDF)."""
    embedder: str = "auto"
    max_clauses: int | None = None

    def __post_init__(self) -> None:
        ConsensusRule(self.min_group_agreement, self.min_group_votes, self.min_gac)  # validates
        if self.merge_threshold is not None and not -1 <= self.merge_threshold <= 1:
            raise InputError("merge_threshold must be a cosine in [-1, 1]", where="merge_threshold")
        if self.max_clauses is not None and self.max_clauses < 1:
            raise InputError("max_clauses must be at least 1", where="max_clauses")

    @property
    def rule(self) -> ConsensusRule:
        """The cross-group consensus rule these thresholds make."""
        return ConsensusRule(self.min_group_agreement, self.min_group_votes, self.min_gac)


@dataclass(frozen=True)
class GroupVotes:
    agree: int
    disagree: int
    passes: int

    @property
    def agreement(self) -> float:
        seen = self.agree + self.disagree + self.passes
        return self.agree / seen if seen else 0.0


@dataclass(frozen=True)
class Evidence:
    """One statement behind a clause: its votes overall and per opinion group."""

    statement: int
    text: str
    agree: int
    disagree: int
    passes: int
    groups: dict[int, GroupVotes]
    gac: float
    bridging: float


@dataclass(frozen=True)
class Clause:
    """A constitution clause: its text and the statements (votes) behind it."""

    id: str
    text: str
    evidence: tuple[Evidence, ...]
    note: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance added by other tools (e.g. an LLM rewording: model, original text);
    stored under the clause's ``provenance`` key in YAML."""

    @property
    def statements(self) -> list[int]:
        return [e.statement for e in self.evidence]

    @property
    def gac(self) -> float:
        return self.evidence[0].gac if self.evidence else float("nan")

    @property
    def bridging(self) -> float:
        return self.evidence[0].bridging if self.evidence else float("nan")


@dataclass(frozen=True)
class Constitution:
    """Clauses with provenance; serialise with :meth:`to_yaml`, :meth:`to_markdown`."""

    title: str
    clauses: tuple[Clause, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_yaml(self) -> str:
        from pluralign.constitution.yamlio import constitution_to_yaml

        return constitution_to_yaml(self)

    @classmethod
    def from_yaml(cls, text: str, source: str = "constitution.yaml") -> Constitution:
        from pluralign.constitution.yamlio import constitution_from_yaml

        return constitution_from_yaml(text, source)

    def to_markdown(self) -> str:
        from pluralign.constitution.yamlio import constitution_to_markdown

        return constitution_to_markdown(self)


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


def candidates(result, settings: DraftSettings) -> np.ndarray:
    """Column indices of the statements that are cross-group consensus, by decreasing GAC."""
    st = result.stats
    return consensus_candidates(st.agree, st.seen, result.gac, settings.rule)


def no_consensus_reason(result, settings: DraftSettings, option=lambda field: field) -> str:
    """Why no statement is cross-group consensus: the closest one and the threshold(s) it
    missed, by how much (``option`` names the setting for a field, see
    :meth:`~pluralign.aggregate.consensus.ConsensusMiss.message`)."""
    st = result.stats
    miss = nearest_miss(st.agree, st.seen, result.gac, result.matrix.statements, settings.rule)
    if miss is None:
        return "there are no statements"
    return miss.message(option)


def draft_constitution(
    result,
    statements: Mapping[int, str] | None = None,
    settings: DraftSettings | None = None,
    title: str = "Constitution",
) -> Constitution:
    """Draft clauses from an :class:`~pluralign.aggregate.AggregateResult`.

    ``statements`` optionally maps statement id → text (default: the texts in the vote
    matrix). Texts are kept verbatim.
    """
    settings = settings or DraftSettings()
    texts = dict(statements or {})
    idx = candidates(result, settings)
    ev = [_evidence(result, int(j), texts) for j in idx]
    vectors, method = embed([e.text for e in ev], settings.embedder)
    threshold = (
        settings.merge_threshold
        if settings.merge_threshold is not None
        else MERGE_THRESHOLDS[method]
    )
    leads: list[int] = []  # index into ev of each clause's lead statement
    members: list[list[int]] = []
    for i in range(len(ev)):
        for c, lead in enumerate(leads):
            if float(vectors[i] @ vectors[lead]) >= threshold:
                members[c].append(i)
                break
        else:
            leads.append(i)
            members.append([i])
    clauses = [
        Clause(id=f"c{c + 1}", text=ev[leads[c]].text, evidence=tuple(ev[i] for i in m))
        for c, m in enumerate(members)
    ]
    if settings.max_clauses is not None:
        clauses = clauses[: settings.max_clauses]
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
            "merge_threshold_used": threshold,
            "min_gac_used": settings.rule.gac_threshold(result.n_groups),
        },
        "candidates": len(ev),
    }
    return Constitution(title=title, clauses=tuple(clauses), provenance=provenance)
