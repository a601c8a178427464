"""Weighted vs group-robust DPO on the demo's simulated assembly: the worst latent group's
held-out accuracy on divisive prompts, and the cost in mean accuracy.

For each seed the demo pipeline (``pluralign demo``, with ``--quick``'s tiny model by default)
runs once with ``train.objective: weighted`` and once per (group_by, step size) with
``group-robust``. ``--group-by group`` trains on the opinion groups the aggregation found,
``latent`` on the simulator's latent groups (the measured ones). Everything before the train
stage is the same for a seed. Printed per run: the divisive prompts' mean accuracy and worst
group, on the latent groups and on the run's own grouping (95 % cluster-bootstrap intervals from
``metrics.json``), the paired differences against the weighted run (``pluralign evaluate
--compare``), the agreement of opinion and latent groups (adjusted Rand index); over seeds, the
mean with a 95 % t-interval of the worst-group gain, the mean-accuracy change, the worst group's
held-out DPO loss change and its training loss change (all its pairs).

    python benchmarks/group_robust.py --out /tmp/gr --seeds 0 1 2 3 4 --group-by group latent
    python benchmarks/group_robust.py --out /tmp/gr --seeds 100 101 --step-sizes 0.3 1 3
    python benchmarks/group_robust.py --out /tmp/gr-real --model smollm2 --seeds 0 --group-by latent

Finished runs are not repeated (the pipeline resumes). Writes ``OUT/results.json`` and
``OUT/tradeoff.png`` (mean vs worst-group accuracy per run). Figures: docs/training.md §12.
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


def measured_grouping(group_by: str) -> str:
    """The evaluation grouping that holds the groups a run trained on (``group`` is the opinion
    group, as in metrics.json)."""
    return "group" if group_by in ("group", "opinion") else group_by


def scores(run_dir: Path, grouping: str = GROUPING) -> dict:
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    mean = next(o for o in metrics["overall"] if o["subset"] == SUBSET)
    everyone = next(o for o in metrics["overall"] if o["subset"] == "all")
    groups = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == (SUBSET, grouping)]
    worst = min(groups, key=lambda g: (g["after"]["estimate"], g["group"]))
    return {
        "grouping": grouping,
        "mean": mean["after"],
        "all": everyone["after"]["estimate"],
        "worst": worst["after"],
        "worst_group": worst["group"],
        "groups": {g["group"]: g["after"]["estimate"] for g in groups},
    }


def group_agreement(run_dir: Path) -> float:
    """Adjusted Rand index between the participants' opinion groups (what ``group_by: group``
    trains on) and their latent groups (what is measured): 1 = the same partition, 0 = no more
    agreement than chance."""
    from sklearn.metrics import adjusted_rand_score

    people = {}
    for line in (run_dir / "data" / "train.jsonl").open():
        prov = json.loads(line).get("provenance", {})
        people[prov.get("participant")] = (prov.get("opinion_group"), prov.get("latent_group"))
    opinion, latent = zip(*people.values(), strict=True)
    return float(adjusted_rand_score(latent, opinion))


def heldout_losses(run_dir: Path, grouping: str = GROUPING) -> dict | None:
    """Each group's weighted mean DPO loss −log σ(m) on the divisive held-out pairs, from the
    trained model's implicit reward margins m (``margins.json``): the quantity the
    group-robust objective minimises for its worst group, on pairs it never saw. Accuracy only
    counts the margins' signs; this shows whether they moved towards a group at all."""
    import numpy as np

    from pluralign.evaluate.metrics import group_labels

    margins = json.loads((run_dir / "evaluate" / "margins.json").read_text())
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    m = margins.get("implicit") or (
        margins["after"] if metrics["settings"].get("margin") == "implicit" else None
    )
    if m is None:
        return None
    rows = [json.loads(line) for line in (run_dir / "data" / "heldout.jsonl").open()]
    m = np.asarray(m, dtype=float)
    keep = np.asarray([r.get("provenance", {}).get("kind") == SUBSET for r in rows])
    labels = np.asarray(group_labels(rows, grouping), dtype=object)
    w = np.asarray([float(r["weight"]) for r in rows])
    loss = np.logaddexp(0.0, -m)
    out = {}
    for g in sorted({str(x) for x in labels[keep]}):
        mask = keep & (labels == g)
        out[g] = float((w[mask] * loss[mask]).sum() / w[mask].sum())
    worst = max(out, key=lambda g: (out[g], g))
    return {"groups": out, "worst_group": worst, "worst": out[worst]}


def training_losses(run_dir: Path, grouping: str) -> dict:
    """Each group's weighted mean DPO loss on *all* the training pairs (what (G1) averages and
    the group-robust objective minimises for its worst group), from the trained model and the
    base model the run started from (the reference)."""
    import numpy as np

    from pluralign.evaluate.metrics import group_labels
    from pluralign.train import pair_logps

    manifest = json.loads((run_dir / "train" / "train_manifest.json").read_text())
    beta = manifest["settings"]["beta"]
    rows = [json.loads(line) for line in (run_dir / "data" / "train.jsonl").open()]
    keys = sorted({(r["prompt"], r["chosen"], r["rejected"]) for r in rows})
    pairs = [{"prompt": p, "chosen": c, "rejected": j} for p, c, j in keys]
    ref_c, ref_r = pair_logps(manifest["base_model"], pairs)
    pol_c, pol_r = pair_logps(str(run_dir / "train" / "model"), pairs)
    where = {k: i for i, k in enumerate(keys)}
    margin = beta * ((pol_c - ref_c) - (pol_r - ref_r))
    m = np.asarray([margin[where[(r["prompt"], r["chosen"], r["rejected"])]] for r in rows])
    w = np.asarray([float(r["weight"]) for r in rows])
    labels = np.asarray(group_labels(rows, grouping), dtype=object)
    loss = np.logaddexp(0.0, -m)
    out = {
        g: float((w * loss)[labels == g].sum() / w[labels == g].sum())
        for g in sorted({str(x) for x in labels})
    }
    worst = max(out, key=lambda g: (out[g], g))
    return {"groups": out, "worst_group": worst, "worst": out[worst]}


def paired(weighted: Path, robust: Path, grouping: str = GROUPING) -> dict | None:
    from pluralign.evaluate.compare import compare_runs, load_run

    if not (weighted / "evaluate" / "margins.json").is_file():
        return None
    c = compare_runs(load_run(weighted, "weighted"), load_run(robust, "group-robust"))
    w = c.worst_of(SUBSET, grouping)
    return {
        "worst_gain": w.difference.to_dict(),
        "mean_cost": c.overall_of(SUBSET).difference.to_dict(),
    }


def fmt(iv: dict) -> str:
    return f"{iv['estimate']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]"


def step_size(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def seed_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean over seeds and its 95 % t-interval (the seeds are independent repetitions)."""
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return mean, mean - half, mean + half


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--step-sizes", type=step_size, nargs="+", default=None)
    ap.add_argument("--model", default="tiny", help="tiny (demo --quick) or smollm2")
    ap.add_argument(
        "--group-by",
        nargs="+",
        default=["group"],
        help="group_by of the group-robust runs (each measured on its own grouping and on latent)",
    )
    ap.add_argument("--init", default="uniform", help="group_weights_init: uniform|proportional")
    args = ap.parse_args()
    from pluralign.train.common_config import GROUP_STEP_SIZE

    steps = args.step_sizes or [GROUP_STEP_SIZE]
    variants = [(g, eta) for g in args.group_by for eta in steps]
    results = []
    for seed in args.seeds:
        cpu, base = run(args.out / f"s{seed}-weighted", seed, args.model, {"objective": "weighted"})
        groupings = sorted({GROUPING, *(measured_grouping(g) for g, _ in variants)})
        row = {
            "seed": seed,
            "weighted": {**scores(base), "cpu_s": cpu},
            "opinion_latent_ari": group_agreement(base),
            "weighted_by": {g: scores(base, g) for g in groupings},
            "weighted_loss": {g: heldout_losses(base, g) for g in groupings},
            "weighted_train_loss": {g: training_losses(base, g) for g in groupings},
            "robust": {},
        }
        for group_by, eta in variants:
            train = {
                "objective": "group-robust",
                "group_step_size": eta,
                "group_by": group_by,
                "group_weights_init": args.init,
            }
            name = f"{group_by.replace(':', '-')}-{eta:g}" if isinstance(eta, float) else eta
            folder = args.out / f"s{seed}-gr-{name}"
            cpu, folder = run(folder, seed, args.model, train)
            own = measured_grouping(group_by)
            row["robust"][variant_key(group_by, eta)] = {
                **scores(folder),
                "cpu_s": cpu,
                "paired": paired(base, folder),
                "loss": heldout_losses(folder),
                "own": {
                    **scores(folder, own),
                    "paired": paired(base, folder, own),
                    "loss": heldout_losses(folder, own),
                    "train_loss": training_losses(folder, own),
                },
            }
        results.append(row)
        w = row["weighted"]
        print(
            f"seed {seed}: weighted  mean {fmt(w['mean'])}  worst latent {w['worst_group']} "
            f"{fmt(w['worst'])}  (opinion vs latent groups: ARI {row['opinion_latent_ari']:.2f})",
            flush=True,
        )
        for key, r in row["robust"].items():
            for label, part in (("latent", r), (r["own"]["grouping"], r["own"])):
                gain = part["paired"]
                extra = (
                    f"  worst gain {fmt(gain['worst_gain'])}  mean change {fmt(gain['mean_cost'])}"
                    if gain
                    else ""
                )
                print(
                    f"         GR {key:<14} [{label}] mean {fmt(r['mean'])}  worst "
                    f"{part['worst_group']} {fmt(part['worst'])}{extra}",
                    flush=True,
                )
                if label == r["own"]["grouping"] == GROUPING:
                    break
    print(f"\nover {len(results)} seeds ({SUBSET} prompts; mean and 95 % t-interval over seeds):")
    for group_by, eta in variants:
        key = variant_key(group_by, eta)
        own = measured_grouping(group_by)
        for grouping in dict.fromkeys((GROUPING, own)):
            gains = [
                (r["robust"][key]["own"] if grouping == own else r["robust"][key])["worst"][
                    "estimate"
                ]
                - r["weighted_by"][grouping]["worst"]["estimate"]
                for r in results
            ]
            costs = [
                r["robust"][key]["mean"]["estimate"] - r["weighted"]["mean"]["estimate"]
                for r in results
            ]
            g, gl, gh = seed_interval(gains)
            c, cl, ch = seed_interval(costs)
            print(
                f"  {key:<14} worst {grouping} group: gain {g:+.3f} [{gl:+.3f}, {gh:+.3f}] "
                f"(per seed {', '.join(f'{x:+.3f}' for x in gains)}); mean accuracy change "
                f"{c:+.3f} [{cl:+.3f}, {ch:+.3f}] "
                f"(per seed {', '.join(f'{x:+.3f}' for x in costs)})"
            )
            losses = [
                (r["robust"][key]["own"] if grouping == own else r["robust"][key])["loss"]
                for r in results
            ]
            if all(x is not None for x in losses):
                deltas = [
                    x["worst"] - r["weighted_loss"][grouping]["worst"]
                    for x, r in zip(losses, results, strict=True)
                ]
                d, dl, dh = seed_interval(deltas)
                print(
                    f"  {'':<14} worst {grouping} group's held-out DPO loss change {d:+.4f} "
                    f"[{dl:+.4f}, {dh:+.4f}] (per seed {', '.join(f'{x:+.4f}' for x in deltas)})"
                )
        deltas = [
            r["robust"][key]["own"]["train_loss"]["worst"] - r["weighted_train_loss"][own]["worst"]
            for r in results
        ]
        d, dl, dh = seed_interval(deltas)
        print(
            f"  {'':<14} worst {own} group's training loss (all its pairs) change {d:+.4f} "
            f"[{dl:+.4f}, {dh:+.4f}] (per seed {', '.join(f'{x:+.4f}' for x in deltas)})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    plot(results, args.out / "tradeoff.png")
    print(f"wrote {args.out / 'results.json'} and {args.out / 'tradeoff.png'}")


def variant_key(group_by: str, eta: float | str) -> str:
    return f"{group_by} η={eta:g}" if isinstance(eta, float) else f"{group_by} η={eta}"


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
        for key, g in r["robust"].items():
            points.append(
                TradeoffPoint(
                    f"s{r['seed']}",
                    iv(g["mean"]),
                    iv(g["worst"]),
                    g["worst_group"],
                    f"group-robust ({key})",
                )
            )
    tradeoff_png(points, path, title="divisive held-out prompts: mean vs worst latent group")


if __name__ == "__main__":
    main()
