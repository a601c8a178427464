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
Each row also carries ``group_index``. ``get_batch_samples`` also sums each group's weight
W_{B,g} over the prefetched micro-batches and across processes; the micro-batch's share becomes
P · Σ_{i∈micro} wᵢ·(α_{gᵢ}·W/W_{B,gᵢ})·ℓᵢ / W (its Eq. G4), and the detached sums Σ wᵢ·ℓᵢ per
group are added up over the step's micro-batches. When the optimizer step ends they are summed
across processes and the group weights take one mirror-ascent step (G3, G5) with the W_{B,g},
identically on every process.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from pluralign.train.losses import weighted_sum


def as_weights(value: Any, device: torch.device | str | None = None) -> torch.Tensor:
    """A batch's ``weight`` entry (tensor or list from a collator) as a float32 tensor."""
    return torch.as_tensor(value, dtype=torch.float32, device=device)


EXTRA = ("weight", "group_index", "forward_share")
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
        if examples and "group_index" in examples[0]:
            out["group_index"] = torch.tensor(
                [int(ex["group_index"]) for ex in examples], dtype=torch.long
            )
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
            index = torch.as_tensor(batch["group_index"], dtype=torch.long, device=device)
            sums.index_add_(0, index, as_weights(batch["weight"], device).to(torch.float64))
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
        group_index = inputs.pop("group_index", None)
        losses = self.per_example_losses(model, inputs, weights)
        if self.group_robust is None:
            total = weighted_sum(losses, weights.to(losses.device))
        else:
            total = self._group_robust_sum(losses, weights.to(losses.device), group_index)
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

    def _group_robust_sum(self, losses, weights, group_index) -> torch.Tensor:
        """Σ wᵢ·(α_{gᵢ}·W_B/W_{B,gᵢ})·ℓᵢ (G4), with the step's W_{B,g} (outside training: this
        batch's own); in training also adds Σ wᵢ·ℓᵢ per group to the step's sums for the
        mirror-ascent step."""
        state = self.group_robust
        if group_index is None:
            raise ValueError("the group-robust objective needs a group_index column")
        index = torch.as_tensor(group_index, dtype=torch.long, device=losses.device)
        group_weights = self._gr_group_weights if self.model.training else None
        if group_weights is None:
            own = torch.zeros(len(state.names), dtype=torch.float64, device=losses.device)
            own.index_add_(0, index, weights.detach().to(torch.float64))
            group_weights = own.cpu().numpy()
        factors = torch.as_tensor(
            state.factors(group_weights), dtype=losses.dtype, device=losses.device
        )
        total = weighted_sum(losses, weights * factors[index])
        if self.model.training:
            per_row = torch.where(weights > 0, weights * losses.detach(), torch.zeros_like(losses))
            sums = torch.zeros(len(state.names), dtype=torch.float64, device=losses.device)
            sums.index_add_(0, index, per_row.to(torch.float64))
            self._gr_sums = sums if self._gr_sums is None else self._gr_sums + sums
        return total

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
            start = trainer.group_robust.step  # the resumed checkpoint's step (0: a new run)
            old = path.read_text().splitlines() if path.exists() else []
            kept = [ln for ln in old if ln.strip() and json.loads(ln)["step"] <= start]
            if not kept:
                kept = [json.dumps(trainer.group_robust.log_row())]
            path.write_text("".join(ln + "\n" for ln in kept))

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
