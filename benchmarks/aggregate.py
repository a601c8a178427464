"""Benchmark: pluralign's opinion groups against red-dwarf 0.4.0 on eleven Polis conversations.

    pip install red-dwarf==0.4.0        # benchmark only; never a pluralign dependency
    PYTHONPATH=src python benchmarks/aggregate.py              # the table of all eleven
    PYTHONPATH=src python benchmarks/aggregate.py --choose     # leave-one-conversation-out
    PYTHONPATH=src python benchmarks/aggregate.py --generated 2000000   # + generated matrices
    PYTHONPATH=src python benchmarks/aggregate.py --big 10000000   # pluralign alone: time, RSS

For every conversation in ../shared/data/polis (CC BY 4.0 The Computational Democracy Project,
see its README) both tools get the same votes (the latest vote per participant and statement)
and cluster the same participants: those Polis's export records as clustered (a non-empty
``group-id`` in participants-votes.csv; pluralign's default ``in_conv="auto"``, red-dwarf's
``keep_participant_ids`` with its vote threshold set out of reach). Only that membership is
given, never Polis's labels. The table gives each tool's adjusted Rand index against Polis's
``group-id`` over seeds 0–4 (``seed`` / ``random_state``): median and worst seed, the group
counts, and both tools' in-process wall time at seed 0 (best of ``--repeat``; pluralign's time
includes building the vote matrix from the vote table) with the ratio, and the ratio of their
CPU times (the same on an idle machine; on a busy one it leaves out the waits for a core); the
two tools' timed runs alternate, so both meet the same machine load. Both run single-threaded
(OMP/BLAS threads = 1). Without red-dwarf installed its columns are left out.

``--choose`` reproduces how ``AggregateSettings.k_margin`` was chosen: for each conversation
held out, the margin that meets the issue's target (median ≥ red-dwarf's, worst seed within
0.05 of the median) on most of the other ten, ties broken by their mean median ARI, then the
centre of the margins still tied (farthest from where the targets start to fail); it prints
the margin chosen and the held-out conversation's result.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pluralign.aggregate import AggregateSettings, aggregate, from_votes  # noqa: E402
from pluralign.aggregate.clusters import choose_group_count  # noqa: E402

POLIS = Path(os.environ.get("PLURALIGN_POLIS_DATA", ROOT.parent / "shared" / "data" / "polis"))
if not POLIS.is_dir():
    POLIS = Path("/work/shared/data/polis")
SEEDS = range(5)
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)


def conversations() -> list[str]:
    return sorted(p.name for p in POLIS.iterdir() if (p / "participants-votes.csv").is_file())


def ari(a: pd.Series, b: pd.Series) -> float:
    from sklearn.metrics import adjusted_rand_score

    a, b = a.dropna(), b.dropna()
    common = a.index.intersection(b.index)
    return float(adjusted_rand_score(a[common].astype(int), b[common].astype(int)))


def polis_votes(name: str):
    """(votes, moderated-out statements, Polis's group-id, whom Polis clustered)."""
    folder = POLIS / name
    v = pd.read_csv(folder / "votes.csv").sort_values("timestamp", kind="stable")
    c = pd.read_csv(folder / "comments.csv")
    votes = pd.DataFrame(
        {"participant": v["voter-id"], "statement": v["comment-id"], "value": v["vote"]}
    ).drop_duplicates(["participant", "statement"], keep="last")
    exclude = c.loc[c["moderated"] < 0, "comment-id"].astype(int).tolist()
    pv = pd.read_csv(folder / "participants-votes.csv").set_index("participant")["group-id"]
    record = {int(p) for p in pv.dropna().index}  # whom Polis clustered (membership only)
    return votes, exclude, pv, record


def generate(n_votes: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Votes of participants in 3 latent groups on statements, ~60 votes each."""
    rng = np.random.default_rng(seed)
    per = 60
    n_part = max(n_votes // per, 30)
    n_stmt = max(100, min(2000, n_part // 10))
    groups = rng.integers(0, 3, n_part)
    stance = rng.normal(0, 1.5, (3, n_stmt))  # each group's leaning on each statement
    stance[:, : n_stmt // 10] = 2.5  # a tenth are consensus statements
    part = np.repeat(np.arange(n_part), per)[:n_votes]
    stmt = rng.integers(0, n_stmt, len(part))
    logit = stance[groups[part], stmt] + rng.normal(0, 1, len(part))
    p_agree = 1 / (1 + np.exp(-logit))
    u = rng.random(len(part))
    value = np.where(u < 0.1, 0, np.where(u < 0.1 + 0.9 * p_agree, 1, -1))
    df = pd.DataFrame({"participant": part, "statement": stmt, "value": value})
    df = df.drop_duplicates(["participant", "statement"])
    return df, pd.Series(groups, index=np.arange(n_part))


class Timing(NamedTuple):
    """Wall-clock and CPU seconds of one run (single-threaded, so equal on an idle machine;
    on a busy one the CPU time leaves out the waits for a core)."""

    wall: float
    cpu: float


def run_pluralign(votes, exclude=(), record=None, seed=0, settings=None):
    """(seconds, groups by participant, group count, result); ``record`` = whom to cluster."""
    t, c = time.perf_counter(), time.process_time()
    m = from_votes(votes, exclude=set(exclude), clustered=record)
    r = aggregate(m, seed=seed, settings=settings or AggregateSettings())
    dt = Timing(time.perf_counter() - t, time.process_time() - c)
    g = pd.Series(r.groups, index=m.participants).where(lambda s: s >= 0)
    return dt, g, r.n_groups, r


def reddwarf_available() -> bool:
    try:
        import reddwarf  # noqa: F401
    except ImportError:
        return False
    return True


def run_reddwarf(votes, exclude=(), record=None, seed=0):
    """red-dwarf's Polis pipeline on the same votes; with ``record``, exactly those
    participants are clustered (its vote threshold set out of reach)."""
    from reddwarf.implementations.polis import run_pipeline

    records = [
        {"participant_id": int(p), "statement_id": int(s), "vote": int(v), "modified": i}
        for i, (p, s, v) in enumerate(votes[["participant", "statement", "value"]].to_numpy())
    ]
    t, c = time.perf_counter(), time.process_time()
    r = run_pipeline(
        votes=records,
        mod_out_statement_ids=list(exclude),
        min_user_vote_threshold=10**9 if record else 7,
        keep_participant_ids=sorted(record or ()),
        random_state=seed,
    )
    dt = Timing(time.perf_counter() - t, time.process_time() - c)
    g = r.participants_df["cluster_id"].astype("float")
    return dt, g, int(g.nunique()), r


def best_time(fn, repeat, *args) -> float:
    return min(fn(*args)[0].wall for _ in range(repeat))


def table(repeat: int, with_rd: bool) -> None:
    head = "| conversation | votes | clustered | pluralign median | worst | k |"
    if with_rd:
        head += " red-dwarf median | worst | k | pluralign s | red-dwarf s | ratio | CPU ratio |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name in conversations():
        votes, exclude, polis, record = polis_votes(name)
        row = [name, f"{len(votes):,}", f"{len(record):,}"]
        tools = [run_pluralign] + ([run_reddwarf] if with_rd else [])
        for fn in tools:
            runs = [fn(votes, exclude, record, s) for s in SEEDS]
            aris = [ari(polis, g) for _, g, _, _ in runs]
            ks = sorted({k for _, _, k, _ in runs})
            row += [f"{np.median(aris):.3f}", f"{min(aris):.3f}", "/".join(map(str, ks))]
        # timing: the tools alternate, so both see the same load; best of ``repeat`` each
        runs = [[fn(votes, exclude, record, 0)[0] for fn in tools] for _ in range(repeat)]
        wall = np.min([[t.wall for t in r] for r in runs], axis=0)
        cpu = np.min([[t.cpu for t in r] for r in runs], axis=0)
        if with_rd:
            row += [
                f"{wall[0]:.3f}",
                f"{wall[1]:.3f}",
                f"{wall[1] / wall[0]:.1f}×",
                f"{cpu[1] / cpu[0]:.1f}×",
            ]
        print("| " + " | ".join(row) + " |", flush=True)


def generated_rows(max_votes: int, repeat: int, with_rd: bool) -> None:
    print("| generated (3 groups) | votes | pluralign s | red-dwarf s | ratio | ARI pl | ARI rd |")
    print("|---|---|---|---|---|---|---|")
    for size in (n for n in (20_000, 200_000, 1_000_000, 2_000_000) if n <= max_votes):
        votes, truth = generate(size)
        rep = repeat if size <= 200_000 else 1
        tp = best_time(run_pluralign, rep, votes)
        gp = run_pluralign(votes)[1]
        cells = [f"{tp:.3f}", "", "", f"{ari(truth, gp):.3f}", ""]
        if with_rd:
            tr = best_time(run_reddwarf, rep, votes)
            gr = run_reddwarf(votes)[1]
            cells = [f"{tp:.3f}", f"{tr:.3f}", f"{tr / tp:.1f}×", cells[3], f"{ari(truth, gr):.3f}"]
        print(f"| generated | {len(votes):,} | " + " | ".join(cells) + " |", flush=True)


def choose(with_rd: bool) -> None:
    """Leave-one-conversation-out choice of ``k_margin`` (see the module docstring)."""
    if not with_rd:
        sys.exit("--choose needs red-dwarf (its ARI is the target): pip install red-dwarf==0.4.0")
    names = conversations()
    ours: dict[tuple[str, float], tuple[float, float]] = {}
    theirs: dict[str, float] = {}
    for name in names:
        votes, exclude, polis, record = polis_votes(name)
        theirs[name] = float(
            np.median([ari(polis, run_reddwarf(votes, exclude, record, s)[1]) for s in SEEDS])
        )
        per_margin: dict[float, list[float]] = {m: [] for m in MARGINS}
        for s in SEEDS:
            _, _, _, r = run_pluralign(votes, exclude, record, s)
            cl = r.clusterer
            ids = r.matrix.participants[r.in_conv]
            for m in MARGINS:
                k = choose_group_count(cl.silhouettes_, r.settings.min_groups, m)
                per_margin[m].append(ari(polis, pd.Series(cl.groupings_[k], index=ids)))
        for m, aris in per_margin.items():
            ours[(name, m)] = (float(np.median(aris)), min(aris))
        print(
            f"{name:48} red-dwarf {theirs[name]:.3f} | "
            + " ".join(
                f"{m:.2f}: {ours[(name, m)][0]:.3f}/{ours[(name, m)][1]:.3f}" for m in MARGINS
            ),
            flush=True,
        )

    def meets(name: str, m: float) -> bool:
        med, worst = ours[(name, m)]
        return med >= theirs[name] - 1e-9 and med - worst <= 0.05

    print(
        "\n| held out | margin chosen on the other ten | targets met there | held-out median | "
        "worst | red-dwarf | target met |"
    )
    print("|---|---|---|---|---|---|---|")
    for held in names:
        rest = [n for n in names if n != held]
        score = {
            m: (sum(meets(n, m) for n in rest), round(np.mean([ours[(n, m)][0] for n in rest]), 6))
            for m in MARGINS
        }
        best = max(score.values())
        tied = [x for x in MARGINS if score[x] == best]
        m = tied[(len(tied) - 1) // 2]  # the centre of the best margins, away from both edges
        med, worst = ours[(held, m)]
        print(
            f"| {held} | {m:.2f} | {score[m][0]}/10 | {med:.3f} | {worst:.3f} | "
            f"{theirs[held]:.3f} | {'yes' if meets(held, m) else 'no'} |"
        )


def big(n_votes: int) -> None:
    votes, truth = generate(n_votes)
    dt, g, k, _ = run_pluralign(votes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"pluralign on {len(votes):,} votes ({g.size:,} participants): {dt.wall:.1f} s "
        f"({dt.cpu:.1f} s CPU), peak RSS {rss:.2f} GB, {k} groups, "
        f"ARI vs generating groups {ari(truth, g):.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timing: best of N runs")
    ap.add_argument("--choose", action="store_true", help="leave-one-out choice of k_margin")
    ap.add_argument("--generated", type=int, default=0, help="also generated matrices ≤ N votes")
    ap.add_argument("--big", type=int, default=0, help="only time pluralign on N votes")
    args = ap.parse_args()
    if args.big:
        big(args.big)
        return
    with_rd = reddwarf_available()
    if not with_rd:
        print("red-dwarf is not installed (pip install red-dwarf==0.4.0): pluralign only\n")
    if args.choose:
        choose(with_rd)
        return
    table(args.repeat, with_rd)
    if args.generated:
        print()
        generated_rows(args.generated, args.repeat, with_rd)


if __name__ == "__main__":
    main()
