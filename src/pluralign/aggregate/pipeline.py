"""``aggregate(matrix, seed)``: the whole aggregation step, returning one result object.

Steps (each a small estimator or function in this package): in-conversation filter
(:func:`~pluralign.aggregate.matrix.in_conversation`) → PCA with sparsity-aware projection
(:class:`~pluralign.aggregate.pca.PolisPCA`) → base clusters and opinion groups
(:class:`~pluralign.aggregate.clusters.PolisClusterer`) → per-group counts, repness,
group-aware consensus (:mod:`~pluralign.aggregate.stats`) → bridging scores
(:class:`~pluralign.aggregate.bridging.BridgingModel`).
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from pluralign import __version__
from pluralign.aggregate.bridging import BridgingModel
from pluralign.aggregate.clusters import PolisClusterer, halve_groups
from pluralign.aggregate.consensus import ConsensusRule, consensus_candidates
from pluralign.aggregate.matrix import VoteMatrix, in_conversation
from pluralign.aggregate.pca import PolisPCA
from pluralign.aggregate.settings import AggregateSettings
from pluralign.aggregate.stats import (
    GroupStats,
    RepStatement,
    group_aware_consensus,
    group_stats,
    polis_consensus,
    representative_statements,
)
from pluralign.errors import InputError

NO_GROUP = -1
__all__ = ["NO_GROUP", "AggregateResult", "AggregateSettings", "aggregate"]
RESULT_FILE = "result.npz"
"""What :meth:`AggregateResult.read` reads back (beside the CSVs, JSON and map a person reads)."""


@dataclass(frozen=True, eq=False)
class AggregateResult:
    """Everything the aggregation found, with the fitted estimators kept for inspection.

    ``groups`` holds each participant's opinion group (``-1`` for participants not clustered:
    too few votes). Per-group arrays have shape (n_groups, n_statements) in ``matrix.statements``
    order.
    """

    matrix: VoteMatrix
    settings: AggregateSettings
    seed: int
    in_conv: np.ndarray
    in_conv_source: str
    groups: np.ndarray
    projection: np.ndarray
    n_groups: int
    silhouettes: dict[int, float]
    stats: GroupStats
    repness: dict[int, list[RepStatement]]
    gac: np.ndarray
    consensus: list[int]
    polis_consensus: dict[str, list[int]]
    bridging: np.ndarray
    explained_variance: tuple[float, ...]
    halves: np.ndarray
    """Each participant's half of their opinion group (2g, 2g + 1; −1 if not clustered):
    :func:`~pluralign.aggregate.clusters.halve_groups` (recomputed on read: seeded)."""
    half_agree: np.ndarray
    """Agrees per (half, statement), shape (2 · n_groups, n_statements)."""
    half_seen: np.ndarray
    """Votes seen per (half, statement)."""
    half_disagree: np.ndarray | None = None
    """Disagrees per (half, statement)."""
    title: str = ""
    """What the votes are (the opinion map's title)."""
    pca: PolisPCA | None = field(default=None, repr=False)
    """The fitted estimators (None on a result read back from its folder)."""
    clusterer: PolisClusterer | None = field(default=None, repr=False)
    bridging_model: BridgingModel | None = field(default=None, repr=False)

    @property
    def half_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(agree, disagree, seen) of the groups' halves, the ``halves`` argument of
        :func:`~pluralign.aggregate.consensus.consensus_candidates`."""
        return self.half_agree, self.half_disagree, self.half_seen

    def consensus_columns(self, rule: ConsensusRule | None = None) -> np.ndarray:
        """Columns of the statements that are cross-group consensus under ``rule`` (default:
        the settings' rule), by decreasing GAC."""
        rule = self.settings.consensus if rule is None else rule
        return consensus_candidates(
            self.stats.agree, self.stats.seen, self.gac, rule, self.half_counts,
            self.stats.disagree,
        )

    def groups_frame(self) -> pd.DataFrame:
        """``participant, group`` (group empty for participants not clustered)."""
        g = pd.array(np.where(self.groups >= 0, self.groups, 0), dtype="Int64")
        g[self.groups < 0] = pd.NA
        return pd.DataFrame({"participant": self.matrix.participants, "group": g})

    def statement_table(self) -> pd.DataFrame:
        """One row per statement: counts, overall agreement, per-group agree/disagree/pass and
        agreement, GAC, bridging score, and the group it represents (with its repness)."""
        m = self.matrix
        agree, disagree, passes = m.counts()
        seen = agree + disagree + passes
        df = pd.DataFrame(
            {
                "statement": m.statements,
                "text": list(m.texts),
                "agrees": agree,
                "disagrees": disagree,
                "passes": passes,
                "agreement": np.divide(agree, seen, out=np.zeros(len(seen)), where=seen > 0),
            }
        )
        st = self.stats
        for g in range(self.n_groups):
            s = st.seen[g]
            df[f"g{g}_agree"] = st.agree[g].astype(int)
            df[f"g{g}_disagree"] = st.disagree[g].astype(int)
            df[f"g{g}_pass"] = (s - st.agree[g] - st.disagree[g]).astype(int)
            df[f"g{g}_agreement"] = np.divide(st.agree[g], s, out=np.zeros(len(s)), where=s > 0)
        df["gac"] = self.gac
        df["bridging"] = self.bridging
        df["consensus"] = df["statement"].isin(self.consensus)
        passing = np.zeros(len(df), dtype=bool)
        passing[self.consensus_columns()] = True
        df["cross_group_consensus"] = passing
        rep_group = pd.array([pd.NA] * len(df), dtype="Int64")
        rep_side = [""] * len(df)
        rep_value = np.full(len(df), np.nan)
        index = {int(s): i for i, s in enumerate(m.statements)}
        for g, reps in sorted(self.repness.items()):
            for r in reps:
                i = index[r.statement]
                if pd.isna(rep_group[i]) or r.metric > rep_value[i]:
                    rep_group[i], rep_side[i], rep_value[i] = g, r.repful_for, r.metric
        df["repness_group"] = rep_group
        df["repness_for"] = rep_side
        df["repness"] = rep_value
        return df

    def write(self, folder: str | Path) -> Path:
        """Write the files a person reads (``groups.csv``, ``statements.csv``, ``summary.json``,
        ``opinion_map.png``: :mod:`pluralign.aggregate.outputs`) and ``result.npz``, what
        :meth:`read` needs to give this result back."""
        from pluralign.aggregate.outputs import write_outputs
        from pluralign.io import atomic_write_bytes

        folder = write_outputs(self, folder, title=self.title)
        m = self.matrix
        arrays = {
            "values_data": m.values.data, "values_indices": m.values.indices,
            "values_indptr": m.values.indptr, "seen_data": m.seen.data,
            "seen_indices": m.seen.indices, "seen_indptr": m.seen.indptr,
            "participants": m.participants, "statements": m.statements,
            "vote_counts": m.vote_counts, "in_conv": self.in_conv, "groups": self.groups,
            "projection": self.projection, "bridging": self.bridging,
            "explained_variance": np.asarray(self.explained_variance, dtype=np.float64),
            **({"clustered": m.clustered} if m.clustered is not None else {}),
        }
        meta = {"shape": list(m.shape), "texts": list(m.texts),
                "source_sha256": m.source_sha256,
                "excluded_statements": list(m.excluded_statements), "seed": self.seed,
                "in_conv_source": self.in_conv_source, "n_groups": self.n_groups,
                "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
                "settings": asdict(self.settings), "title": self.title}
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                            **arrays)
        atomic_write_bytes(folder / RESULT_FILE, buf.getvalue())
        return folder

    @classmethod
    def read(cls, folder: str | Path) -> AggregateResult:
        """The result :meth:`write` wrote into ``folder`` (without the fitted estimators)."""
        path = Path(folder) / RESULT_FILE
        if not path.is_file():
            raise InputError("no aggregation result here", where=str(path),
                             hint="run the aggregate stage (or `pluralign aggregate`) first")
        with np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
        meta = json.loads(a.pop("meta").tobytes().decode())
        shape = tuple(meta["shape"])
        matrix = VoteMatrix(
            values=sp.csr_matrix((a["values_data"], a["values_indices"], a["values_indptr"]),
                                 shape=shape),
            seen=sp.csr_matrix((a["seen_data"], a["seen_indices"], a["seen_indptr"]),
                               shape=shape),
            participants=a["participants"], statements=a["statements"],
            texts=tuple(meta["texts"]), vote_counts=a["vote_counts"],
            source_sha256=meta["source_sha256"],
            excluded_statements=tuple(meta["excluded_statements"]),
            clustered=a.get("clustered"))
        settings = AggregateSettings(**meta["settings"])
        return _result(matrix, settings, meta["seed"], a["in_conv"], meta["in_conv_source"],
                       a["groups"], a["projection"], meta["n_groups"],
                       {int(k): v for k, v in meta["silhouettes"].items()}, a["bridging"],
                       tuple(float(x) for x in a["explained_variance"]), title=meta["title"])

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary with provenance (input hash, code version, seed, settings)."""
        sizes = np.bincount(self.groups[self.groups >= 0], minlength=self.n_groups)
        return {
            "pluralign_version": __version__,
            "input_sha256": self.matrix.source_sha256,
            "seed": self.seed,
            "settings": asdict(self.settings),
            "participants": int(self.matrix.shape[0]),
            "participants_clustered": int(self.in_conv.sum()),
            "participants_clustered_from": self.in_conv_source,
            "statements": int(self.matrix.shape[1]),
            "statements_excluded": list(self.matrix.excluded_statements),
            "votes": self.matrix.n_votes,
            "n_groups": self.n_groups,
            "group_sizes": [int(x) for x in sizes],
            "silhouettes": {str(k): round(v, 6) for k, v in self.silhouettes.items()},
            "explained_variance": [float(x) for x in self.explained_variance],
            "consensus": self.consensus,
            "polis_consensus": self.polis_consensus,
            "repness": {str(g): [asdict(r) for r in reps] for g, reps in self.repness.items()},
        }


def aggregate(
    matrix: VoteMatrix,
    seed: int = 0,
    settings: AggregateSettings | None = None,
    threads: int | None = 1,
) -> AggregateResult:
    """Find opinion groups, representative statements, consensus and bridging scores.

    Deterministic: the same matrix, seed and settings give the same result. ``threads`` caps
    the BLAS/OpenMP threads (default 1: the work is many small dense steps where extra threads
    cost more than they give, badly so on a busy machine); None leaves them as they are.
    """
    if threads is None:
        return _aggregate(matrix, seed, settings)
    with _thread_controller().limit(limits=threads):
        return _aggregate(matrix, seed, settings)


@functools.lru_cache(maxsize=1)
def _thread_controller():
    """One threadpoolctl controller per process (finding the BLAS/OpenMP libraries is slow)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def vote_tallies(
    matrix: VoteMatrix, labels: np.ndarray, n_labels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agrees, disagrees and votes seen per (label, statement), shape (n_labels, m), over the
    participants with a label ≥ 0 (weighted counts straight from the CSR arrays)."""
    m = matrix.shape[1]

    def tally(csr: sp.csr_matrix, weights: np.ndarray) -> np.ndarray:
        rows = np.repeat(labels, np.diff(csr.indptr))
        keep = rows >= 0
        key = rows[keep] * m + csr.indices[keep]
        out = np.bincount(key, weights=weights[keep], minlength=n_labels * m)
        return out.reshape(n_labels, m)

    vals = matrix.values.data
    agree = tally(matrix.values, (vals > 0).astype(np.float64))
    disagree = tally(matrix.values, (vals < 0).astype(np.float64))
    seen = tally(matrix.seen, np.ones(matrix.seen.nnz))
    return agree, disagree, seen


def choose_in_conversation(
    matrix: VoteMatrix, settings: AggregateSettings
) -> tuple[np.ndarray, str]:
    """The participants to cluster and where that set came from (``"export"`` or ``"votes"``),
    following ``settings.in_conv``."""
    record = matrix.clustered
    if settings.in_conv == "export" and record is None:
        raise InputError(
            "the input has no record of whom its clustering included",
            where="vote matrix",
            hint="in_conv='export' needs a Polis export whose participants-votes.csv fills "
            "group-id; use in_conv='votes' or 'auto'",
        )
    if settings.in_conv != "votes" and record is not None and record.any():
        return np.asarray(record, dtype=bool).copy(), "export"
    n_total_statements = matrix.shape[1] + len(matrix.excluded_statements)
    mask = in_conversation(
        matrix.vote_counts,
        n_total_statements,
        min_votes=settings.min_votes,
        greedy_n=settings.greedy_n,
    )
    return mask, "votes"


def _aggregate(
    matrix: VoteMatrix, seed: int, settings: AggregateSettings | None
) -> AggregateResult:
    settings = settings or AggregateSettings()
    n, m = matrix.shape
    if n == 0 or m == 0:
        raise InputError(
            "no votes to aggregate",
            where="vote matrix",
            hint="the conversation needs participants who voted on statements",
        )
    in_conv, in_conv_source = choose_in_conversation(matrix, settings)
    pca = PolisPCA(settings.n_components, n_excluded=len(matrix.excluded_statements))
    pca.fit(matrix.values, matrix.seen)
    groups = np.full(n, NO_GROUP, dtype=np.int64)
    clusterer = None
    silhouettes: dict[int, float] = {}
    if in_conv.sum() >= 2 * settings.min_groups:
        clusterer = PolisClusterer(
            settings.base_k,
            settings.min_groups,
            settings.max_groups,
            seed=seed,
            n_init=settings.n_init,
            silhouette_fits=settings.silhouette_fits,
            k_margin=settings.k_margin,
            direct_max=settings.direct_max,
        )
        clusterer.fit(pca.projection_[in_conv])
        groups[in_conv] = clusterer.labels_
        n_groups, silhouettes = clusterer.n_groups_, clusterer.silhouettes_
    else:  # too few participants to split: everyone clustered is one group
        groups[in_conv] = 0
        n_groups = 1
    bridging = BridgingModel(
        settings.bridging_factors,
        settings.lambda_intercept,
        settings.lambda_factor,
        n_iter=settings.bridging_iter,
        seed=seed,
    )
    bridging.fit(matrix.values, matrix.seen)
    return _result(matrix, settings, seed, in_conv, in_conv_source, groups, pca.projection_,
                   n_groups, silhouettes, bridging.statement_intercept_,
                   tuple(float(x) for x in pca.explained_variance_),
                   pca=pca, clusterer=clusterer, bridging_model=bridging)


def _result(matrix: VoteMatrix, settings: AggregateSettings, seed: int, in_conv: np.ndarray,
            in_conv_source: str, groups: np.ndarray, projection: np.ndarray, n_groups: int,
            silhouettes: dict[int, float], bridging: np.ndarray,
            explained_variance: tuple[float, ...], **estimators: Any) -> AggregateResult:
    """The result from the fitted parts (groups, projection, bridging scores): the counts,
    repness and consensus follow from them and the votes without randomness, so a result read
    back from its folder computes them again rather than storing them."""
    agree, disagree, seen = vote_tallies(matrix, groups, n_groups)
    st = group_stats(agree, disagree, seen)
    repness = representative_statements(st, matrix.statements, settings.max_repness)
    gac = group_aware_consensus(agree, seen)
    halves = halve_groups(projection, groups, n_groups, seed)
    half_agree, half_disagree, half_seen = vote_tallies(matrix, halves, 2 * n_groups)
    order = consensus_candidates(agree, seen, gac, settings.consensus,
                                 (half_agree, half_disagree, half_seen), disagree)
    order = order[: settings.top_consensus]
    consensus = [int(matrix.statements[j]) for j in order]
    n = matrix.shape[0]
    all_a, all_d, all_s = vote_tallies(matrix, np.zeros(n, dtype=np.int64), 1)
    pconsensus = polis_consensus(
        all_a[0], all_d[0], all_s[0], matrix.statements, settings.top_consensus
    )
    return AggregateResult(
        matrix=matrix,
        settings=settings,
        seed=seed,
        in_conv=in_conv,
        in_conv_source=in_conv_source,
        groups=groups,
        projection=projection,
        n_groups=n_groups,
        silhouettes=silhouettes,
        stats=st,
        repness=repness,
        gac=gac,
        consensus=consensus,
        polis_consensus=pconsensus,
        bridging=bridging,
        explained_variance=explained_variance,
        halves=halves,
        half_agree=half_agree,
        half_seen=half_seen,
        half_disagree=half_disagree,
        **estimators,
    )
