"""Weighted vs group-robust DPO on the demo's simulated assembly: the worst latent group's
held-out accuracy on divisive prompts, and the cost in mean accuracy.

For each seed the demo pipeline (``pluralign demo``, with ``--quick``'s tiny model by default)
runs once with ``train.objective: weighted`` and once per (group_by, step size) with
``group-robust``. ``--group-by group`` trains on the opinion groups the aggregation found,
``latent`` on the simulator's latent groups (the measured ones). Everything before the train
stage is the same for a seed. Two held-out divisive subsets are measured: ``divisive``, the
conversation's own held-out divisive prompts (one statement on the quick demo), and
``unseen-divisive``, the statement bank's divisive statements the conversation did not include
(``data.heldout_unseen: divisive``, about 20 statements; evaluation only, the training data are
the same: docs/preferences.md). Printed per run and subset: the mean accuracy and worst latent
group, and on the run's own grouping (95 % cluster-bootstrap intervals from ``metrics.json``),
the paired differences against the weighted run (``pluralign evaluate --compare``), the agreement
of opinion and latent groups (adjusted Rand index); over seeds, the mean with a 95 % t-interval
of the worst-group gain, the mean-accuracy change (the subset's and all held-out pairs'), the
worst group's held-out DPO loss change and its training loss change (all its pairs).
``--placebo`` adds the control: group-robust on the opinion groups' labels permuted over the
participants (same sizes, no information). ``results.json`` also holds each run's group weights
over its steps (final α, spread, steps moved, rank of the group worst under the weighted run).

    python benchmarks/group_robust.py --out /tmp/gr --seeds 0 1 2 3 4 5 --group-by group latent
    python benchmarks/group_robust.py --out /tmp/gr --seeds 1 2 --group-by group --placebo
    python benchmarks/group_robust.py --out /tmp/gr --seeds 100 101 --step-sizes 0.3 1 3
    python benchmarks/group_robust.py --out /tmp/gr-real --model smollm2 --seeds 0 --group-by latent
    python benchmarks/group_robust.py --out /tmp/gr-vc --seeds 0 1 --group-by group --placebo \
        --group-source votes+choices        # training groups from votes and choices
    python benchmarks/group_robust.py --out /tmp/gr-vr --seeds 0 --vote-rate 1.0  # ~50 votes a head
    python benchmarks/group_robust.py --out /tmp/gr-real --model smollm2 --seeds 0 --group-by none

Finished runs are not repeated (the pipeline resumes). Writes ``OUT/results.json`` (the seeds of
earlier calls into the same ``OUT`` kept, so seeds can be measured a few at a time) and
``OUT/tradeoff.png`` (mean vs worst-group accuracy per run). Figures: docs/training.md §12.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SUBSETS, GROUPING = ("divisive", "unseen-divisive"), "latent"


def config(out: Path, seed: int, model: str, train: dict, unseen: str = "divisive",
           group_source: str = "votes", vote_rate: float | None = None):
    from pluralign.run.config import parse_pipeline_config
    from pluralign.run.demo import demo_config

    quick = model == "tiny"
    if "quick" in inspect.signature(demo_config).parameters:
        cfg = demo_config(out, seed, quick=quick)
    else:  # before demo --quick existed the demo trained the tiny model
        cfg = demo_config(out, seed)
    data = cfg.model_dump(mode="json")
    if not quick and cfg.model.base == "tiny":
        from pluralign.models.embedded import resolve_model

        data["model"] = {**data["model"], "base": str(resolve_model(model))}
    # only the train settings the demo set: every method's defaults dumped together are refused
    # (a DPO run with KTO's desirable_weight set)
    data["train"] = {**cfg.train.model_dump(mode="json", exclude_unset=True), **train}
    if unseen != "none":
        data["data"] = {**data["data"], "heldout_unseen": unseen}
    if group_source != "votes":
        data["data"] = {**data["data"], "group_source": group_source}
    if vote_rate is not None:
        sim = data["inputs"]["simulate"]
        data["inputs"] = {**data["inputs"], "simulate": {**sim, "vote_rate": vote_rate}}
    data["moral_graph"] = {**data["moral_graph"], "enabled": False}
    return parse_pipeline_config(data, source="benchmark settings")


PLACEBO = "placebo"
"""The ``--group-by`` value of the control: ``group`` with the opinion groups' labels permuted
over the participants (:func:`placebo_groups`)."""


@contextlib.contextmanager
def placebo_groups(seed: int):
    """Within the block, the simulator's preference pairs take opinion groups whose labels are
    permuted at random over the participants (seeded): groups of the same sizes (``unclustered``
    included) that carry no information about anyone's opinions. A group-robust run on them is
    the control for one on the real opinion groups: what reweighting groups of those sizes does
    by itself."""
    import numpy as np

    from pluralign.data import choice_groups, simprefs

    original = simprefs.build_sim_preferences
    original_choices = choice_groups.vote_choice_groups

    def shuffled(*args, opinion_groups=None, **kwargs):
        if opinion_groups:
            keys = sorted(opinion_groups)
            labels = [opinion_groups[k] for k in keys]
            order = np.random.default_rng([seed, 19]).permutation(len(keys))
            opinion_groups = {k: labels[j] for k, j in zip(keys, order, strict=True)}
        return original(*args, opinion_groups=opinion_groups, **kwargs)

    def shuffled_choices(*args, **kwargs):  # data.group_source: votes+choices
        found = original_choices(*args, **kwargs)
        keys = sorted(found.labels)
        labels = [found.labels[k] for k in keys]
        order = np.random.default_rng([seed, 19]).permutation(len(keys))
        return choice_groups.ChoiceGroups(
            {k: labels[j] for k, j in zip(keys, order, strict=True)}, found.details)

    simprefs.build_sim_preferences = shuffled
    choice_groups.vote_choice_groups = shuffled_choices
    try:
        yield
    finally:
        simprefs.build_sim_preferences = original
        choice_groups.vote_choice_groups = original_choices


def run(out: Path, seed: int, model: str, train: dict, unseen: str,
        placebo: bool = False, group_source: str = "votes",
        vote_rate: float | None = None) -> tuple[float, Path]:
    from pluralign.run.pipeline import run_pipeline

    start = time.process_time()
    with placebo_groups(seed) if placebo else contextlib.nullcontext():
        result = run_pipeline(config(out, seed, model, train, unseen, group_source, vote_rate))
    failed = [o for o in getattr(result, "outcomes", []) if getattr(o, "status", "") == "failed"]
    if failed:
        raise SystemExit(f"run {out} failed: {failed}")
    return time.process_time() - start, out


def measured_grouping(group_by: str) -> str:
    """The evaluation grouping that holds the groups a run trained on (``group`` is the opinion
    group, as in metrics.json, or with ``--group-source votes+choices`` the groups of votes and
    choices; a placebo run's ``group`` holds its placebo labels; ``opinion`` is the
    aggregation's opinion group whatever the group source)."""
    return "group" if group_by in ("group", PLACEBO) else group_by


def group_weight_path(run_dir: Path, weighted_train_loss: dict) -> dict:
    """The group weights α over the run's steps (``group_weights.jsonl``): the final ones, how
    far they spread, how many steps moved them, and the final α and rank (1 = largest) of the
    group whose training loss was highest under the weighted objective — the group (G2) should
    find."""
    rows = [json.loads(line) for line in (run_dir / "train" / "group_weights.jsonl").open()]
    final = rows[-1]["weights"]
    moved = sum(
        1 for a, b in zip(rows, rows[1:], strict=False)
        if any(abs(b["weights"][g] - a["weights"][g]) > 1e-12 for g in final)
    )
    worst = weighted_train_loss["worst_group"]
    ranked = sorted(final, key=lambda g: -final[g])
    return {
        "final": final,
        "spread": max(final.values()) - min(final.values()),
        "steps_moved": moved,
        "steps": len(rows) - 1,
        "weighted_worst": worst,
        "alpha_of_weighted_worst": final.get(worst),
        "rank_of_weighted_worst": ranked.index(worst) + 1 if worst in final else None,
    }


def scores(run_dir: Path, subset: str, grouping: str = GROUPING) -> dict:
    metrics = json.loads((run_dir / "evaluate" / "metrics.json").read_text())
    mean = next(o for o in metrics["overall"] if o["subset"] == subset)
    everyone = next(o for o in metrics["overall"] if o["subset"] == "all")
    groups = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == (subset, grouping)]
    worst = min(groups, key=lambda g: (g["after"]["estimate"], g["group"]))
    return {
        "grouping": grouping,
        "n": mean.get("n"),
        "mean": mean["after"],
        "all": everyone["after"]["estimate"],
        "worst": worst["after"],
        "worst_group": worst["group"],
        "groups": {g["group"]: g["after"]["estimate"] for g in groups},
    }


def group_agreement(run_dir: Path) -> float:
    """Adjusted Rand index between the participants' training groups (the ``group`` column, what
    ``group_by: group`` trains on: the opinion groups, or with ``--group-source votes+choices``
    the groups of votes and choices) and their latent groups (what is measured): 1 = the same
    partition, 0 = no more agreement than chance."""
    from sklearn.metrics import adjusted_rand_score

    people = {}
    for line in (run_dir / "data" / "train.jsonl").open():
        row = json.loads(line)
        prov = row.get("provenance", {})
        people[prov.get("participant")] = (row.get("group"), prov.get("latent_group"))
    opinion, latent = zip(*people.values(), strict=True)
    return float(adjusted_rand_score(latent, opinion))


def heldout_losses(run_dir: Path, subset: str, grouping: str = GROUPING) -> dict | None:
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
    keep = np.asarray([r.get("provenance", {}).get("kind") == subset for r in rows])
    labels = np.asarray(group_labels(rows, grouping), dtype=object)
    w = np.asarray([float(r["weight"]) for r in rows])
    loss = np.logaddexp(0.0, -m)
    out = {}
    for g in sorted({str(x) for x in labels[keep]}):
        mask = keep & (labels == g)
        out[g] = float((w[mask] * loss[mask]).sum() / w[mask].sum())
    worst = max(out, key=lambda g: (out[g], g))
    return {"groups": out, "worst_group": worst, "worst": out[worst]}


def training_losses(run_dir: Path, grouping: str, model_run: Path | None = None) -> dict:
    """Each group's weighted mean DPO loss on *all* the training pairs (what (G1) averages and
    the group-robust objective minimises for its worst group), from the trained model and the
    base model the run started from (the reference). ``model_run``: take the model of that run
    instead (the same pairs grouped as in ``run_dir``)."""
    import numpy as np

    from pluralign.evaluate.metrics import group_labels
    from pluralign.train import pair_logps

    model_run = model_run or run_dir
    manifest = json.loads((model_run / "train" / "train_manifest.json").read_text())
    beta = manifest["settings"]["beta"]
    rows = [json.loads(line) for line in (run_dir / "data" / "train.jsonl").open()]
    keys = sorted({(r["prompt"], r["chosen"], r["rejected"]) for r in rows})
    pairs = [{"prompt": p, "chosen": c, "rejected": j} for p, c, j in keys]
    ref_c, ref_r = pair_logps(manifest["base_model"], pairs)
    pol_c, pol_r = pair_logps(str(model_run / "train" / "model"), pairs)
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


def paired(weighted: Path, robust: Path, subset: str, grouping: str = GROUPING) -> dict | None:
    from pluralign.evaluate.compare import compare_runs, load_run

    if not (weighted / "evaluate" / "margins.json").is_file():
        return None
    c = compare_runs(load_run(weighted, "weighted"), load_run(robust, "group-robust"))
    w = c.worst_of(subset, grouping)
    return {
        "worst_gain": w.difference.to_dict(),
        "mean_cost": c.overall_of(subset).difference.to_dict(),
        "all_cost": c.overall_of("all").difference.to_dict(),
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
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    ap.add_argument("--step-sizes", type=step_size, nargs="+", default=None)
    ap.add_argument("--model", default="tiny", help="tiny (demo --quick) or smollm2")
    ap.add_argument(
        "--group-by",
        nargs="+",
        default=["group"],
        help="group_by of the group-robust runs (each measured on its own grouping and on "
        "latent); none: the weighted run only",
    )
    ap.add_argument("--init", default="uniform", help="group_weights_init: uniform|proportional")
    ap.add_argument(
        "--placebo",
        action="store_true",
        help="also train group-robust on the opinion groups' labels permuted over the "
        "participants (same sizes, no information): the control",
    )
    ap.add_argument(
        "--group-source",
        default="votes",
        help="data.group_source of every run: votes (the aggregation's opinion groups) | "
        "votes+choices (the panel clustered on votes and training choices)",
    )
    ap.add_argument(
        "--vote-rate",
        type=float,
        default=None,
        help="inputs.simulate.vote_rate of every run (the demo's: 0.5, about 25 votes a head; "
        "1.0: about 50)",
    )
    ap.add_argument(
        "--unseen",
        default="divisive",
        help="data.heldout_unseen: divisive (default) | none (the conversation's prompts only)",
    )
    args = ap.parse_args()
    from pluralign.train.common_config import GROUP_STEP_SIZE

    steps = args.step_sizes or [GROUP_STEP_SIZE]
    # --group-by none: the weighted run alone (a slow model's two runs then fit the measurement
    # lock's 10 minutes one at a time; a second call resumes the weighted run and adds the rest)
    group_bys = [g for g in args.group_by if g != "none"]
    variants = [(g, eta) for g in [*group_bys, *([PLACEBO] if args.placebo else [])]
                for eta in steps]
    subsets = [x for x in SUBSETS if args.unseen != "none" or not x.startswith("unseen-")]
    results = []
    for seed in args.seeds:
        cpu, base = run(
            args.out / f"s{seed}-weighted", seed, args.model, {"objective": "weighted"},
            args.unseen, group_source=args.group_source, vote_rate=args.vote_rate,
        )
        groupings = sorted({GROUPING, *(measured_grouping(g) for g, _ in variants)})
        row = {
            "seed": seed,
            "cpu_s": cpu,
            "opinion_latent_ari": group_agreement(base),
            "weighted": {x: {g: scores(base, x, g) for g in groupings} for x in subsets},
            "weighted_loss": {x: {g: heldout_losses(base, x, g) for g in groupings}
                              for x in subsets},
            "weighted_train_loss": {g: training_losses(base, g) for g in groupings},
            "robust": {},
        }
        for group_by, eta in variants:
            placebo = group_by == PLACEBO
            train = {
                "objective": "group-robust",
                "group_step_size": eta,
                "group_by": "group" if placebo else group_by,
                "group_weights_init": args.init,
            }
            label = f"{eta:g}" if isinstance(eta, float) else eta
            name = f"{group_by.replace(':', '-')}-{label}"
            cpu, folder = run(args.out / f"s{seed}-gr-{name}", seed, args.model, train, args.unseen,
                              placebo, args.group_source, args.vote_rate)
            own = measured_grouping(group_by)
            own_loss = training_losses(folder, own)
            row["robust"][variant_key(group_by, eta)] = {
                "cpu_s": cpu,
                "own_grouping": own,
                "train_loss": own_loss,
                "train_loss_latent": training_losses(folder, GROUPING),
                "alpha": group_weight_path(
                    folder,
                    training_losses(folder, own, base) if placebo
                    else row["weighted_train_loss"][own],
                ),
                **{
                    x: {
                        g: {
                            **scores(folder, x, g),
                            "paired": paired(base, folder, x, g),
                            "loss": heldout_losses(folder, x, g),
                        }
                        for g in dict.fromkeys((GROUPING, own))
                    }
                    for x in subsets
                },
            }
        results.append(row)
        print(f"seed {seed} (opinion vs latent groups: ARI {row['opinion_latent_ari']:.2f})")
        for x in subsets:
            w = row["weighted"][x][GROUPING]
            print(
                f"  {x} (n={w['n']}): weighted  mean {fmt(w['mean'])}  worst latent "
                f"{w['worst_group']} {fmt(w['worst'])}",
                flush=True,
            )
            for key, r in row["robust"].items():
                for g, part in r[x].items():
                    gain = part["paired"]
                    extra = (
                        f"  worst gain {fmt(gain['worst_gain'])}  mean change "
                        f"{fmt(gain['mean_cost'])}"
                        if gain
                        else ""
                    )
                    print(
                        f"    GR {key:<14} [{g}] mean {fmt(part['mean'])}  worst "
                        f"{part['worst_group']} {fmt(part['worst'])}{extra}",
                        flush=True,
                    )
    print(f"\nover {len(results)} seeds (mean and 95 % t-interval over seeds; paired by seed):")
    for group_by, eta in variants:
        key = variant_key(group_by, eta)
        own = measured_grouping(group_by)
        for x in subsets:
            for g in dict.fromkeys((GROUPING, own)):
                series = {
                    "worst-group gain": [
                        r["robust"][key][x][g]["worst"]["estimate"]
                        - r["weighted"][x][g]["worst"]["estimate"]
                        for r in results
                    ],
                    "mean change": [
                        r["robust"][key][x][g]["mean"]["estimate"]
                        - r["weighted"][x][g]["mean"]["estimate"]
                        for r in results
                    ],
                    "all held-out mean change": [
                        r["robust"][key][x][g]["all"] - r["weighted"][x][g]["all"]
                        for r in results
                    ],
                }
                losses = [r["robust"][key][x][g]["loss"] for r in results]
                if all(v is not None for v in losses):
                    series["worst-group held-out DPO loss change"] = [
                        v["worst"] - r["weighted_loss"][x][g]["worst"]
                        for v, r in zip(losses, results, strict=True)
                    ]
                for label, values in series.items():
                    m, lo, hi = seed_interval(values)
                    print(
                        f"  {key:<14} {x:<16} [{g}] {label}: {m:+.4f} [{lo:+.4f}, {hi:+.4f}] "
                        f"(per seed {', '.join(f'{v:+.3f}' for v in values)})"
                    )
        deltas = [
            r["robust"][key]["train_loss"]["worst"] - r["weighted_train_loss"][own]["worst"]
            for r in results
        ]
        d, dl, dh = seed_interval(deltas)
        print(
            f"  {key:<14} worst {own} group's training loss (all its pairs) change {d:+.4f} "
            f"[{dl:+.4f}, {dh:+.4f}] (per seed {', '.join(f'{v:+.4f}' for v in deltas)})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    # seeds measured by earlier calls into the same folder are kept (one call per lock hold)
    path = args.out / "results.json"
    kept = json.loads(path.read_text()) if path.is_file() else []
    before = {r["seed"]: r for r in kept}
    for r in results:  # a seed measured again keeps the variants of the earlier call too
        r["robust"] = {**before.pop(r["seed"], {}).get("robust", {}), **r["robust"]}
    merged = sorted([*before.values(), *results], key=lambda r: r["seed"])
    path.write_text(json.dumps(merged, indent=2))
    plot(merged, args.out / "tradeoff.png", subsets[-1])
    print(f"wrote {args.out / 'results.json'} and {args.out / 'tradeoff.png'}")


def variant_key(group_by: str, eta: float | str) -> str:
    return f"{group_by} η={eta:g}" if isinstance(eta, float) else f"{group_by} η={eta}"


def plot(results: list[dict], path: Path, subset: str) -> None:
    from pluralign.evaluate.compare import TradeoffPoint, tradeoff_png
    from pluralign.evaluate.metrics import Interval

    def iv(d):
        return Interval(d["estimate"], d["low"], d["high"])

    points = []
    for r in results:
        w = r["weighted"][subset][GROUPING]
        points.append(
            TradeoffPoint(
                f"s{r['seed']}", iv(w["mean"]), iv(w["worst"]), w["worst_group"], "weighted"
            )
        )
        for key, g in r["robust"].items():
            g = g[subset][GROUPING]
            points.append(
                TradeoffPoint(
                    f"s{r['seed']}",
                    iv(g["mean"]),
                    iv(g["worst"]),
                    g["worst_group"],
                    f"group-robust ({key})",
                )
            )
    tradeoff_png(points, path, title=f"{subset} held-out prompts: mean vs worst latent group")


if __name__ == "__main__":
    main()
