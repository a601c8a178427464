"""Why a demo run gains or loses on its held-out prompts: three readings of one finished run.

    PYTHONPATH=src python benchmarks/demo_diagnosis.py RUN            # e.g. pluralign-demo
    PYTHONPATH=src python benchmarks/demo_diagnosis.py RUN --only balance

``RUN`` is the folder of a finished ``pluralign demo`` on the embedded model (its ``data/``,
``train/model`` and ``panel/``, ``aggregate/`` and ``simulate/`` folders). Nothing is trained;
the models are only scored (about 3 minutes on 2 idle cores).

1. **Balance** (``balance``): the training pairs rebuilt from the run's simulation without the
   stance balance and with each balance unit (``data.balance_unit``, docs/preferences.md): per
   prompt kind the share of the weight that chose the agreeing response, and how many training
   prompts have their weighted majority overturned.
2. **In sample** (``insample``): for every training prompt, the base and the trained model's
   preference for its agreeing reply over its disagreeing one (summed reply log-probabilities,
   nats), against the panel's split in the training weights. Printed per template wording
   (``tpl-*-1``, ``tpl-*-2``; bank prompts apart): the margins' mean and spread across prompts,
   how many prompts each model takes the training majority's side on, and the correlations of
   the change with the base margin (a pull towards one value per wording) and with the panel's
   net share (what the panel asked for).
3. **Held out** (``heldout``): per kind and held-out part, the base and the trained model's
   accuracy with summed log-probabilities (what the evaluate stage reports) and with the
   per-token mean (length-normalised), the implicit reward's accuracy, and the weighted share of
   pairs whose chosen reply is the longer one.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def balance(run: Path, seed: int | None = None) -> None:
    from pluralign.data.prefsets import sim_preference_sets

    if (run / "pipeline.json").is_file():
        cfg = json.loads((run / "pipeline.json").read_text())
        data, seed = cfg["data"], cfg["seed"]
    else:  # a folder of the demo's stages up to `data` only: the demo's settings of this seed
        from pluralign.run.demo import demo_config

        if seed is None:
            raise SystemExit(f"{run}: no pipeline.json; give --seed")
        data = demo_config(run, seed).data.model_dump()
    kwargs = dict(weighting=data["weighting"], panel=run / "panel/panel.csv",
                  weights=run / "panel/weights.csv", groups=run / "aggregate/groups.csv",
                  templates=data["templates"], heldout_fraction=data["heldout_fraction"],
                  unseen_fraction=data["unseen_fraction"],
                  prompts_per_member=data["prompts_per_member"], seed=seed)

    def per_prompt(pairs):
        out, kinds = defaultdict(lambda: {"agree": 0.0, "disagree": 0.0}), {}
        for p in pairs:
            out[p.provenance["prompt_id"]][p.provenance["choice"]] += p.weight
            kinds[p.provenance["prompt_id"]] = p.provenance["kind"]
        return out, kinds

    raw, kinds = per_prompt(sim_preference_sets(run / "simulate", balance=False,
                                                **kwargs)[0].pairs)
    print(f"balance: seed {seed}, {len(raw)} training prompts")
    for unit in ("none", "pair", "prompt"):
        bal = raw if unit == "none" else per_prompt(sim_preference_sets(
            run / "simulate", balance=True, balance_unit=unit, **kwargs)[0].pairs)[0]
        shares = []
        for kind in sorted(set(kinds.values())):
            ids = [k for k in raw if kinds[k] == kind]
            a = sum(bal[k]["agree"] for k in ids)
            d = sum(bal[k]["disagree"] for k in ids)
            shares.append(f"{kind} {a / (a + d):.2f}")
        flipped = defaultdict(int)
        for k in raw:
            if (raw[k]["agree"] - raw[k]["disagree"]) * (bal[k]["agree"] - bal[k]["disagree"]) < 0:
                flipped[kinds[k]] += 1
        print(f"  {unit:<7} agreeing share: {', '.join(shares)}; majority overturned on "
              f"{sum(flipped.values())} ({dict(flipped) or 'none'})")


def _scores(model: str, rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    from pluralign.train import pair_logps

    return pair_logps(model, rows)


def insample(run: Path, base: str) -> None:
    rows = _rows(run / "data/train.jsonl")
    weights: dict[str, dict[str, float]] = defaultdict(lambda: {"agree": 0.0, "disagree": 0.0})
    texts: dict[tuple[str, str], str] = {}
    for r in rows:
        pv = r["provenance"]
        pid, side = pv["prompt_id"], pv["choice"]
        weights[pid][side] += r["weight"]
        other = "disagree" if side == "agree" else "agree"
        texts.setdefault((pid, side), r["chosen"])
        texts.setdefault((pid, other), r["rejected"])
        texts[(pid, "prompt")] = r["prompt"]
    ids = sorted(p for p in weights if (p, "agree") in texts and (p, "disagree") in texts)
    pairs = [{"prompt": texts[(p, "prompt")], "chosen": texts[(p, "agree")],
              "rejected": texts[(p, "disagree")]} for p in ids]
    bc, br = _scores(base, pairs)
    tc, tr = _scores(str(run / "train/model"), pairs)
    before, after = bc - br, tc - tr
    net = np.array([(weights[p]["agree"] - weights[p]["disagree"])
                    / (weights[p]["agree"] + weights[p]["disagree"]) for p in ids])
    print(f"in sample: {len(ids)} training prompts; margin = log p(agreeing reply) - "
          "log p(disagreeing reply), nats; net = (agree - disagree) / total training weight")
    wording = np.array([p.rsplit("-", 1)[1] if p.startswith("tpl-") else "bank" for p in ids])
    for w in sorted(set(wording)):
        m = wording == w
        b, a, n = before[m], after[m], net[m]
        change = a - b
        line = (f"  {'template ' + w if w != 'bank' else 'bank prompts':<13} {m.sum():3d} prompts: "
                f"base mean {b.mean():+.2f} sd {b.std():.2f}, trained mean {a.mean():+.2f} sd "
                f"{a.std():.2f}; majority side: base {int(((b > 0) == (n > 0)).sum())}, trained "
                f"{int(((a > 0) == (n > 0)).sum())}")
        if m.sum() >= 3:
            line += (f"; corr(change, -base) {np.corrcoef(change, -b)[0, 1]:+.2f}, "
                     f"corr(change, net) {np.corrcoef(change, n)[0, 1]:+.2f}")
        print(line)
    print(f"  all: majority side base {int(((before > 0) == (net > 0)).sum())}, trained "
          f"{int(((after > 0) == (net > 0)).sum())} of {len(ids)}")


def heldout(run: Path, base: str) -> None:
    from pluralign.train.margins import encode_completion, load_causal_lm

    rows = _rows(run / "data/heldout.jsonl")
    index: dict[tuple, int] = {}
    where = np.array([index.setdefault((r["prompt"], r["chosen"], r["rejected"]), len(index))
                      for r in rows])
    uniq = [{"prompt": p, "chosen": c, "rejected": x} for p, c, x in index]
    _, tok = load_causal_lm(base)
    lengths = np.array([[len(encode_completion(tok, u["prompt"], u[k])[1])
                         for k in ("chosen", "rejected")] for u in uniq], dtype=float)
    bc, br = _scores(base, uniq)
    tc, tr = _scores(str(run / "train/model"), uniq)
    w = np.array([r["weight"] for r in rows])
    kind = np.array([r["provenance"].get("kind", "") for r in rows])
    part = np.array([str(r["provenance"].get("heldout_part") or "") for r in rows])
    margins = {
        "summed before": (bc - br)[where], "summed after": (tc - tr)[where],
        "mean before": (bc / lengths[:, 0] - br / lengths[:, 1])[where],
        "mean after": (tc / lengths[:, 0] - tr / lengths[:, 1])[where],
        "implicit": ((tc - bc) - (tr - br))[where],
    }
    longer = (lengths[:, 0] > lengths[:, 1])[where]

    def acc(m: np.ndarray, mask: np.ndarray) -> float:
        s = (m > 0) + 0.5 * (m == 0)
        return float((w[mask] * s[mask]).sum() / w[mask].sum())

    print("held out (weighted accuracy; summed = the evaluate stage's, mean = per reply token)")
    for k in sorted(set(kind)):
        for p in [*sorted(set(part[kind == k])), "all"]:
            mask = (kind == k) & ((part == p) if p != "all" else True)
            if not mask.any():
                continue
            figures = ", ".join(f"{name} {acc(m, mask):.2f}" for name, m in margins.items())
            print(f"  {k:<18} {p or '-':<17} {int(mask.sum()):4d} pairs: {figures}; chosen "
                  f"longer {float((w[mask] * longer[mask]).sum() / w[mask].sum()):.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--only", choices=("balance", "insample", "heldout"))
    ap.add_argument("--base", default="smollm2", help="the run's base model")
    ap.add_argument("--seed", type=int, help="the run's seed when RUN has no pipeline.json")
    args = ap.parse_args()
    for name, fn in (("balance", lambda: balance(args.run, args.seed)),
                     ("insample", lambda: insample(args.run, args.base)),
                     ("heldout", lambda: heldout(args.run, args.base))):
        if args.only in (None, name):
            fn()


if __name__ == "__main__":
    main()
