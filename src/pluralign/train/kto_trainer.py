"""Weighted KTO on TRL's ``KTOTrainer`` (trl 1.16).

Where TRL reduces: ``KTOTrainer._compute_loss`` builds the desirable and undesirable losses inline,
concatenates them (chosen rows first, so no longer in batch order) and returns
``losses.nanmean()``. As for DPO there is no hook before the mean, so the override is the loss
computation; TRL still does the unpairing-free tokenisation, the mismatched KL completions
(rotated within each micro-batch), the collator (wrapped to add ``weight``), the reference model /
PEFT reference, precomputed reference log-probs and the fused LM head call (we call its
``_compute_kl_logps`` and ``compute_ref_log_probs``; :class:`~pluralign.train.logps.
CompletionHeadMixin` makes that head score completion positions only).

The loss is :func:`pluralign.train.losses.kto_losses` per row, in batch order, reduced to
Σ wᵢ·ℓᵢ / Σ wᵢ over the effective batch. The reference point z₀ is the *weighted* mean KL
estimate over the micro-batch on all processes
(:func:`~pluralign.train.losses.kto_reference_point`),
so the population weights also define the distribution the KL is taken under. z₀ is a batch
statistic: with ``kl_estimate='batch'`` removing a row changes the KL pairs of its neighbour, so
"weight 0 = row absent" holds exactly only with ``kl_estimate='none'`` (z₀ = 0).
"""

from __future__ import annotations

from typing import Any

import torch
from trl import KTOTrainer

from pluralign.train.logps import CompletionHeadMixin
from pluralign.train.losses import kto_losses
from pluralign.train.weighting import WeightedCollator, WeightedLossMixin


class WeightedKTOTrainer(CompletionHeadMixin, WeightedLossMixin, KTOTrainer):
    """``KTOTrainer`` with per-row weights. ``kl_estimate``: ``'batch'`` (paper) or ``'none'``.

    With ``'none'`` pass ``args.loss_type='apo_zero_unpaired'`` so TRL skips building the KL
    completions (that is the only effect of TRL's ``loss_type`` here: the loss is always KTO's).
    """

    _tag_names = ["trl", "kto", "pluralign-weighted"]

    def __init__(self, *args: Any, kl_estimate: str = "batch", **kwargs: Any):
        super().__init__(*args, **kwargs)
        if kl_estimate not in ("batch", "none"):
            raise ValueError(f"kl_estimate must be 'batch' or 'none', got {kl_estimate!r}")
        if kl_estimate == "batch" and not self.calculate_KL:
            raise ValueError("kl_estimate='batch' needs args.loss_type='kto'")
        self.kl_estimate = kl_estimate
        if self.aux_loss_enabled:
            raise ValueError("weighted KTO does not support MoE auxiliary losses yet")
        self.data_collator = WeightedCollator(self.data_collator)
        self.install_completion_head()

    def _z0(self, kl_logps, ref_kl_logps, weights) -> torch.Tensor:
        if self.kl_estimate == "none":
            return torch.zeros((), device=weights.device)
        kl = (kl_logps - ref_kl_logps).detach()
        num = self.accelerator.gather((weights * kl).sum().reshape(1)).sum()
        den = self.accelerator.gather(weights.sum().reshape(1)).sum()
        if den <= 0:
            return torch.zeros((), device=weights.device)
        return (num / den).clamp(min=0)

    def per_example_losses(
        self, model, inputs: dict[str, Any], weights: torch.Tensor
    ) -> torch.Tensor:
        mode = "train" if self.model.training else "eval"
        batch = inputs
        kl_logps = self._compute_kl_logps(model, batch) if self.calculate_KL else None
        labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
        outputs = model(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            labels=labels,
            use_cache=False,
            fused_lm_head=True,
        )
        seq_len = batch["input_ids"].size(1) - 1
        logps = outputs.log_probs[:, -seq_len:].sum(-1)

        if self.precompute_ref_logps:
            ref_logps, ref_kl_logps = batch["ref_logps"], batch.get("ref_KL_logps")
        else:
            ref_model = self.ref_model if self.ref_model is not None else self.model
            ref_logps, ref_kl_logps = self.compute_ref_log_probs(ref_model, batch)
        z0 = self._z0(kl_logps, ref_kl_logps, weights)
        desirable = torch.as_tensor(batch["label"], dtype=torch.bool, device=logps.device)
        losses = kto_losses(
            logps,
            ref_logps,
            desirable,
            z0,
            self.beta,
            self.desirable_weight,
            self.undesirable_weight,
        )

        gather = self.accelerator.gather_for_metrics
        rewards = self.beta * (logps - ref_logps).detach()
        m = self._metrics[mode]
        m["kl"].append(float(z0))
        all_rewards, all_desirable = gather(rewards), gather(desirable)
        if all_desirable.any():
            m["rewards/chosen"].append(all_rewards[all_desirable].mean().item())
        if (~all_desirable).any():
            m["rewards/rejected"].append(all_rewards[~all_desirable].mean().item())
        if all_desirable.any() and (~all_desirable).any():
            m["rewards/margins"].append(m["rewards/chosen"][-1] - m["rewards/rejected"][-1])
        if mode == "train":
            self._total_train_tokens += gather(batch["attention_mask"].sum()).sum().item()
        m["num_tokens"] = [self._total_train_tokens]
        return losses
