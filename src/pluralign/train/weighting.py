"""The part every weighted trainer shares: carry ``weight`` through TRL's data pipeline and
normalise the loss by the weight sum of the whole effective batch.

How transformers' Trainer scales losses (5.x, ``Trainer.training_step``): ``compute_loss`` gets
``num_items_in_batch``, the normaliser of the whole accumulated batch that ``get_batch_samples``
computed after prefetching all micro-batches of one optimizer step. When the class attribute
``loss_is_scaled_for_ga`` is True the returned loss is back-propagated as is; otherwise it is
divided by the number of micro-batches (which is what TRL's DPO/KTO/ORPO trainers ask for: their
loss is a per-micro-batch mean, so the step's objective is a mean of micro-batch means).

The weighted trainers instead:

1. override ``get_batch_samples`` to return W = Σⱼ wⱼ over all prefetched micro-batches, summed
   across processes (``accelerator.gather``), as ``num_items_in_batch``;
2. return from ``compute_loss`` the micro-batch's share  P · Σ_{i∈micro} wᵢ·ℓᵢ / W  with
   ``loss_is_scaled_for_ga = True``, where P is the number of processes: DDP and DeepSpeed
   average gradients over processes, so the factor P turns that average into the sum over all
   processes' shares.

Summed over the micro-batches and averaged over processes, the gradient is exactly that of
Σᵢ wᵢ·ℓᵢ / W over the effective batch, also when the last accumulation step of an epoch is short
(W is recomputed per step from the batches actually fetched).

**The short last batch of an epoch on several processes.** accelerate's ``even_batches`` (on in
the Trainer) gives every process a full batch at the end of an epoch by repeating rows from the
start of the data, so that step would count those rows a second time and its objective would
depend on the number of processes. ``get_batch_samples`` gives the repeats weight 0: accelerate's
gradient state records, for the final batch of the data loader, how many of the global batch's
rows are real (``remainder``, the rows ``gather_for_metrics`` keeps); in process-major order the
first ``remainder`` rows are the real ones, so row j of process p is a repeat when
p·b + j ≥ remainder (b the per-process batch size). With one process there are no repeats.

**Group-robust objective** (``objective: group-robust``, :mod:`pluralign.train.group_robust`).
Each row also carries each group's weight on it, ``group_weight`` (w⁺_{i,g}, on chosen ≻
rejected) and ``group_weight_rev`` (w⁻_{i,g}, on the reverse order of a folded row; else 0):
identical pairs of several groups share one row (:func:`pluralign.train.rows.group_rows`).
``get_batch_samples`` also sums each group's weight W_{B,g} = Σᵢ (w⁺_{i,g} + w⁻_{i,g}) over the
prefetched micro-batches and across processes; with the factors f_g = α_g·W/W_{B,g} the
micro-batch's share becomes P · Σ_{i∈micro} (aᵢ·ℓᵢ⁺ + bᵢ·ℓᵢ⁻) / W with aᵢ = Σ_g f_g·w⁺_{i,g},
bᵢ = Σ_g f_g·w⁻_{i,g} (its Eq. G4; for a folded DPO row this is the row's loss with weight
aᵢ + bᵢ and forward share aᵢ/(aᵢ + bᵢ)), and the detached sums S_g = Σᵢ w⁺_{i,g}·ℓᵢ⁺ +
w⁻_{i,g}·ℓᵢ⁻ are added up over the step's micro-batches. When the optimizer step ends they are
summed across processes and the group weights take one mirror-ascent step (G3, G5) with the
W_{B,g}, identically on every process. With one row per pair and group (no merging) this is
Σ_{i∈micro} wᵢ·f_{gᵢ}·ℓᵢ, the same objective.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pluralign.train.losses import weighted_sum


def as_weights(value: Any, device: torch.device | str | None = None) -> torch.Tensor:
    """A batch's ``weight`` entry (tensor or list from a collator) as a float32 tensor."""
    return torch.as_tensor(value, dtype=torch.float32, device=device)


EXTRA = ("weight", "group_weight", "group_weight_rev", "forward_share")
"""Dataset columns the weighted trainers add to TRL's (kept through its preparation)."""


def real_rows(n: int, process: int, remainder: int) -> torch.Tensor:
    """Which of the ``n`` rows of a process's final batch are data, not accelerate's repeats
    (module docstring): row j of process p is real when p·n + j < remainder (remainder ≤ 0: all
    rows are real)."""
    if remainder <= 0:
        return torch.ones(n, dtype=torch.bool)
    return torch.arange(process * n, (process + 1) * n) < remainder


class WeightedCollator:
    """Wrap a TRL collator: same output plus a float32 ``weight`` tensor (one per example)."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.inner([{k: v for k, v in ex.items() if k not in EXTRA} for ex in examples])
        out["weight"] = torch.tensor([float(ex["weight"]) for ex in examples], dtype=torch.float32)
        if examples and "forward_share" in examples[0]:
            out["forward_share"] = torch.tensor(
                [float(ex["forward_share"]) for ex in examples], dtype=torch.float32
            )
        for key in ("group_weight", "group_weight_rev"):
            if examples and key in examples[0]:
                out[key] = torch.tensor([ex[key] for ex in examples], dtype=torch.float64)
        return out


class WeightedLossMixin:
    """Mixin placed before a TRL trainer class. Subclasses implement
    ``per_example_losses(model, inputs, weights) -> Tensor`` (one loss per weighted row, in the row
    order of ``weights``; ``inputs`` no longer holds ``weight``) and may log metrics there."""

    loss_is_scaled_for_ga = True

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        if self._signature_columns is not None:
            missing = [c for c in EXTRA if c not in self._signature_columns]
            self._signature_columns = [*self._signature_columns, *missing]

    group_robust = None
    """A :class:`~pluralign.train.group_robust.GroupRobustState` when the objective is
    group-robust (set by :meth:`enable_group_robust`), else None."""

    def enable_group_robust(self, state, log_path=None) -> None:
        """Train with the group-robust objective from ``state`` (fresh, or read from the
        checkpoint being resumed); ``log_path``: append the group weights after every step."""
        self.group_robust = state
        self._gr_sums = None
        self._gr_group_weights = None  # W_{B,g} of the current optimizer step (float64)
        self.add_callback(_group_robust_callback(self, log_path))

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        batch_samples = []
        gradient_state = self.accelerator.gradient_state
        for _ in range(num_batches):
            try:
                batch = next(epoch_iterator)
            except StopIteration:
                break
            if self.accelerator.num_processes > 1 and gradient_state.end_of_dataloader:
                weights = as_weights(batch["weight"])
                keep = real_rows(
                    weights.numel(), self.accelerator.process_index, gradient_state.remainder
                )
                batch["weight"] = torch.where(
                    keep.to(weights.device), weights, torch.zeros_like(weights)
                )
                for key in ("group_weight", "group_weight_rev"):
                    if key in batch:
                        batch[key] = batch[key] * keep.to(batch[key].device)[:, None]
            batch_samples.append(batch)
        total = torch.zeros(1, dtype=torch.float32, device=device)
        for batch in batch_samples:
            total += as_weights(batch["weight"], device).sum()
        if self.accelerator.num_processes > 1:
            total = self.accelerator.gather(total).sum().reshape(1)
        if self.group_robust is not None:
            self._gr_group_weights = self._step_group_weights(batch_samples, device)
        return batch_samples, total[0]

    def _step_group_weights(self, batch_samples, device):
        """W_{B,g}: each group's weight in the step's micro-batches, summed across processes."""
        sums = torch.zeros(len(self.group_robust.names), dtype=torch.float64, device=device)
        for batch in batch_samples:
            sums += _group_weight_sums(batch, device)
        if self.accelerator.num_processes > 1:
            sums = self.accelerator.gather(sums.reshape(1, -1)).sum(dim=0)
        return sums.cpu().numpy()

    def per_example_losses(
        self, model, inputs: dict[str, Any], weights: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        device = self.accelerator.device
        weights = as_weights(inputs.pop("weight"), device)
        group_w = {k: inputs.pop(k, None) for k in ("group_weight", "group_weight_rev")}
        if self.group_robust is None:
            losses = self.per_example_losses(model, inputs, weights)
            total = weighted_sum(losses, weights.to(losses.device))
        else:
            losses, total = self._group_robust_loss(model, inputs, weights, group_w)
        if num_items_in_batch is None:  # evaluation, or a direct call: this batch on its own
            denom, scale = weights.sum(), 1
        else:
            denom, scale = (
                torch.as_tensor(num_items_in_batch, device=total.device),
                self.accelerator.num_processes,
            )
        loss = total * scale / denom.to(total.dtype).clamp(min=torch.finfo(total.dtype).tiny)
        mode = "train" if self.model.training else "eval"
        metrics = getattr(self, "_metrics", None)
        if metrics is not None:
            metrics[mode]["weight_sum"].append(
                self.accelerator.gather_for_metrics(weights.sum().reshape(1)).sum().item()
            )
        if return_outputs:
            return loss, {"losses": losses.detach(), "weights": weights}
        return loss

    def _group_robust_loss(self, model, inputs, weights, group_w):
        """The per-row losses and Σᵢ aᵢ·ℓᵢ⁺ + bᵢ·ℓᵢ⁻ (G4, module docstring), with the step's
        W_{B,g} (outside training: this batch's own); in training also adds the group sums S_g
        to the step's for the mirror-ascent step."""
        state = self.group_robust
        fwd, rev = group_w["group_weight"], group_w["group_weight_rev"]
        if fwd is None or rev is None:
            raise ValueError("the group-robust objective needs the group_weight columns")
        device = weights.device
        fwd = torch.as_tensor(fwd, dtype=torch.float64, device=device)
        rev = torch.as_tensor(rev, dtype=torch.float64, device=device)
        group_weights = self._gr_group_weights if self.model.training else None
        if group_weights is None:
            group_weights = (fwd + rev).sum(dim=0).cpu().numpy()
        factors = torch.as_tensor(state.factors(group_weights), dtype=torch.float64, device=device)
        a, b = fwd @ factors, rev @ factors
        share = inputs.get("forward_share")
        folded = share is not None
        if folded:  # the row's loss mixes its two orders by the groups' factored weights
            share = torch.as_tensor(share, dtype=torch.float64, device=device)
            inputs = {**inputs, "forward_share": torch.where(
                a + b > 0, a / (a + b).clamp(min=torch.finfo(torch.float64).tiny), share
            ).to(torch.float32)}
        elif bool((rev != 0).any()):
            raise ValueError("reverse-order group weights need rows folded with their reverse")
        self._directional = None
        losses = self.per_example_losses(model, inputs, weights)
        total = weighted_sum(losses, (a + b).to(losses.dtype))
        if self.model.training:
            if folded:
                plus, minus = (x.to(torch.float64) for x in self._directional)
            else:
                plus, minus = losses.detach().to(torch.float64), torch.zeros_like(a)

            def part(w, loss):  # Σᵢ w_{i,g}·ℓᵢ, rows of weight 0 (repeats) left out
                return torch.where(w > 0, w * loss[:, None], torch.zeros_like(w)).sum(dim=0)

            sums = part(fwd, plus) + part(rev, minus)
            self._gr_sums = sums if self._gr_sums is None else self._gr_sums + sums
        return losses, total

    def _finish_group_robust_step(self) -> None:
        """End of an optimizer step: sum the group sums over processes, then one α step (G5)."""
        state = self.group_robust
        sums = self._gr_sums
        if sums is None:  # a step without any training row of this process
            sums = torch.zeros(
                len(state.names), dtype=torch.float64, device=self.accelerator.device
            )
        if self.accelerator.num_processes > 1:
            sums = self.accelerator.gather(sums.reshape(1, -1)).sum(dim=0)
        group_weights = self._gr_group_weights
        if group_weights is None:  # no batch was fetched (a direct call in a test)
            group_weights = np.zeros(len(state.names))
        self.group_robust = state.updated(sums.cpu().numpy(), group_weights)
        self._gr_sums = None
        self._gr_group_weights = None

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if self.group_robust is not None and "loss" in logs:
            row = self.group_robust.log_row()
            logs = {
                **logs,
                **{f"group_weight/{g}": a for g, a in row["weights"].items()},
                **{f"group_loss/{g}": v for g, v in row.get("losses", {}).items()},
            }
        super().log(logs, *args, **kwargs)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None


def _group_weight_sums(batch, device) -> torch.Tensor:
    """Σᵢ (w⁺_{i,g} + w⁻_{i,g}) over one micro-batch's rows: each group's weight in it."""
    fwd = torch.as_tensor(batch["group_weight"], dtype=torch.float64, device=device)
    rev = torch.as_tensor(batch["group_weight_rev"], dtype=torch.float64, device=device)
    return (fwd + rev).sum(dim=0)


def _group_robust_callback(trainer, log_path):
    """A ``TrainerCallback`` that steps the group weights when an optimizer step ends (before
    logging and saving), appends them to the run's ``group_weights.jsonl`` and writes them into
    every checkpoint (``group_robust.json``)."""
    import json
    import os
    from pathlib import Path

    from transformers import TrainerCallback

    path = None if log_path is None else Path(log_path)

    class GroupRobustCallback(TrainerCallback):
        def on_train_begin(self, args, state, control, **kw):
            if path is None or not state.is_world_process_zero:
                return
            from pluralign.io import filter_jsonl, write_jsonl_atomic

            start = trainer.group_robust.step  # the resumed checkpoint's step (0: a new run)
            if not filter_jsonl(path, lambda row: row["step"] <= start):
                write_jsonl_atomic(path, [trainer.group_robust.log_row()])

        def on_step_end(self, args, state, control, **kw):
            trainer._finish_group_robust_step()
            if path is not None and state.is_world_process_zero:
                with path.open("a") as fh:
                    fh.write(json.dumps(trainer.group_robust.log_row()) + "\n")

        def on_save(self, args, state, control, **kw):
            if state.is_world_process_zero:
                folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
                trainer.group_robust.write(Path(folder))

    return GroupRobustCallback()
