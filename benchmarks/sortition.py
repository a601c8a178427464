"""Benchmark: pluralign's sortition (legacy, maximin, leximin on HiGHS) on synthetic instances.

Instances are shaped like the synthetic ones of Flanigan et al. (Nature 2021): a pool that
over-represents some groups (self-selection), several features, quotas around population shares.
Sizes: a 200-person pool with k=20 and a 2,000-person pool with k=200.

If the GPL package ``sortition-algorithms`` is installed, its legacy and maximin run on the same
instances in the same process and ratios are printed (it is a benchmark-only peer: never imported
by pluralign, none of its code is used). Run by hand::

    PYTHONPATH=src python benchmarks/sortition.py [--sizes small,large] [--methods ...]
        [--uniform 100,1000] [--households 0.5]

``--uniform`` also rounds each of our lotteries to M equally likely panels (the transparent
lottery) and prints the largest change of anyone's probability; ``--households`` pairs up a share
of the pool into two-person households and selects with at most one per household.

Reports wall time and process CPU time (the machine may be shared: CPU time is the fairer number).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import random
import time

import numpy as np
import pandas as pd

from pluralign.panel import quotas_from_population, select_panel

POPULATION = {
    "gender": {"female": 0.51, "male": 0.48, "other": 0.01},
    "age_band": {"16-29": 0.2, "30-44": 0.25, "45-59": 0.25, "60-74": 0.2, "75+": 0.1},
    "region": {"north": 0.2, "east": 0.15, "south": 0.3, "west": 0.2, "capital": 0.15},
    "education": {"none": 0.2, "secondary": 0.4, "degree": 0.3, "postgrad": 0.1},
    "concern": {"low": 0.3, "medium": 0.4, "high": 0.3},
}
# Relative propensity to volunteer (who answers sortition invitations more often).
PROPENSITY = {
    "education": {"none": 0.4, "secondary": 0.8, "degree": 1.5, "postgrad": 2.5},
    "age_band": {"16-29": 0.6, "30-44": 0.9, "45-59": 1.1, "60-74": 1.5, "75+": 0.8},
    "concern": {"low": 0.5, "medium": 1.0, "high": 2.0},
}
SIZES = {"small": (200, 20), "large": (2000, 200)}


def make_instance(n: int, k: int, seed: int = 0, slack: float = 0.15):
    """A pool of ``n`` volunteers (biased sample of the population) and quotas for ``k``."""
    rng = np.random.default_rng(seed)
    m = 20 * n
    people = {f: rng.choice(list(s), size=m, p=list(s.values())) for f, s in POPULATION.items()}
    weight = np.ones(m)
    for f, prop in PROPENSITY.items():
        weight *= np.vectorize(prop.get)(people[f])
    chosen = rng.choice(m, size=n, replace=False, p=weight / weight.sum())
    pool = pd.DataFrame(
        {"id": [f"p{i:05d}" for i in range(n)], **{f: people[f][chosen] for f in POPULATION}}
    )
    return pool, quotas_from_population(POPULATION, k, slack)


def ours(pool, quotas, k, method, seed, samples, households=None):
    wall, cpu = time.perf_counter(), time.process_time()
    r = select_panel(pool, quotas, k, method, seed, samples=samples, households=households)
    stats = dict(r.stats, result=r)
    return r.probabilities, time.perf_counter() - wall, time.process_time() - cpu, stats


def with_households(pool, share: float, seed: int = 0):
    """Pair up a ``share`` of the pool into two-person households (column ``home``)."""
    rng = np.random.default_rng([seed, 7])
    n = len(pool)
    paired = rng.permutation(n)[: int(share * n) // 2 * 2]
    home = [f"h{i}" for i in range(n)]
    for a, b in zip(paired[::2], paired[1::2], strict=True):
        home[b] = home[a]
    return pool.assign(home=home)


def lottery_line(size, result, m) -> str:
    from pluralign.errors import InputError
    from pluralign.panel import uniform_lottery

    wall, cpu = time.perf_counter(), time.process_time()
    try:
        lottery = uniform_lottery(result, m)
    except InputError as exc:  # too few tickets for this lottery's smallest probability
        return f"{size:6} uniform  M={m:<6} refused: {exc.message}"
    s = lottery.stats
    return (
        f"{size:6} uniform  M={m:<6} largest change {s['largest_change']:.5f} "
        f"(bound {s['bound']:.4f}), min prob {s['min_probability']:.4f} "
        f"(exact {s['exact_min_probability']:.4f}), {time.perf_counter() - wall:.2f} s wall, "
        f"{time.process_time() - cpu:.2f} s cpu"
    )


def peer(pool, quotas, k, method, seed, samples):
    """sortition-algorithms (GPL, benchmark only) on the same instance."""
    from sortition_algorithms import Settings, read_in_features, read_in_people

    head = ["feature", "value", "min", "max"]
    body = [
        {"feature": q.feature, "value": q.value, "min": str(q.min), "max": str(q.max)}
        for q in quotas.items
    ]
    features, _, _ = read_in_features(head, body, k)
    settings = Settings(id_column="id", columns_to_keep=[])
    rows = pool.to_dict("records")
    people, _ = read_in_people(list(pool.columns), rows, features, settings)
    random.seed(seed)
    logging.getLogger("sortition_algorithms").setLevel(logging.WARNING)
    sink = io.StringIO()  # the peer prints progress lines on both streams
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        return _peer_run(pool, features, people, k, method, samples)


def _peer_run(pool, features, people, k, method, samples):
    from sortition_algorithms.committee_generation.legacy import find_random_sample_legacy
    from sortition_algorithms.committee_generation.maximin import find_distribution_maximin

    wall, cpu = time.perf_counter(), time.process_time()
    ids = list(pool["id"])
    prob = dict.fromkeys(ids, 0.0)
    if method == "legacy":
        for _ in range(samples):
            committees, _ = find_random_sample_legacy(people, features, k, [], max_attempts=100)
            for pid in committees[0]:
                prob[pid] += 1.0 / samples
    else:
        committees, probs, _ = find_distribution_maximin(features, people, k, [])
        for committee, p in zip(committees, probs, strict=True):
            for pid in committee:
                prob[pid] += p
    return (
        np.array([prob[i] for i in ids]),
        time.perf_counter() - wall,
        time.process_time() - cpu,
        {},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="small,large")
    ap.add_argument("--methods", default="legacy,maximin,leximin")
    ap.add_argument("--peer-methods", default="legacy,maximin")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--samples",
        type=int,
        default=0,
        help="legacy runs to estimate probabilities (default 1000 small, 200 large)",
    )
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument(
        "--uniform",
        default="",
        help="comma-separated M: round each method's lottery to M equally likely panels and "
        "print the largest probability change and the time (e.g. 100,1000,10000)",
    )
    ap.add_argument(
        "--households",
        type=float,
        default=0.0,
        help="share of the pool living in two-person households (0 = everyone alone)",
    )
    args = ap.parse_args()
    try:
        import sortition_algorithms  # noqa: F401

        have_peer = not args.no_peer
    except ImportError:
        have_peer = False
        print("sortition-algorithms not installed: our methods only")
    print(
        f"{'size':6} {'who':8} {'method':8} {'wall_s':>8} {'cpu_s':>8} {'min_p':>8} "
        f"{'gini':>6} {'sum_p':>7}  notes"
    )
    for size in args.sizes.split(","):
        n, k = SIZES[size]
        pool, quotas = make_instance(n, k, seed=args.seed)
        homes = None
        if args.households:
            pool, homes = with_households(pool, args.households, args.seed), "home"
        samples = args.samples or (1000 if n <= 500 else 200)
        results = {}
        runs = [("ours", m) for m in args.methods.split(",")]
        if have_peer:
            runs += [("peer", m) for m in args.peer_methods.split(",")]
        for who, method in runs:
            if who == "ours":
                p, wall, cpu, stats = ours(pool, quotas, k, method, args.seed, samples, homes)
            else:
                p, wall, cpu, stats = peer(pool, quotas, k, method, args.seed, samples)
            results[who, method] = (p, wall, cpu)
            from pluralign.panel import gini

            note = ""
            if stats.get("levels"):
                note = (
                    f"types={stats['types']} levels={stats['levels']} "
                    f"iters={stats['iterations']} gap={stats['gap']:.1e}"
                )
            if stats.get("path"):
                note += f" path={stats['path']} gap={stats['gap']:.1e}" * (method == "nash")
                note += f" path={stats['path']}" * (method == "leximin")
            if method == "legacy":
                note += f" ({samples} runs)"
            print(
                f"{size:6} {who:8} {method:8} {wall:8.2f} {cpu:8.2f} {p.min():8.4f} "
                f"{gini(p):6.3f} {p.sum():7.2f}  {note}",
                flush=True,
            )
            if who == "ours":
                for m in filter(None, args.uniform.split(",")):
                    print(lottery_line(size, stats["result"], int(m)), flush=True)
        for method in ("legacy", "maximin"):
            if ("ours", method) in results and ("peer", method) in results:
                o, pe = results["ours", method], results["peer", method]
                print(
                    f"{size:6} ratio    {method:8} wall peer/ours = {pe[1] / o[1]:.2f}x, "
                    f"cpu peer/ours = {pe[2] / max(o[2], 1e-9):.2f}x, min_p ours-peer = "
                    f"{o[0].min() - pe[0].min():+.4f}"
                )


if __name__ == "__main__":
    main()
