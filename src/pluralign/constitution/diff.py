"""``pluralign constitution diff A B``: which clauses two constitutions share, matched by meaning.

Collective Constitutional AI compared the public's constitution with Anthropic's own clause by
clause, by meaning rather than wording. Here each clause is embedded (the style's opening —
"Choose the response that", "The AI should", "The assistant should" … — removed first, so two
clauses are not alike merely for being written in one style), and clauses are paired one to one
by the assignment that maximises total cosine similarity (the Hungarian method, H. W. Kuhn,
"The Hungarian method for the assignment problem", 1955; ``scipy.optimize.linear_sum_assignment``).
A pair counts as **shared** when its cosine is at least the threshold (MiniLM 0.6, TF-IDF 0.3),
or when both clauses cite the same voted statement (drafted from the same votes). The rest are
**only in A** and **only in B**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pluralign.constitution.settings import ConstitutionSettings

THRESHOLDS = {"minilm": 0.6, "tfidf": 0.3}


def core(text: str) -> str:
    """A clause without its style's opening."""
    from pluralign.sensemaking.wording import strip_opening

    return strip_opening(text)


@dataclass(frozen=True)
class Side:
    """One clause of a constitution, as the diff sees it."""

    id: str
    text: str
    statements: tuple[int, ...] = ()


@dataclass(frozen=True)
class Match:
    a: Side
    b: Side
    similarity: float
    shared_statements: tuple[int, ...] = ()


@dataclass(frozen=True)
class Diff:
    shared: tuple[Match, ...]
    only_a: tuple[Side, ...]
    only_b: tuple[Side, ...]
    embedder: str
    threshold: float

    def to_dict(self) -> dict:
        def side(s: Side) -> dict:
            return {"id": s.id, "text": s.text, "statements": list(s.statements)}

        return {
            "embedder": self.embedder,
            "threshold": self.threshold,
            "shared": [
                {
                    "a": side(m.a),
                    "b": side(m.b),
                    "similarity": round(m.similarity, 4),
                    "shared_statements": list(m.shared_statements),
                }
                for m in self.shared
            ],
            "only_a": [side(s) for s in self.only_a],
            "only_b": [side(s) for s in self.only_b],
        }

    def to_markdown(self, name_a: str = "A", name_b: str = "B") -> str:
        n_a = len(self.shared) + len(self.only_a)
        n_b = len(self.shared) + len(self.only_b)
        lines = [
            f"# {name_a} vs {name_b}",
            "",
            f"{len(self.shared)} shared clauses ({_share(len(self.shared), n_a)} of {name_a}, "
            f"{_share(len(self.shared), n_b)} of {name_b}); {len(self.only_a)} only in "
            f"{name_a}; {len(self.only_b)} only in {name_b}. Matched by meaning "
            f"({self.embedder}, cosine ≥ {self.threshold:.2f}, or the same voted statement).",
            "",
            "## Shared",
            "",
        ]
        for m in self.shared:
            why = (
                f"same statement(s) {', '.join(f'#{s}' for s in m.shared_statements)}"
                if m.shared_statements
                else f"cosine {m.similarity:.2f}"
            )
            lines.append(f"- **{m.a.id}** {m.a.text} ↔ **{m.b.id}** {m.b.text} *({why})*")
        for title, items in (
            (f"Only in {name_a}", self.only_a),
            (f"Only in {name_b}", self.only_b),
        ):
            lines += ["", f"## {title}", ""]
            lines += [f"- **{s.id}** {s.text}" for s in items] or ["(none)"]
        return "\n".join(lines) + "\n"


def _share(k: int, n: int) -> str:
    return f"{k / n:.0%}" if n else "–"


def diff_constitutions(
    a: Sequence[Side],
    b: Sequence[Side],
    *,
    embedder: str = ConstitutionSettings.embedder,
    threshold: float | None = None,
) -> Diff:
    """Match the clauses of ``a`` and ``b`` by meaning (see the module docstring)."""
    from scipy.optimize import linear_sum_assignment

    from pluralign.models.embed import embed

    vectors, method = embed([core(s.text) for s in list(a) + list(b)], embedder)
    threshold = THRESHOLDS[method] if threshold is None else threshold
    va, vb = vectors[: len(a)], vectors[len(a) :]
    sim = va @ vb.T if len(a) and len(b) else np.zeros((len(a), len(b)))
    same = np.array(
        [[bool(set(x.statements) & set(y.statements)) for y in b] for x in a], dtype=bool
    ).reshape(len(a), len(b))
    score = sim + 2.0 * same  # a shared statement outranks any cosine
    rows, cols = linear_sum_assignment(-score) if score.size else ([], [])
    shared, used_a, used_b = [], set(), set()
    for i, j in zip(rows, cols, strict=True):
        if same[i, j] or sim[i, j] >= threshold:
            common = tuple(sorted(set(a[i].statements) & set(b[j].statements)))
            shared.append(Match(a[i], b[j], float(sim[i, j]), common))
            used_a.add(i)
            used_b.add(j)
    shared.sort(key=lambda m: [x.id for x in a].index(m.a.id))
    return Diff(
        shared=tuple(shared),
        only_a=tuple(s for i, s in enumerate(a) if i not in used_a),
        only_b=tuple(s for j, s in enumerate(b) if j not in used_b),
        embedder=method,
        threshold=float(threshold),
    )


def read_sides(path) -> list[Side]:
    """The clauses of a constitution file: a drafted ``constitution.yaml`` or a hand-written
    list (``clauses:`` of ``{id, text}`` or plain strings, see docs/llm.md)."""
    from pluralign.constitution.document import read_clauses

    return [
        Side(c.id, c.text, tuple(c.statements))
        for c in read_clauses(path)
    ]
