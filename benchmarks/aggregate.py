"""Benchmark: pluralign's aggregation against red-dwarf 0.4.0, measured in the same run.

    pip install red-dwarf==0.4.0        # benchmark only; never a pluralign dependency
    PYTHONPATH=src python benchmarks/aggregate.py [--max-votes 2000000] [--repeat 3]
    PYTHONPATH=src python benchmarks/aggregate.py --big 10000000   # pluralign alone: time, peak RSS
    PYTHONPATH=src python benchmarks/aggregate.py --seeds 10   # ARI of both tools, seeds 0..9

For each real conversation (../shared/data/polis, CC BY 4.0 The Computational Democracy Project)
it prints both tools' wall time, the time ratio, and each tool's adjusted Rand index against the
group-id Polis itself assigned, twice: clustering the participants Polis's export records as
clustered (non-empty group-id: pluralign's default ``in_conv="auto"``; red-dwarf gets them as
``keep_participant_ids``), and clustering those with at least 7 votes (``in_conv="votes"``;
red-dwarf's default). Only that membership is given to either tool, never Polis's labels. For
generated matrices (three latent opinion groups) the ARI is against the generating groups. Both
tools run single-threaded (OMP/BLAS threads = 1) so the comparison does not depend on how busy
the machine is.
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pluralign.aggregate import AggregateSettings, aggregate, from_votes  # noqa: E402

POLIS = Path(os.environ.get("PLURALIGN_POLIS_DATA", ROOT.parent / "shared" / "data" / "polis"))
if not POLIS.is_dir():
    POLIS = Path("/work/shared/data/polis")
CONVERSATIONS = ("brexit-consensus", "15-per-hour-seattle", "football-concussions")


def ari(a: pd.Series, b: pd.Series) -> float:
    from sklearn.metrics import adjusted_rand_score

    a, b = a.dropna(), b.dropna()
    common = a.index.intersection(b.index)
    return float(adjusted_rand_score(a[common].astype(int), b[common].astype(int)))


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


def run_pluralign(votes: pd.DataFrame, exclude=(), record=None, seed: int = 0):
    """``record``: participants Polis clustered (used as in-conv), or None for the 7-vote rule."""
    t = time.perf_counter()
    m = from_votes(votes, exclude=set(exclude), clustered=record)
    r = aggregate(m, seed=seed, settings=AggregateSettings())
    dt = time.perf_counter() - t
    g = pd.Series(r.groups, index=m.participants).where(lambda s: s >= 0)
    return dt, g, r.n_groups


def run_reddwarf(votes: pd.DataFrame, exclude=(), record=None, seed: int = 0):
    from reddwarf.implementations.polis import run_pipeline

    records = [
        {"participant_id": int(p), "statement_id": int(s), "vote": int(v), "modified": i}
        for i, (p, s, v) in enumerate(votes[["participant", "statement", "value"]].to_numpy())
    ]
    t = time.perf_counter()
    r = run_pipeline(
        votes=records,
        mod_out_statement_ids=list(exclude),
        min_user_vote_threshold=7,
        keep_participant_ids=sorted(record or ()),
        random_state=seed,
    )
    dt = time.perf_counter() - t
    g = r.participants_df["cluster_id"].astype("float")
    return dt, g, int(g.nunique())


def best_of(fn, repeat, *args, **kw):
    runs = [fn(*args, **kw) for _ in range(repeat)]
    return min(runs, key=lambda x: x[0])


def polis_votes(name: str):
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


MODES = (("Polis's in-conv", True), ("7-vote rule", False))


def seed_table(n_seeds: int) -> None:
    """ARI against Polis's group-id for seeds 0..n_seeds-1, both tools, both in-conv sets."""
    for name in CONVERSATIONS:
        votes, exclude, polis, record = polis_votes(name)
        for label, use in MODES:
            rec = record if use else None
            for tool, fn in (("pluralign", run_pluralign), ("red-dwarf", run_reddwarf)):
                aris, ks = [], []
                for seed in range(n_seeds):
                    _, g, k = fn(votes, exclude, rec, seed)
                    aris.append(ari(polis, g))
                    ks.append(k)
                print(
                    f"{name:22} {label:16} {tool:9} median {np.median(aris):.3f} "
                    f"min {min(aris):.3f}  ARI {' '.join(f'{a:.2f}' for a in aris)}  "
                    f"k {' '.join(map(str, ks))}",
                    flush=True,
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-votes", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", type=int, default=0, help="only time pluralign on N votes")
    ap.add_argument("--seeds", type=int, default=0, help="only the ARI table over N seeds")
    args = ap.parse_args()
    if args.seeds:
        seed_table(args.seeds)
        return
    if args.big:
        votes, truth = generate(args.big)
        t = time.perf_counter()
        dt, g, k = run_pluralign(votes)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(
            f"pluralign on {len(votes):,} votes ({g.size:,} participants): "
            f"{time.perf_counter() - t:.1f} s, peak RSS {rss:.2f} GB, {k} groups, "
            f"ARI vs generating groups {ari(truth, g):.3f}"
        )
        return
    print(
        f"{'input':40} {'votes':>9} {'pluralign s':>11} {'red-dwarf s':>11} {'ratio':>6} "
        f"{'ARI pl':>6} {'ARI rd':>6} {'k pl/rd':>7}"
    )
    rows = []
    for name in CONVERSATIONS:
        votes, exclude, polis, record = polis_votes(name)
        for label, use in MODES:
            rec = record if use else None
            tp, gp, kp = best_of(run_pluralign, args.repeat, votes, exclude, rec)
            tr, gr, kr = best_of(run_reddwarf, args.repeat, votes, exclude, rec)
            rows.append(
                (
                    f"{name} ({label})",
                    len(votes),
                    tp,
                    tr,
                    ari(polis, gp),
                    ari(polis, gr),
                    kp,
                    kr,
                )
            )
            print_row(rows[-1])
    sizes = [n for n in (20_000, 200_000, 1_000_000, 2_000_000) if n <= args.max_votes]
    for size in sizes:
        votes, truth = generate(size)
        repeat = args.repeat if size <= 200_000 else 1
        tp, gp, kp = best_of(run_pluralign, repeat, votes)
        tr, gr, kr = best_of(run_reddwarf, repeat, votes)
        rows.append(
            ("generated, 3 groups", len(votes), tp, tr, ari(truth, gp), ari(truth, gr), kp, kr)
        )
        print_row(rows[-1])


def print_row(r) -> None:
    name, n, tp, tr, ap_, ar, kp, kr = r
    print(
        f"{name:40} {n:>9,} {tp:>11.3f} {tr:>11.3f} {tr / tp:>5.1f}x {ap_:>6.3f} {ar:>6.3f} "
        f"{kp:>3}/{kr:<3}",
        flush=True,
    )


if __name__ == "__main__":
    main()
