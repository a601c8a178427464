"""Benchmark: summarising 100,000 upgrade votes (target: under 2 s).

Peer measured in the same run: the plain per-edge Python transcription of the published algorithm
(:mod:`pluralign.moralgraph.reference`), and the results are checked to agree.

    PYTHONPATH=src /work/venv/bin/python benchmarks/moral_graph.py [--edges 100000] [--values 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from pluralign.moralgraph import reference
from pluralign.moralgraph.summary import summarize
from pluralign.moralgraph.types import Edge


def make_edges(n: int, n_values: int, n_contexts: int, seed: int) -> pd.DataFrame:
    """Random votes where a hidden score makes higher-numbered values wiser (with noise)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(n_values, size=n)
    b = (a + rng.integers(1, 12, size=n)) % n_values  # a sparse, local pair structure
    truth_up = b > a
    noise = rng.random(n) < 0.25
    rel = np.where(truth_up, "upgrade", "no_upgrade").astype(object)
    rel[noise] = rng.choice(["upgrade", "no_upgrade", "not_sure"], size=int(noise.sum()))
    return pd.DataFrame(
        {
            "participant": [f"p{i}" for i in rng.integers(n // 6 + 1, size=n)],
            "from_id": a.astype(object),
            "to_id": b.astype(object),
            "context": [f"context {c}" for c in rng.integers(n_contexts, size=n)],
            "relationship": rel,
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--edges", type=int, default=100_000)
    ap.add_argument("--values", type=int, default=400)
    ap.add_argument("--contexts", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    frame = make_edges(args.edges, args.values, args.contexts, seed=0)
    edges = [Edge(*row) for row in frame.itertuples(index=False)]

    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        graph = summarize(frame)
        times.append(time.perf_counter() - t0)
    fast = min(times)

    t0 = time.perf_counter()
    ref = reference.summarize_graph(edges)
    slow = time.perf_counter() - t0

    # the two agree
    assert len(graph.pairs) == len(ref["pairs"])
    ours = [graph.page_rank[k] for k in ref["pageRank"]]
    assert np.allclose(ours, list(ref["pageRank"].values()))
    assert graph.winners == {c: v["winner"] for c, v in ref["contexts"].items()}

    print(
        f"{args.edges:,} votes, {args.values} values, {args.contexts} contexts: "
        f"{len(graph.pairs):,} pairs, {len(graph.edges):,} pooled edges, "
        f"{int(graph.context_pairs['included'].sum()):,} per-context edges"
    )
    print(
        f"pluralign summarize (numpy/scipy.sparse): {fast:.3f} s (best of {args.repeats})"
        f"  {'OK' if fast < 2 else 'OVER'} the 2 s target"
    )
    print(f"per-edge Python reference:                {slow:.3f} s")
    print(f"speed-up: {slow / fast:.1f}×")


if __name__ == "__main__":
    main()
