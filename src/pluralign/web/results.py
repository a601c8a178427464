"""Adapters between the web app and the aggregation, Polis-export and constitution stages.

The web app only calls the three functions below. Each uses the stage's public API when it is
installed (``pluralign.aggregate``, ``pluralign.data.polis``, ``pluralign.constitution``) and an
*interim* implementation otherwise, so the pages work before those stages land. The interim
opinion groups follow the Polis recipe in miniature (Small et al. 2021, "Polis: Scaling
deliberation by mapping high dimensional opinion spaces"): participants with at least
``min_votes`` votes, column-mean imputation, PCA to 2-D, k-means with k in 2..5 chosen by
silhouette; repness = agree rate in the group minus agree rate outside (with a Laplace prior);
consensus = statements every group agrees with (agree rate ≥ 0.6 in each group).
"""

from __future__ import annotations

import csv
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pluralign import __version__


@dataclass(frozen=True)
class StatementScore:
    statement: int
    text: str
    score: float
    """Consensus: the smallest per-group agree rate. Repness: in-group minus out-group."""
    agree_in: float = 0.0


@dataclass(frozen=True)
class Group:
    id: int
    size: int
    repness: tuple[StatementScore, ...]


@dataclass(frozen=True)
class Results:
    slug: str
    participants: tuple[int, ...]
    """Participant numbers placed on the map (those with enough votes)."""
    coords: tuple[tuple[float, float], ...]
    labels: tuple[int, ...]
    groups: tuple[Group, ...]
    consensus: tuple[StatementScore, ...]
    n_votes: int
    min_votes: int
    source: str
    """Which implementation produced this: ``pluralign.aggregate`` or ``interim``."""
    computed_at: float = field(default_factory=time.time)

    def group_of(self, participant_number: int) -> int | None:
        try:
            return self.labels[self.participants.index(participant_number)]
        except ValueError:
            return None


_cache: dict[tuple[str, str], Results] = {}
_lock = threading.Lock()
CACHE_SECONDS = 20.0


def opinion_groups(store, slug: str, *, min_votes: int, fresh: bool = False) -> Results:
    """Opinion map, groups, repness and consensus of an assembly (cached ``CACHE_SECONDS``)."""
    key = (str(store.url), slug)
    cached = _cache.get(key)
    if cached and not fresh and time.time() - cached.computed_at < CACHE_SECONDS:
        return cached
    with _lock:
        results = _interim_groups(store, slug, min_votes)
        _cache[key] = results
    return results


def _interim_groups(store, slug: str, min_votes: int) -> Results:
    # TODO(aggregate): replace the body with pluralign.aggregate once it lands on main.
    import numpy as np
    from sqlalchemy import select

    from pluralign.store.models import Statement
    from pluralign.store.queries import get_assembly, latest_votes

    with store.session() as s:
        assembly = get_assembly(s, slug)
        votes = latest_votes(s, assembly.id)
        texts = dict(s.execute(select(Statement.number, Statement.text)
                               .where(Statement.assembly_id == assembly.id)).all())
    empty = Results(slug, (), (), (), (), (), int(len(votes)), min_votes, "interim")
    if votes.empty:
        return empty
    matrix = votes.pivot_table(index="participant", columns="statement", values="value",
                               aggfunc="last")
    matrix = matrix[matrix.notna().sum(axis=1) >= min_votes]
    if len(matrix) < 4 or matrix.shape[1] < 2:
        return empty
    x = matrix.to_numpy(dtype=float)
    observed = ~np.isnan(x)
    col_mean = np.where(observed.any(0), np.nanmean(np.where(observed, x, np.nan), axis=0), 0.0)
    filled = np.where(observed, x, col_mean)
    centred = filled - filled.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T
    if coords.shape[1] < 2:
        coords = np.column_stack([coords, np.zeros(len(coords))])
    labels = _kmeans_best(coords)
    agree = (x == 1) & observed
    groups, rates = [], []
    for g in sorted(set(labels)):
        inside = labels == g
        a_in = (agree[inside].sum(0) + 1) / (observed[inside].sum(0) + 2)
        a_out = (agree[~inside].sum(0) + 1) / (observed[~inside].sum(0) + 2)
        rates.append(a_in)
        order = np.argsort(-(a_in - a_out))[:5]
        rep = tuple(StatementScore(int(matrix.columns[j]), texts.get(int(matrix.columns[j]), ""),
                                   float(a_in[j] - a_out[j]), float(a_in[j])) for j in order)
        groups.append(Group(int(g), int(inside.sum()), rep))
    min_rate = np.min(np.vstack(rates), axis=0)
    cons = [StatementScore(int(matrix.columns[j]), texts.get(int(matrix.columns[j]), ""),
                           float(min_rate[j])) for j in np.argsort(-min_rate) if min_rate[j] >= 0.6]
    return Results(slug, tuple(int(p) for p in matrix.index),
                   tuple((float(a), float(b)) for a, b in coords[:, :2]),
                   tuple(int(v) for v in labels), tuple(groups), tuple(cons[:10]),
                   int(len(votes)), min_votes, "interim")


def _kmeans_best(coords):
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best, best_score = np.zeros(len(coords), dtype=int), -1.0
    distinct = len(np.unique(np.round(coords, 9), axis=0))
    for k in range(2, min(5, distinct, len(coords) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(coords)
        if len(set(labels)) < 2:
            continue
        score = silhouette_score(coords, labels)
        if score > best_score:
            best, best_score = labels, score
    return best


def export_polis(store, slug: str, out_dir: Path) -> list[Path]:
    """Write the Polis export CSVs of an assembly into ``out_dir`` (pseudonymous numbers only)."""
    try:
        from pluralign.data.polis import export_polis as stage_export  # lands with 'foundation'
    except ImportError:
        return _interim_export(store, slug, Path(out_dir))
    result = stage_export(store, slug, out_dir)
    return sorted(Path(out_dir).glob("*.csv")) if result is None else list(result)


def _interim_export(store, slug: str, out: Path) -> list[Path]:
    # TODO(foundation): delete once pluralign.data.polis.export_polis is on main.
    from sqlalchemy import select

    from pluralign.store.models import MODERATION_TO_POLIS, Statement
    from pluralign.store.queries import get_assembly, vote_history

    out.mkdir(parents=True, exist_ok=True)
    with store.session() as s:
        assembly = get_assembly(s, slug)
        votes = vote_history(s, assembly.id)
        statements = s.execute(select(Statement).where(Statement.assembly_id == assembly.id)
                               .order_by(Statement.number)).scalars().all()
        author = {}
        if statements:
            from pluralign.store.models import Participant

            author = dict(s.execute(select(Participant.id, Participant.number)
                                    .where(Participant.assembly_id == assembly.id)).all())
        topic = assembly.topic
        rows = [(st.created_at, st.number, author.get(st.author_id, ""),
                 MODERATION_TO_POLIS[st.moderation], st.text) for st in statements]

    def ms(t):
        return int(t.timestamp() * 1000)

    files = []
    with open(out / "comments.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees",
                    "moderated", "comment-body"])
        latest = votes.drop_duplicates(["participant", "statement"], keep="last")
        for created, number, auth, mod, text in rows:
            mine = latest[latest.statement == number]
            w.writerow([ms(created), created.isoformat(), number, auth,
                        int((mine.value == 1).sum()), int((mine.value == -1).sum()), mod, text])
    files.append(out / "comments.csv")
    with open(out / "votes.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "datetime", "comment-id", "voter-id", "vote"])
        for r in votes.itertuples():
            w.writerow([ms(r.created_at), r.created_at.isoformat(), r.statement, r.participant,
                        r.value])
    files.append(out / "votes.csv")
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["topic", topic])
        w.writerow(["voters", votes.participant.nunique() if len(votes) else 0])
        w.writerow(["comments", len(rows)])
        w.writerow(["generator", f"pluralign {__version__} (interim web exporter)"])
    files.append(out / "summary.csv")
    return files


def draft_constitution(store, slug: str, *, min_votes: int) -> str:
    """The draft constitution (Markdown) from the assembly's consensus statements."""
    # TODO(aggregate/constitution): call pluralign.constitution's drafting function here.
    results = opinion_groups(store, slug, min_votes=min_votes, fresh=True)
    lines = [f"# Draft constitution: {slug}", "",
             f"Generated by pluralign {__version__} from {results.n_votes} votes, "
             f"{len(results.participants)} participants on the opinion map, "
             f"{len(results.groups)} opinion groups ({results.source} aggregation).", "",
             "Each clause is a statement that every opinion group agreed with; the numbers give "
             "the statement id and the smallest agree rate over the groups.", ""]
    if not results.consensus:
        lines.append("_No statement has cross-group agreement yet._")
    for i, c in enumerate(results.consensus, start=1):
        lines.append(f"{i}. {c.text}  (statement {c.statement}; min group agreement "
                     f"{c.score:.0%})")
    return "\n".join(lines) + "\n"
