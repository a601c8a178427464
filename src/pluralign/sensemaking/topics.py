"""Topics and subtopics of a conversation's statements, from sentence embeddings.

Statements are clustered by **consensus clustering** of their unit-length sentence vectors
(all-MiniLM-L6-v2, :mod:`pluralign.models.embed`): :data:`ENSEMBLE` k-means runs, each from
its own seeded k-means++ start, vote on which statements belong together (the co-association
matrix: the share of runs putting i and j in one cluster), and average-linkage clustering of
``1 − co-association`` cut at k clusters gives the topics (A. Strehl and J. Ghosh, "Cluster
ensembles", JMLR 3, 2002; S. Monti et al., "Consensus clustering", Machine Learning 52, 2003).
One k-means fit depends strongly on its start on sentence embeddings, whose clusters overlap:
over seeds 0–3 its topics agree with ARI 0.33–0.52 on three conversations, the consensus of 20
runs with ARI 0.50–0.72 (docs/sensemaking.md). The number of topics is
``k = round(√(n / 2))`` (the usual rule of thumb; at most ``max_topics``, and no topic smaller
than ``min_topic_size`` on average): on sentence embeddings the silhouette (Rousseeuw 1987)
is low and flat — 0.07–0.11 for every k = 2 … 12 on bg2050-volunteers — and its arg-max picks
two topics for 192 statements on ssis.land-bank, too coarse to read. A topic with at least
``subtopic_min`` statements is split the same way into subtopics (at most ``max_subtopics``),
as the topic reports of Polis, Talk to the City and Jigsaw's Sensemaker do.

Every fit is seeded; :func:`stability` refits with other seeds and reports the adjusted Rand
index (Hubert & Arabie 1985) of the statement → leaf-topic assignment against the first fit,
and the share of statement pairs that stay together (docs/sensemaking.md has the measurements).
Names come from :mod:`pluralign.sensemaking.naming`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

ENSEMBLE = 20
"""k-means runs whose co-association the topics are cut from (more: steadier, slower)."""


@dataclass(frozen=True)
class Topic:
    """A topic: its id (``t3``; subtopics ``t3.1``), name, keywords, statement ids (the most
    central first) and subtopics."""

    id: str
    name: str
    statements: tuple[int, ...]
    keywords: tuple[str, ...] = ()
    named_by: str = "keywords"
    subtopics: tuple[Topic, ...] = ()

    def leaves(self) -> list[Topic]:
        """This topic's subtopics, or the topic itself when it has none."""
        return list(self.subtopics) or [self]

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "name": self.name,
            "named_by": self.named_by,
            "keywords": list(self.keywords),
            "statements": list(self.statements),
        }
        if self.subtopics:
            d["subtopics"] = [t.to_dict() for t in self.subtopics]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Topic:
        return cls(
            id=str(d["id"]),
            name=str(d["name"]),
            statements=tuple(int(s) for s in d["statements"]),
            keywords=tuple(d.get("keywords", ())),
            named_by=str(d.get("named_by", "keywords")),
            subtopics=tuple(cls.from_dict(t) for t in d.get("subtopics", ())),
        )


@dataclass(frozen=True)
class TopicModel:
    """The topics of a conversation, largest first, and how they were found."""

    topics: tuple[Topic, ...]
    embedder: str
    seed: int
    silhouette: float | None = None
    """Mean silhouette (cosine) of the top-level topics."""
    stability: dict | None = None

    def leaf_of(self) -> dict[int, Topic]:
        """Statement id → its leaf topic (subtopic, or topic without subtopics)."""
        return {s: leaf for t in self.topics for leaf in t.leaves() for s in leaf.statements}

    def top_of(self) -> dict[int, Topic]:
        """Statement id → its top-level topic."""
        return {s: t for t in self.topics for s in t.statements}

    def labels(self) -> dict[int, str]:
        """Statement id → leaf topic id."""
        return {s: t.id for s, t in self.leaf_of().items()}

    def to_dict(self) -> dict:
        return {
            "embedder": self.embedder,
            "seed": self.seed,
            "silhouette": self.silhouette,
            "stability": self.stability,
            "topics": [t.to_dict() for t in self.topics],
        }

    @classmethod
    def from_dict(cls, d: dict) -> TopicModel:
        return cls(
            topics=tuple(Topic.from_dict(t) for t in d["topics"]),
            embedder=str(d.get("embedder", "")),
            seed=int(d.get("seed", 0)),
            silhouette=d.get("silhouette"),
            stability=d.get("stability"),
        )


def consensus_labels(vectors: np.ndarray, k: int, seed: int, runs: int = ENSEMBLE) -> np.ndarray:
    """k clusters cut from the co-association of ``runs`` seeded k-means fits (average
    linkage on ``1 − co-association``), numbered 0 … k−1."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.cluster import KMeans

    n = len(vectors)
    rng = np.random.default_rng(seed)
    together = np.zeros((n, n))
    for _ in range(runs):
        labels = KMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31))).fit_predict(
            vectors
        )
        together += np.equal.outer(labels, labels)
    distance = 1.0 - together / runs
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return fcluster(tree, k, criterion="maxclust") - 1


def _silhouette(vectors: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    if not 2 <= len(set(labels.tolist())) < len(labels):
        return float("nan")
    return float(silhouette_score(vectors, labels, metric="cosine"))


def topic_count(n: int, max_topics: int, min_topic_size: int) -> int:
    """``round(√(n / 2))``, at most ``max_topics`` and ``n / min_topic_size``, at least 1."""
    k = int(round(np.sqrt(n / 2)))
    return max(1, min(k, max_topics, n // max(min_topic_size, 1)))


def _split(vectors: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, float]:
    if k < 2 or len(vectors) < 2 * k:
        return np.zeros(len(vectors), dtype=int), float("nan")
    with _thread_limit():
        labels = consensus_labels(vectors, k, seed)
        return labels, _silhouette(vectors, labels)


def _thread_limit():
    """One BLAS/OpenMP thread for the many small k-means steps (as :func:`aggregate`)."""
    from pluralign.aggregate.pipeline import _thread_controller

    return _thread_controller().limit(limits=1)


def _ordered(ids: np.ndarray, vectors: np.ndarray) -> tuple[int, ...]:
    """Statement ids, the closest to the group's mean direction first (ties: id)."""
    centre = vectors.mean(axis=0)
    score = vectors @ centre
    return tuple(int(ids[i]) for i in np.lexsort((ids, -np.round(score, 9))))


def find_topics(
    ids: Sequence[int],
    vectors: np.ndarray,
    *,
    seed: int = 0,
    max_topics: int = 15,
    min_topic_size: int = 5,
    subtopic_min: int = 24,
    max_subtopics: int = 6,
    embedder: str = "",
) -> TopicModel:
    """Topics (and subtopics) of the statements ``ids`` with unit vectors ``vectors``, unnamed
    (ids as names; see :func:`pluralign.sensemaking.naming.name_topics`), largest first."""
    ids = np.asarray(list(ids), dtype=np.int64)
    vectors = np.asarray(vectors, dtype=np.float64)
    n = len(ids)
    k = topic_count(n, max_topics, min_topic_size)
    labels, silhouette = _split(vectors, k, seed)
    groups = sorted(
        (np.flatnonzero(labels == c) for c in np.unique(labels)),
        key=lambda g: (-len(g), int(ids[g].min())),
    )
    topics = []
    for t, members in enumerate(groups, start=1):
        sub: list[Topic] = []
        if len(members) >= subtopic_min:
            k_sub = topic_count(len(members), max_subtopics, min_topic_size)
            sub_labels, _ = _split(vectors[members], max(k_sub, 2), seed)
            parts = sorted(
                (members[sub_labels == c] for c in np.unique(sub_labels)),
                key=lambda g: (-len(g), int(ids[g].min())),
            )
            if len(parts) > 1:
                sub = [
                    Topic(id=f"t{t}.{s}", name=f"t{t}.{s}", statements=_ordered(ids[p], vectors[p]))
                    for s, p in enumerate(parts, start=1)
                ]
        topics.append(
            Topic(
                id=f"t{t}",
                name=f"t{t}",
                statements=_ordered(ids[members], vectors[members]),
                subtopics=tuple(sub),
            )
        )
    return TopicModel(
        topics=tuple(topics),
        embedder=embedder,
        seed=seed,
        silhouette=None if np.isnan(silhouette) else round(silhouette, 4),
    )


def stability(
    ids: Sequence[int], vectors: np.ndarray, model: TopicModel, seeds: Sequence[int], **kwargs
) -> dict:
    """Refit with each of ``seeds`` and compare with ``model``: adjusted Rand index of the leaf
    topics and of the top-level topics (mean and minimum), the share of statement pairs the
    refit keeps together among those ``model`` puts together, and the topic counts."""
    from sklearn.metrics import adjusted_rand_score

    ids = list(ids)
    leaf = model.labels()
    top = {s: t.id for s, t in model.top_of().items()}
    base_leaf = [leaf[s] for s in ids]
    base_top = [top[s] for s in ids]
    aris, top_aris, together, counts = [], [], [], []
    same_base = np.equal.outer(base_leaf, base_leaf)
    for s in seeds:
        other = find_topics(ids, vectors, seed=int(s), **kwargs)
        ol, ot = other.labels(), {x: t.id for x, t in other.top_of().items()}
        lab = [ol[x] for x in ids]
        aris.append(adjusted_rand_score(base_leaf, lab))
        top_aris.append(adjusted_rand_score(base_top, [ot[x] for x in ids]))
        same = np.equal.outer(lab, lab)
        off = same_base & ~np.eye(len(ids), dtype=bool)
        together.append(float(same[off].mean()) if off.any() else 1.0)
        counts.append(len(other.topics))
    return {
        "seeds": [int(s) for s in seeds],
        "leaf_ari_mean": round(float(np.mean(aris)), 4) if aris else None,
        "leaf_ari_min": round(float(np.min(aris)), 4) if aris else None,
        "topic_ari_mean": round(float(np.mean(top_aris)), 4) if top_aris else None,
        "pairs_kept_together": round(float(np.mean(together)), 4) if together else None,
        "topic_counts": counts,
    }


def with_names(model: TopicModel, names: dict[str, tuple[str, tuple[str, ...], str]]) -> TopicModel:
    """``model`` with names: topic id → (name, keywords, named_by)."""

    def named(t: Topic) -> Topic:
        name, keywords, by = names.get(t.id, (t.name, t.keywords, t.named_by))
        return replace(
            t,
            name=name,
            keywords=keywords,
            named_by=by,
            subtopics=tuple(named(s) for s in t.subtopics),
        )

    return replace(model, topics=tuple(named(t) for t in model.topics))
