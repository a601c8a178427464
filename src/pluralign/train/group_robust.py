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
micro-batches, all processes) of total weight W_B = Σ_{i∈B} wᵢ. With π_g = W_g / W the group's
share of the whole training weight W, the step's estimate of L_g and the step's loss are::

    L̂_g = Σ_{i∈B∩g} wᵢ·ℓᵢ / (π_g · W_B)                                                    (G3)
    L_B = Σ_g α_g·L̂_g = Σ_{i∈B} wᵢ·(α_{gᵢ}/π_{gᵢ})·ℓᵢ / W_B                                (G4)

For unit weights and a batch of one pair this is exactly Algorithm 1's importance-weighted
sample loss N·l/N_g (and its θ-step coefficient N·α_g/N_g); for larger batches it is the same
estimator averaged over the batch. (G4) is the weighted loss with each row's weight multiplied by
α_g/π_g and the normaliser W_B left unchanged, so the trainers keep their exact normalisation over
accumulation and processes (docs/training.md §1). With α = π (``group_weights_init:
proportional``) and η = 0, (G4) is the weighted loss exactly, for any number of groups.

**Mirror ascent on α** (Ramesh et al. Algorithm 1, the exponentiated-gradient step on the
simplex, i.e. mirror ascent with the entropy mirror map)::

    α_g ← α_g · exp(η · L̂_g),    α ← α / Σ_h α_h                                            (G5)

computed in log space (log α ← log α + η·L̂ − logsumexp(log α + η·L̂)) in float64. η is the
``group_step_size``: per optimizer step, a group's log-weight grows by η times its loss estimate.

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
]
STATE_FILE = "group_robust.json"
STATE_FORMAT = "pluralign.group_robust/1"


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


def group_loss_estimates(
    group_sums: np.ndarray, shares: np.ndarray, batch_weight: float
) -> np.ndarray:
    """L̂_g = S_g / (π_g · W_B) of (G3), with S_g = Σ_{i∈B∩g} wᵢ·ℓᵢ (0 for a group not in B)."""
    sums = np.asarray(group_sums, dtype=np.float64)
    if batch_weight <= 0:
        return np.zeros_like(sums)
    return sums / (np.asarray(shares, dtype=np.float64) * float(batch_weight))


def mirror_ascent_step(log_weights: np.ndarray, losses: np.ndarray, step_size: float) -> np.ndarray:
    """(G5) in log space: log α + η·L̂, renormalised so that Σ α = 1."""
    z = np.asarray(log_weights, dtype=np.float64) + float(step_size) * np.asarray(
        losses, dtype=np.float64
    )
    top = z.max()
    return z - (top + math.log(np.exp(z - top).sum()))


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

    def factors(self) -> np.ndarray:
        """α_g / π_g: the multiplier of a row's weight in (G4)."""
        return self.weights / self.shares

    def index(self) -> dict[str, int]:
        return {g: i for i, g in enumerate(self.names)}

    def updated(self, group_sums: np.ndarray, batch_weight: float) -> GroupRobustState:
        """The state after one optimizer step whose group sums S_g (over the whole effective
        batch) and weight W_B are given: (G3) then (G5)."""
        losses = group_loss_estimates(group_sums, self.shares, batch_weight)
        return GroupRobustState(
            self.names,
            self.shares,
            mirror_ascent_step(self.log_weights, losses, self.step_size),
            self.step_size,
            self.init,
            self.step + 1,
            losses,
        )

    def log_row(self) -> dict[str, Any]:
        """One line of ``group_weights.jsonl``."""
        row: dict[str, Any] = {
            "step": self.step,
            "weights": dict(zip(self.names, map(float, self.weights), strict=True)),
        }
        if self.last_losses is not None:
            row["losses"] = dict(zip(self.names, map(float, self.last_losses), strict=True))
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
