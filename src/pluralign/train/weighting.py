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
"""

from __future__ import annotations

from typing import Any

import torch

from pluralign.train.losses import weighted_sum


def as_weights(value: Any, device: torch.device | str | None = None) -> torch.Tensor:
    """A batch's ``weight`` entry (tensor or list from a collator) as a float32 tensor."""
    return torch.as_tensor(value, dtype=torch.float32, device=device)


class WeightedCollator:
    """Wrap a TRL collator: same output plus a float32 ``weight`` tensor (one per example)."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.inner([{k: v for k, v in ex.items() if k != "weight"} for ex in examples])
        out["weight"] = torch.tensor([float(ex["weight"]) for ex in examples], dtype=torch.float32)
        return out


class WeightedLossMixin:
    """Mixin placed before a TRL trainer class. Subclasses implement
    ``per_example_losses(model, inputs, weights) -> Tensor`` (one loss per weighted row, in the row
    order of ``weights``; ``inputs`` no longer holds ``weight``) and may log metrics there."""

    loss_is_scaled_for_ga = True

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        if self._signature_columns is not None and "weight" not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, "weight"]

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        batch_samples, _ = super().get_batch_samples(epoch_iterator, num_batches, device)
        total = torch.zeros(1, dtype=torch.float32, device=device)
        for batch in batch_samples:
            total += as_weights(batch["weight"], device).sum()
        if self.accelerator.num_processes > 1:
            total = self.accelerator.gather(total).sum().reshape(1)
        return batch_samples, total[0]

    def per_example_losses(
        self, model, inputs: dict[str, Any], weights: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        device = self.accelerator.device
        weights = as_weights(inputs.pop("weight"), device)
        losses = self.per_example_losses(model, inputs, weights)
        total = weighted_sum(losses, weights.to(losses.device))
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

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad(), self.compute_loss_context_manager():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None
