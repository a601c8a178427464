"""Weighted vs group-robust DPO on the demo's simulated assembly: the worst latent group's
held-out accuracy on divisive prompts, and the cost in mean accuracy.

For each seed the demo pipeline (``pluralign demo``, with ``--quick``'s tiny model by default)
runs once with ``train.objective: weighted`` and once per step size with ``group-robust``
(groups: the pairs' ``group`` column, the opinion groups the aggregation found; the latent groups
are what is *measured*, the simulator's truth, never seen by training). Everything before the
train stage is the same for a seed. Printed per run: the divisive prompts' mean accuracy and
worst latent group (95 % cluster-bootstrap intervals from ``metrics.json``), and, against the
weighted run of the same seed, the paired differences (``pluralign evaluate --compare``).

    python benchmarks/group_robust.py --out /tmp/gr --seeds 100 101 102 103 104 \
        --step-sizes 0.3 1 3 10           # choosing the step size (seeds not reported)
    python benchmarks/group_robust.py --out /tmp/gr --seeds 0 1 2 3 4 --step-sizes 1
    python benchmarks/group_robust.py --out /tmp/gr-real --model smollm2 --seeds 0 1 2

Writes ``OUT/results.json`` and ``OUT/tradeoff.png`` (mean vs worst-group accuracy per run).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SUBSET, GROUPING = "divisive", "latent"


def config(out: Path, seed: int, model: str, train: dict):
    from pluralign.run.config import parse_pipeline_config
    from pluralign.run.demo import demo_config

    quick = model == "tiny"
    if "quick" in inspect.signature(demo_config).parameters:
        cfg = demo_config(out, seed, quick=quick)
        data = cfg.model_dump(mode="json")
    else:  # before demo --quick existed the demo trained the tiny model
        data = demo_config(out, seed).model_dump(mode="json")
        if not quick:
            from pluralign.models.embedded import resolve_model

            data["model"] = {**data["model"], "base": str(resolve_model(model))}
    data["train"] = {**data["train"], **train}
    data["moral_graph"] = {**data["moral_graph"], "enabled": False}
    return parse_pipeline_config(data, source="benchmark settings")


def run(out: Path, seed: int, model: str, train: dict) -> tuple[float, Path]:
    from pluralign.run.pipeline import run_pipeline

    start = time.process_time()
    result = run_pipeline(config(out, seed, model, train))
    failed = [o for o in getattr(result, "outcomes", []) if getattr(o, "status", "") == "failed"]
    if failed:
        raise SystemExit(f"run {out} failed: {failed}")
    return time.process_time() - start, out


def scores(run_dir: Path) -> dict:
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    mean = next(o for o in metrics["overall"] if o["subset"] == SUBSET)
    everyone = next(o for o in metrics["overall"] if o["subset"] == "all")
    groups = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == (SUBSET, GROUPING)]
    worst = min(groups, key=lambda g: (g["after"]["estimate"], g["group"]))
    return {
        "mean": mean["after"],
        "all": everyone["after"]["estimate"],
        "worst": worst["after"],
        "worst_group": worst["group"],
        "groups": {g["group"]: g["after"]["estimate"] for g in groups},
    }


def paired(weighted: Path, robust: Path) -> dict | None:
    from pluralign.evaluate.compare import compare_runs, load_run

    if not (weighted / "evaluate" / "margins.json").is_file():
        return None
    c = compare_runs(load_run(weighted, "weighted"), load_run(robust, "group-robust"))
    w = c.worst_of(SUBSET, GROUPING)
    return {
        "worst_gain": w.difference.to_dict(),
        "mean_cost": c.overall_of(SUBSET).difference.to_dict(),
    }


def fmt(iv: dict) -> str:
    return f"{iv['estimate']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--step-sizes", type=float, nargs="+", default=None)
    ap.add_argument("--model", default="tiny", help="tiny (demo --quick) or smollm2")
    ap.add_argument("--group-by", default="group")
    ap.add_argument("--init", default="uniform", help="group_weights_init: uniform|proportional")
    args = ap.parse_args()
    from pluralign.train.common_config import GROUP_STEP_SIZE

    steps = args.step_sizes or [GROUP_STEP_SIZE]
    results = []
    for seed in args.seeds:
        cpu, base = run(args.out / f"s{seed}-weighted", seed, args.model, {"objective": "weighted"})
        row = {"seed": seed, "weighted": {**scores(base), "cpu_s": cpu}, "robust": {}}
        for eta in steps:
            train = {
                "objective": "group-robust",
                "group_step_size": eta,
                "group_by": args.group_by,
                "group_weights_init": args.init,
            }
            cpu, folder = run(args.out / f"s{seed}-gr{eta:g}", seed, args.model, train)
            row["robust"][f"{eta:g}"] = {
                **scores(folder),
                "cpu_s": cpu,
                "paired": paired(base, folder),
            }
        results.append(row)
        w = row["weighted"]
        print(
            f"seed {seed}: weighted  mean {fmt(w['mean'])}  worst {w['worst_group']} "
            f"{fmt(w['worst'])}",
            flush=True,
        )
        for eta, r in row["robust"].items():
            gain = r["paired"]
            extra = (
                (f"  worst gain {fmt(gain['worst_gain'])}  mean change {fmt(gain['mean_cost'])}")
                if gain
                else ""
            )
            print(
                f"         GR η={eta:<4} mean {fmt(r['mean'])}  worst {r['worst_group']} "
                f"{fmt(r['worst'])}{extra}",
                flush=True,
            )
    print("\nover seeds (divisive prompts, latent groups):")
    for eta in (f"{s:g}" for s in steps):
        gains = [
            r["robust"][eta]["worst"]["estimate"] - r["weighted"]["worst"]["estimate"]
            for r in results
        ]
        costs = [
            r["robust"][eta]["mean"]["estimate"] - r["weighted"]["mean"]["estimate"]
            for r in results
        ]
        print(
            f"  η={eta:<4} worst-group gain mean {statistics.mean(gains):+.3f} "
            f"(per seed {', '.join(f'{g:+.3f}' for g in gains)}); mean accuracy change "
            f"{statistics.mean(costs):+.3f} (per seed {', '.join(f'{c:+.3f}' for c in costs)})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    plot(results, args.out / "tradeoff.png")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'tradeoff.png'}")


def plot(results: list[dict], path: Path) -> None:
    from pluralign.evaluate.compare import TradeoffPoint, tradeoff_png
    from pluralign.evaluate.metrics import Interval

    def iv(d):
        return Interval(d["estimate"], d["low"], d["high"])

    points = []
    for r in results:
        w = r["weighted"]
        points.append(
            TradeoffPoint(
                f"s{r['seed']}", iv(w["mean"]), iv(w["worst"]), w["worst_group"], "weighted"
            )
        )
        for eta, g in r["robust"].items():
            points.append(
                TradeoffPoint(
                    f"s{r['seed']}",
                    iv(g["mean"]),
                    iv(g["worst"]),
                    g["worst_group"],
                    f"group-robust η={eta}",
                )
            )
    tradeoff_png(points, path, title="divisive held-out prompts: mean vs worst latent group")


if __name__ == "__main__":
    main()
