"""Benchmark: how faithfully the consensus rule selects statements, against simulator truth.

    PYTHONPATH=src python benchmarks/fidelity.py                      # 60, 240, 1000; seeds 0-4
    PYTHONPATH=src python benchmarks/fidelity.py --sizes 240 --seeds 3 --statements 120

For every panel size and seed the simulator (:mod:`pluralign.simulate`, 120 statements, four
latent opinion groups) writes a conversation with its ``truth.json``; the conversation is
aggregated (aggregation seed 0) and the statements that are cross-group consensus under the one
rule (:func:`pluralign.aggregate.consensus.consensus_candidates`, the thresholds of
``ConsensusRule()`` unless given) are compared with ``truth["consensus"]``: precision, recall,
and the number of opinion groups found (of four latent). The table prints each seed and the mean
per size. Issue 21's targets: precision ≥ 0.9 and recall ≥ 0.8 at 240 and 1,000 participants,
recall ≥ 0.5 at 60 without losing precision.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def one(participants: int, statements: int, seed: int, rule) -> dict:
    """Precision, recall and groups found for one simulated conversation."""
    from pluralign.aggregate import aggregate, read_polis
    from pluralign.aggregate.consensus import consensus_candidates
    from pluralign.aggregate.truth import precision_recall
    from pluralign.simulate import SimulationConfig, simulate_assembly
    from pluralign.simulate.output import write_simulation

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = SimulationConfig(participants=participants, statements=statements, seed=seed)
        write_simulation(simulate_assembly(config), folder)
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        started = time.perf_counter()
        result = aggregate(read_polis(folder), seed=0)
        st = result.stats
        idx = consensus_candidates(st.agree, st.seen, result.gac, rule)
        seconds = time.perf_counter() - started
    found = [int(result.matrix.statements[j]) for j in idx]
    precision, recall = precision_recall(found, truth["consensus"])
    sizes = sorted(int((result.groups == g).sum()) for g in range(result.n_groups))
    return {
        "participants": participants,
        "seed": seed,
        "precision": precision,
        "recall": recall,
        "true": len(truth["consensus"]),
        "found": len(found),
        "groups": result.n_groups,
        "latent": len(truth["groups"]),
        "group_sizes": sizes,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    from pluralign.aggregate.consensus import ConsensusRule

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="60,240,1000", help="Panel sizes, comma-separated.")
    ap.add_argument("--seeds", default="0,1,2,3,4", help="Simulator seeds, comma-separated.")
    ap.add_argument("--statements", type=int, default=120)
    ap.add_argument("--min-group-agreement", type=float, default=ConsensusRule.min_group_agreement)
    ap.add_argument("--min-group-votes", type=int, default=ConsensusRule.min_group_votes)
    ap.add_argument("--json", type=Path, help="Also write every row as JSON here.")
    args = ap.parse_args(argv)
    rule = ConsensusRule(args.min_group_agreement, args.min_group_votes)
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    rows = []
    print("| participants | seed | precision | recall | found / true | groups (sizes) |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        mine = []
        for seed in seeds:
            r = one(n, args.statements, seed, rule)
            mine.append(r)
            print(
                f"| {n} | {seed} | {r['precision']:.2f} | {r['recall']:.2f} | "
                f"{r['found']} / {r['true']} | {r['groups']} of {r['latent']} "
                f"({', '.join(map(str, r['group_sizes']))}) |",
                flush=True,
            )
        p = statistics.mean(r["precision"] for r in mine)
        rc = statistics.mean(r["recall"] for r in mine)
        g = statistics.mean(r["groups"] for r in mine)
        print(f"| **{n}** | mean | **{p:.2f}** | **{rc:.2f}** | | {g:.1f} |", flush=True)
        rows += mine
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
