"""Group-robust preference optimisation: GR-DPO and GR-IPO (Ramesh et al. 2024).

Reference: S. S. Ramesh, Y. Hu, I. Chaimalas, V. Mehta, P. G. Sessa, H. Bou Ammar, I. Bogunovic,
*Group Robust Preference Optimization in Reward-free RLHF*, NeurIPS 2024, arXiv:2405.20304 —
§3 (the group-robust objective) and Algorithm 1 (alternating mirror-ascent / gradient steps). It
adapts Group DRO (Sagawa et al. 2020, *Distributionally Robust Neural Networks*, ICLR, Algorithm 1)
to DPO and IPO losses.

**Objective.** The data fall into K groups g (the ``group`` column, or another one). With the
per-pair loss ℓᵢ of DPO (``loss_type: sigmoid``) or IPO (``ipo``) and the pairs' weights wᵢ, each
group's loss is the weighted mean *within the group*::

    L_g(θ) = Σ_{i∈g} wᵢ·ℓᵢ(θ) / W_g,      W_g = Σ_{i∈g} wᵢ                                  (G1)

and training solves the min–max problem of Ramesh et al. §3::

    min_θ  max_{α∈Δ_K}  Σ_g α_g·L_g(θ)        (= min_θ max_g L_g(θ))                       (G2)

so per-example weights act inside each group (how much a pair counts *for its group*) and the
group weights α decide how much each group counts. With one group (G2) is the weighted loss
Σ wᵢ·ℓᵢ / Σ wᵢ exactly.

**Stochastic estimates on an optimizer step.** An optimizer step sees an effective batch B (all
micro-batches, all processes) of total weight W_B = Σ_{i∈B} wᵢ, of which W_{B,g} = Σ_{i∈B∩g} wᵢ
belongs to group g. Each group's loss is estimated by its weighted mean *over its own rows in
the batch*, and the step's loss is the α-weighted sum of those means::

    L̂_g = Σ_{i∈B∩g} wᵢ·ℓᵢ / W_{B,g}      (0 when g has no row in B)                         (G3)
    L_B = Σ_g α_g·L̂_g = Σ_{i∈B} wᵢ·(α_{gᵢ}·W_B/W_{B,gᵢ})·ℓᵢ / W_B                           (G4)

This is the per-group normalisation of Ramesh et al.'s minibatch training (their released
GR-DPO/GR-IPO trainer computes each group's mean loss over the group's rows in the batch for the
α step and takes Σ_g α_g times it as the loss; the same as Group DRO's, Sagawa et al. 2020
Algorithm 1 and its code). Algorithm 1 itself draws one pair per step and scales its loss by
N/N_g, an importance weight whose batch form would be Σ_{i∈B∩g} wᵢ·ℓᵢ / (π_g·W_B): unbiased, but
unbounded (a group that happens to fill a batch counts several times over, one that is absent
counts 0), so with a few tens of steps its α follows which rows a batch drew rather than which
group is worse off (docs/training.md §12 shows the estimates swinging between 0 and 4× the
loss). (G3) is bounded by the largest loss in the group, which is what the mirror-ascent step
size analysis assumes (below). A group without a row in B has no estimate: it sleeps through
the step (G5′ below).

(G4) is the weighted loss with each row's weight multiplied by α_g·W_B/W_{B,g} and the normaliser
W_B left unchanged, so the trainers keep their exact normalisation over accumulation and
processes (docs/training.md §1): W_{B,g} is summed over the step's micro-batches and processes
before the first forward, like W_B. With one group (G4) is the weighted loss exactly.

**Mirror ascent on α** (Ramesh et al. Algorithm 1, the exponentiated-gradient step on the
simplex, i.e. mirror ascent with the entropy mirror map)::

    α_g ← α_g · exp(η · L̂_g),    α ← α / Σ_h α_h                                            (G5)

computed in log space (log α ← log α + η·L̂ − logsumexp(log α + η·L̂)) in float64. η is the
``group_step_size``: per optimizer step, a group's log-weight grows by η times its loss estimate.

**A group without a row in the batch sleeps** (the "sleeping experts" form of exponentiated
weights, Freund, Schapire, Singer & Warmuth 1997, *Using and combining predictors that
specialize*, STOC, §3): its weight is left as it is, and the groups A present in B share the
mass they had::

    α_g ← α_g · exp(η·L̂_g) · Σ_{h∈A} α_h / Σ_{h∈A} α_h·exp(η·L̂_h)   (g ∈ A),   else α_g      (G5′)

(G5′) is (G5) when every group is present. Giving an absent group the estimate 0 instead (as
Algorithm 1 does for the groups not drawn, where the N/N_g weight of the drawn one makes the
step right in expectation; and as Group DRO's code does with per-group means) lowers its
log-weight relative to every present group by η·L̂ — about η·log 2 for DPO at the start — each
time it is missing: with 16 rows a step, a group of 8 % of the rows is missing from one step in
four, so over a run the smallest groups lost weight because they are small, the opposite of
what the objective is for (seed 0 of ``demo --quick --objective group-robust``: 6 of 30 steps
missed a group; ``unclustered``, 16 % of the weight, fell from 0.27 to 0.17 and from 0.16 to
0.08 in the two steps it missed, docs/training.md §11).

**Step size.** ``group_step_size: auto`` sets η = √(8·ln K / T) (:func:`theory_step_size`) for
K groups and T optimizer steps: the step that minimises the regret bound ln K/η + η·T/8 of
exponentiated weights with losses in [0, 1] (Cesa-Bianchi & Lugosi 2006, *Prediction, Learning,
and Games*, Theorem 2.2); DPO's per-pair loss starts at log 2 and in a short run stays about
there, IPO's is not bounded by 1 (docs/training.md §11).

**Order of the two updates.** Algorithm 1 applies (G5) first and then the θ-step with the new α.
Here the θ-step of step t uses α from the end of step t − 1 and (G5) is applied once the step's
last micro-batch is done, with the group sums of (G3) added over all micro-batches and summed
across processes (all-reduce), so every process holds the same α. This is the simultaneous form
of stochastic mirror descent for saddle points (Nemirovski, Juditsky, Lan & Shapiro 2009, *Robust
Stochastic Approximation Approach to Stochastic Programming*, SIAM J. Optim. 19(4), §3): both
players step from the same point (θ_{t−1}, α_{t−1}). It differs from Algorithm 1 by one α step
and makes the objective of a step independent of how the batch is split into micro-batches and
processes (the paper's order would need every micro-batch's loss before the first backward).

The functions here are pure (numpy in, numpy out); :class:`GroupRobustState` is what a training
run carries, logs each step and stores in each checkpoint (``group_robust.json``) so a resumed
run continues with the same α.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.errors import InputError
from pluralign.train.common_config import GROUP_WEIGHT_INITS as INITS
from pluralign.train.common_config import OBJECTIVES

__all__ = [
    "INITS",
    "OBJECTIVES",
    "GroupRobustState",
    "group_loss_estimates",
    "group_shares",
    "initial_log_weights",
    "mirror_ascent_step",
    "planned_steps",
    "row_factors",
    "theory_step_size",
]
STATE_FILE = "group_robust.json"
STATE_FORMAT = "pluralign.group_robust/3"
"""/3: absent groups sleep (G5′); /2 gave them the estimate 0; /1 held weights stepped with the
importance-weighted estimate S_g/(π_g·W_B). Resuming an older state would change the run's
objective midway."""
OLD_FORMATS = ("pluralign.group_robust/1", "pluralign.group_robust/2")


def group_shares(groups: Sequence[str], weights: Sequence[float]) -> tuple[list[str], np.ndarray]:
    """Sorted group names with positive total weight and each one's share π_g = W_g / W."""
    w = np.asarray(weights, dtype=np.float64)
    labels = [str(g) for g in groups]
    if w.shape != (len(labels),):
        raise ValueError("one weight per group label is needed")
    totals: dict[str, float] = {}
    for g, wi in zip(labels, w, strict=True):
        totals[g] = totals.get(g, 0.0) + float(wi)
    names = sorted(g for g, t in totals.items() if t > 0)
    if not names:
        raise ValueError("every group has total weight 0")
    total = sum(totals[g] for g in names)
    return names, np.asarray([totals[g] / total for g in names], dtype=np.float64)


def initial_log_weights(shares: np.ndarray, init: str = "uniform") -> np.ndarray:
    """log α⁽⁰⁾: uniform 1/K (Ramesh et al.) or the groups' weight shares π (``proportional``)."""
    shares = np.asarray(shares, dtype=np.float64)
    if init == "uniform":
        return np.full(shares.size, -math.log(shares.size))
    if init == "proportional":
        return np.log(shares)
    raise ValueError(f"unknown group weight init {init!r}")


def group_loss_estimates(group_sums: np.ndarray, group_weights: np.ndarray) -> np.ndarray:
    """L̂_g = S_g / W_{B,g} of (G3), with S_g = Σ_{i∈B∩g} wᵢ·ℓᵢ and W_{B,g} = Σ_{i∈B∩g} wᵢ;
    0 for a group without weight in the batch."""
    sums = np.asarray(group_sums, dtype=np.float64)
    weights = np.asarray(group_weights, dtype=np.float64)
    if sums.shape != weights.shape:
        raise ValueError("one loss sum and one weight sum per group are needed")
    present = weights > 0
    return np.divide(sums, weights, out=np.zeros_like(sums), where=present)


def row_factors(log_weights: np.ndarray, group_weights: np.ndarray) -> np.ndarray:
    """α_g·W_B/W_{B,g}: the multiplier of a row's weight in (G4), per group (0 for a group
    without weight in the batch: it has no row there)."""
    weights = np.asarray(group_weights, dtype=np.float64)
    total = weights.sum()
    alpha = np.exp(np.asarray(log_weights, dtype=np.float64))
    return np.divide(alpha * total, weights, out=np.zeros_like(weights), where=weights > 0)


def _logsumexp(z: np.ndarray) -> float:
    top = z.max()
    return float(top + math.log(np.exp(z - top).sum()))


def theory_step_size(groups: int, steps: int) -> float:
    """η = √(8·ln K / T) for K groups and T optimizer steps (0 for one group or no step)."""
    if groups < 2 or steps < 1:
        return 0.0
    return math.sqrt(8 * math.log(groups) / steps)


def planned_steps(rows: int, cfg: Any, processes: int = 1) -> int:
    """The optimizer steps a run of ``rows`` training rows takes: ``max_steps``, else as
    transformers' Trainer counts them (per-process batches of the sampler, accelerate's even
    batches, over gradient accumulation, times the epochs, rounded up)."""
    if cfg.max_steps > 0:
        return int(cfg.max_steps)
    batches = math.ceil(rows / (cfg.per_device_train_batch_size * processes))
    per_epoch = max(math.ceil(batches / cfg.gradient_accumulation_steps), 1)
    return math.ceil(cfg.num_train_epochs * per_epoch)


def mirror_ascent_step(
    log_weights: np.ndarray,
    losses: np.ndarray,
    step_size: float,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """(G5) in log space: log α + η·L̂, renormalised so that Σ α = 1; with ``present`` (a bool
    per group: has rows in the batch) (G5′): the absent groups keep their log α and the present
    ones are renormalised to the mass they had (nothing moves when no group is present)."""
    logw = np.asarray(log_weights, dtype=np.float64)
    z = logw + float(step_size) * np.asarray(losses, dtype=np.float64)
    if present is None or np.all(present):
        return z - _logsumexp(z)
    awake = np.asarray(present, dtype=bool)
    out = logw.copy()
    if awake.any():
        out[awake] = z[awake] - _logsumexp(z[awake]) + _logsumexp(logw[awake])
    return out


@dataclass(frozen=True)
class GroupRobustState:
    """The group weights of a group-robust run after ``step`` optimizer steps.

    ``names`` are the groups (sorted), ``shares`` their π_g, ``log_weights`` log α_g (float64),
    ``step_size`` η. ``last_losses`` are the L̂_g of the latest step (for the log)."""

    names: tuple[str, ...]
    shares: np.ndarray
    log_weights: np.ndarray
    step_size: float
    init: str = "uniform"
    step: int = 0
    last_losses: np.ndarray | None = field(default=None, compare=False)

    @classmethod
    def start(
        cls, groups: Sequence[str], weights: Sequence[float], step_size: float, init: str
    ) -> GroupRobustState:
        """The state before the first step, from the training rows' groups and weights."""
        names, shares = group_shares(groups, weights)
        return cls(tuple(names), shares, initial_log_weights(shares, init), float(step_size), init)

    @property
    def weights(self) -> np.ndarray:
        """α (sums to 1)."""
        return np.exp(self.log_weights)

    def factors(self, group_weights: np.ndarray) -> np.ndarray:
        """α_g·W_B/W_{B,g} for a batch whose per-group weights are ``group_weights`` (G4)."""
        return row_factors(self.log_weights, group_weights)

    def index(self) -> dict[str, int]:
        return {g: i for i, g in enumerate(self.names)}

    def updated(self, group_sums: np.ndarray, group_weights: np.ndarray) -> GroupRobustState:
        """The state after one optimizer step whose group sums S_g and group weights W_{B,g}
        (over the whole effective batch) are given: (G3) then (G5′) (a group without weight in
        the batch sleeps; its entry of ``last_losses`` is NaN)."""
        losses = group_loss_estimates(group_sums, group_weights)
        present = np.asarray(group_weights, dtype=np.float64) > 0
        return GroupRobustState(
            self.names,
            self.shares,
            mirror_ascent_step(self.log_weights, losses, self.step_size, present),
            self.step_size,
            self.init,
            self.step + 1,
            np.where(present, losses, np.nan),
        )

    def log_row(self) -> dict[str, Any]:
        """One line of ``group_weights.jsonl``."""
        row: dict[str, Any] = {
            "step": self.step,
            "weights": dict(zip(self.names, map(float, self.weights), strict=True)),
        }
        if self.last_losses is not None:  # a group without a row in the step has none
            row["losses"] = {
                g: float(v) for g, v in zip(self.names, self.last_losses, strict=True)
                if not math.isnan(v)
            }
        return row

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "step": self.step,
            "groups": list(self.names),
            "shares": [float(x) for x in self.shares],
            "log_weights": [float(x) for x in self.log_weights],
            "weights": [float(x) for x in self.weights],
            "step_size": self.step_size,
            "init": self.init,
        }

    @classmethod
    def from_dict(cls, obj: Any, where: str) -> GroupRobustState:
        if isinstance(obj, dict) and obj.get("format") in OLD_FORMATS:
            raise InputError(
                "these group weights were stepped with an earlier update of the group weights "
                "(pluralign before December 2026)",
                where=where,
                hint="start the run again instead of resuming it",
            )
        if not isinstance(obj, dict) or obj.get("format") != STATE_FORMAT:
            raise InputError(f"not a {STATE_FORMAT} file", where=where)
        try:
            names = tuple(str(g) for g in obj["groups"])
            shares = np.asarray(obj["shares"], dtype=np.float64)
            log_weights = np.asarray(obj["log_weights"], dtype=np.float64)
            state = cls(
                names,
                shares,
                log_weights,
                float(obj["step_size"]),
                str(obj["init"]),
                int(obj["step"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"unreadable group-robust state ({exc})", where=where) from None
        if not (len(names) == shares.size == log_weights.size) or not np.all(
            np.isfinite(log_weights)
        ):
            raise InputError("inconsistent group-robust state", where=where)
        return state

    def write(self, folder: Path) -> Path:
        """Write ``folder/group_robust.json`` (float64 values round-trip exactly)."""
        from pluralign.io import write_json_atomic

        path = Path(folder) / STATE_FILE
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def read(cls, folder: Path) -> GroupRobustState:
        path = Path(folder) / STATE_FILE
        if not path.is_file():
            raise InputError(
                "this checkpoint has no group weights: it was written by a weighted run",
                where=str(path.parent),
                hint="resume with the objective the run started with",
            )
        from pluralign.io import read_json

        return cls.from_dict(read_json(path, what="group weights"), str(path))

    def check_resumable(self, fresh: GroupRobustState, where: str) -> None:
        """A checkpoint's state must belong to the same groups, shares and step size as the run
        being resumed (else the resumed run would optimise another objective)."""
        same = (
            self.names == fresh.names
            and np.allclose(self.shares, fresh.shares, rtol=1e-12, atol=0)
            and self.step_size == fresh.step_size
            and self.init == fresh.init
        )
        if not same:
            raise InputError(
                "the checkpoint's group weights belong to other groups or settings "
                f"(groups {list(self.names)}, step size {self.step_size}, init {self.init})",
                where=where,
                hint="resume with the data and group settings the run started with",
            )
