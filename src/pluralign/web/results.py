"""Adapters between the web app and the aggregation, Polis-export and constitution stages.

The pages call only the functions here: :func:`opinion_groups` (opinion map, groups, repness,
consensus via :func:`pluralign.aggregate.aggregate`), :func:`export_polis`
(:func:`pluralign.data.polis.export_polis`) and :func:`draft_constitution`
(:func:`pluralign.constitution.draft_constitution`). Results are cached per assembly for
``CACHE_SECONDS`` so a crowd opening the map does not re-run the aggregation for each person.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 0  # fixed: the same votes give the same groups on every page view and in the exports
CACHE_SECONDS = 20.0


@dataclass(frozen=True)
class StatementScore:
    statement: int
    text: str
    score: float
    """Consensus: group-aware consensus (GAC). Repness: Polis's repness ratio (ra or rd)."""
    share: float = 0.0
    """Consensus: the smallest per-group agree rate. Repness: share of the group on ``side``."""
    side: str = "agree"


@dataclass(frozen=True)
class Group:
    id: int
    size: int
    repness: tuple[StatementScore, ...]


@dataclass(frozen=True)
class Results:
    slug: str
    participants: tuple[int, ...]
    """Participant numbers placed on the map (those in the conversation)."""
    coords: tuple[tuple[float, float], ...]
    labels: tuple[int, ...]
    groups: tuple[Group, ...]
    consensus: tuple[StatementScore, ...]
    n_votes: int
    min_votes: int
    source: str = "pluralign.aggregate"
    computed_at: float = field(default_factory=time.time)
    separation: dict[int, float] = field(default_factory=dict)
    """Statement number -> how far apart the opinion groups stand on it (statement routing,
    :func:`pluralign.web.routing.separation`)."""
    summary: Any = None
    """The grounded summary (:class:`pluralign.sensemaking.summaries.Summary`: per topic, what
    most of every group agrees with and where groups differ, template wording, TF-IDF topics;
    None without groups)."""
    routing_model: Any = None
    """The groups' vote distributions per statement for the gain policy
    (:class:`pluralign.web.routing.GroupModel`, keyed by statement number; None without
    groups)."""

    def group_of(self, participant_number: int) -> int | None:
        try:
            return self.labels[self.participants.index(participant_number)]
        except ValueError:
            return None


_cache: dict[tuple[str, str, int], Results] = {}
_lock = threading.Lock()


def _matrix(store, slug: str):
    """The assembly's vote matrix (latest vote per pair; rejected statements excluded), read
    through the app's own store (``aggregate.from_store`` would open and migrate another)."""
    from sqlalchemy import select

    from pluralign.aggregate import from_votes
    from pluralign.store.models import REJECTED, Statement
    from pluralign.store.queries import get_assembly, latest_votes

    with store.session() as s:
        assembly = get_assembly(s, slug)
        votes = latest_votes(s, assembly.id)
        rows = s.execute(
            select(Statement.number, Statement.text, Statement.moderation).where(
                Statement.assembly_id == assembly.id
            )
        ).all()
        topic = assembly.topic
    texts = {int(n): t for n, t, _ in rows}
    exclude = {int(n) for n, _, m in rows if m == REJECTED}
    matrix = from_votes(
        votes.drop(columns=["created_at"]),
        texts=texts,
        exclude=exclude,
        source=f"assembly '{slug}'",
    )
    return matrix, topic


def _aggregate(store, slug: str, min_votes: int):
    from pluralign.aggregate import AggregateSettings, aggregate

    matrix, topic = _matrix(store, slug)
    if matrix.shape[0] == 0 or matrix.shape[1] == 0:
        return None, matrix, topic
    return (
        aggregate(matrix, seed=SEED, settings=AggregateSettings(min_votes=min_votes)),
        matrix,
        topic,
    )


def opinion_groups(store, slug: str, *, min_votes: int, fresh: bool = False) -> Results:
    """Opinion map, groups, repness and consensus of an assembly (cached ``CACHE_SECONDS``)."""
    key = (str(store.url), slug, min_votes)

    def cached():
        hit = _cache.get(key)
        if hit and not fresh and time.time() - hit.computed_at < CACHE_SECONDS:
            return hit
        return None

    if (hit := cached()) is not None:
        return hit
    with _lock:
        if (hit := cached()) is not None:  # computed by another request while we waited
            return hit
        results = _to_results(slug, min_votes, *_aggregate(store, slug, min_votes)[:2])
        _cache[key] = results
    return results


def _to_results(slug: str, min_votes: int, result, matrix) -> Results:
    import numpy as np

    if result is None:
        return Results(slug, (), (), (), (), (), 0, min_votes)
    texts = dict(zip((int(s) for s in matrix.statements), matrix.texts, strict=True))
    inside = np.flatnonzero(result.in_conv & (result.groups >= 0))
    sizes = np.bincount(result.groups[inside], minlength=result.n_groups)
    groups = []
    for g in range(result.n_groups):
        reps = tuple(
            StatementScore(
                r.statement,
                texts.get(r.statement, ""),
                float(r.repness),
                float(r.p_success),
                r.repful_for,
            )
            for r in result.repness.get(g, [])
        )
        groups.append(Group(g, int(sizes[g]), reps))
    st = result.stats
    share = np.divide(
        st.agree, st.seen, out=np.zeros_like(st.agree, dtype=float), where=st.seen > 0
    )
    column = {int(s): j for j, s in enumerate(matrix.statements)}
    consensus = tuple(
        StatementScore(
            c, texts.get(c, ""), float(result.gac[column[c]]), float(share[:, column[c]].min())
        )
        for c in result.consensus
    )
    coords = result.projection[inside, :2]
    from pluralign.web.routing import GroupModel, group_separations

    model = None
    if result.n_groups >= 2:
        model = GroupModel(
            matrix.statements,
            st.agree,
            st.disagree,
            st.seen,
            sizes=sizes,
            share=result.settings.consensus.agree_share,
        )

    summary = None
    if result.n_groups >= 1 and len(matrix.statements) >= 2:
        from pluralign.sensemaking import SensemakingSettings
        from pluralign.sensemaking import run as sensemaking_run

        summary = sensemaking_run(
            result, SensemakingSettings(embedder="tfidf", stability_seeds=0), seed=0
        ).summary

    return Results(
        slug,
        tuple(int(p) for p in matrix.participants[inside]),
        tuple((float(x), float(y)) for x, y in coords),
        tuple(int(g) for g in result.groups[inside]),
        tuple(groups),
        consensus,
        int(matrix.n_votes),
        min_votes,
        separation=group_separations(matrix.statements, st.agree, st.disagree, st.seen),
        summary=summary,
        routing_model=model,
    )


ROUTING_REFRESH_SECONDS = 30.0
_routing: dict[tuple[str, str, int], tuple[float, Results]] = {}
_refreshing: set[tuple[str, str, int]] = set()
_refreshing_lock = threading.Lock()  # not _lock: that one is held while aggregating


def routing_results(store, slug: str, *, min_votes: int) -> Results | None:
    """The latest aggregation for statement routing, without waiting.

    Returns what the last aggregation for routing found (None before the first); when that is
    older than :data:`ROUTING_REFRESH_SECONDS` a background thread aggregates again (one per
    assembly at a time), so the vote pages never wait for an aggregation. Its own cache: the
    pages' results (:func:`opinion_groups`) are not touched.
    """
    key = (str(store.url), slug, min_votes)
    hit = _routing.get(key)
    if hit is None or time.time() - hit[0] > ROUTING_REFRESH_SECONDS:
        with _refreshing_lock:
            start = key not in _refreshing
            _refreshing.add(key)
        if start:
            threading.Thread(
                target=_refresh,
                args=(store, slug, min_votes, key),
                daemon=True,
                name=f"groups-{slug}",
            ).start()
    return hit[1] if hit is not None else None


def _refresh(store, slug: str, min_votes: int, key) -> None:
    import logging

    try:
        results = _to_results(slug, min_votes, *_aggregate(store, slug, min_votes)[:2])
        _routing[key] = (time.time(), results)
    except Exception:  # noqa: BLE001 - a background refresh: logged, the pages go on
        logging.getLogger(__name__).exception("aggregating '%s' for statement routing", slug)
    finally:
        with _refreshing_lock:
            _refreshing.discard(key)


def export_polis(store, slug: str, out_dir: Path) -> list[Path]:
    """Write the Polis export CSVs of an assembly into ``out_dir`` (pseudonymous numbers only:
    the exporter never writes participant keys or demographics)."""
    from pluralign.data.polis import export_polis as stage_export

    stage_export(store, slug, out_dir)
    return sorted(Path(out_dir).glob("*.csv"))


def draft_constitution(
    store, slug: str, *, min_votes: int, fmt: str = "md", embedder: str = "tfidf"
) -> str:
    """The draft constitution of an assembly, Markdown (``fmt="md"``) or YAML (``"yaml"``),
    drafted from its cross-group consensus with provenance.

    ``embedder`` finds near-duplicate statements to merge into one clause. The web app uses
    TF-IDF by default: the MiniLM encoder would load torch into the web server (seconds, and
    hundreds of MB per worker); ``pluralign web --constitution-embedder auto`` or the
    ``pluralign constitution`` command give the MiniLM merge.
    """
    from pluralign.constitution import Constitution, ConstitutionSettings
    from pluralign.constitution import draft_constitution as draft

    result, _matrix, topic = _aggregate(store, slug, min_votes)
    if result is None:
        constitution = Constitution(title=topic, clauses=(), provenance={})
    else:
        constitution = draft(result, title=topic, settings=ConstitutionSettings(embedder=embedder))
    return constitution.to_yaml() if fmt == "yaml" else constitution.to_markdown()
