"""Weighted DPO on TRL's ``DPOTrainer`` (trl 1.16).

Where TRL reduces: ``DPOTrainer._compute_loss`` computes the per-sequence losses inline and ends
with ``loss += per_sequence_loss.mean() * loss_weight`` (trl/trainer/dpo_trainer.py, the line after
the WPO branch); there is no hook between the per-pair loss and the mean. So the narrowest override
is the loss computation itself. Everything else is TRL's: dataset preparation and chat-template
tokenisation, the collator (wrapped to add ``weight``), the reference model or PEFT
adapter-disabled reference via ``compute_ref_log_probs``, precomputed reference log-probs, the
fused LM head call that yields per-token log-probabilities (pluralign puts
:func:`pluralign.train.logps.add_completion_head` behind it, so the LM head only runs at completion
positions, in TRL's reference pass too), PEFT/QLoRA,
DeepSpeed/FSDP preparation, checkpointing and logging. The loss itself is
:func:`pluralign.train.losses.dpo_losses` (DPO Eq. 7) reduced by
:class:`~pluralign.train.weighting.WeightedLossMixin` to Σ wᵢ·ℓᵢ / Σ wᵢ over the effective batch.
"""

from __future__ import annotations

from typing import Any

import torch
from trl import DPOTrainer

from pluralign.train.logps import CompletionHeadMixin
from pluralign.train.losses import dpo_losses
from pluralign.train.weighting import WeightedCollator, WeightedLossMixin

_NON_MODEL_KEYS = {"completion_mask", "ref_chosen_logps", "ref_rejected_logps", "forward_share"}


class WeightedDPOTrainer(CompletionHeadMixin, WeightedLossMixin, DPOTrainer):
    """``DPOTrainer`` whose loss is the per-pair weighted mean (see module docstring).

    ``args`` is a ``trl.DPOConfig``; ``args.loss_type`` must be a single one of
    ``sigmoid`` (DPO), ``ipo`` or ``hinge``. The dataset needs a numeric ``weight`` column.
    ``sft_weight`` > 0 adds α times the chosen reply's mean token NLL to each pair's loss (RPO).
    A row folded with its reverse pair (``forward_share`` column, :func:`pluralign.train.rows.
    merge_reverses`) has the loss s·ℓ(h) + (1 − s)·ℓ(−h) (and the NLL of each order's preferred
    reply, mixed the same way): one forward pass serves both orders.
    """

    _tag_names = ["trl", "dpo", "pluralign-weighted"]

    def __init__(self, *args: Any, sft_weight: float = 0.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sft_weight = float(sft_weight)
        if len(self.loss_types) != 1 or self.loss_types[0] not in ("sigmoid", "ipo", "hinge"):
            raise ValueError(
                f"weighted DPO supports one loss_type of sigmoid/ipo/hinge, got {self.loss_types}"
            )
        if (
            self.ld_alpha is not None
            or self.f_divergence_type != "reverse_kl"
            or self.use_weighting
        ):
            raise ValueError(
                "weighted DPO does not support ld_alpha, f-divergences or WPO weighting"
            )
        if self.aux_loss_enabled:
            raise ValueError("weighted DPO does not support MoE auxiliary losses yet")
        self.data_collator = WeightedCollator(self.data_collator)
        self.install_completion_head()

    def per_example_losses(
        self, model, inputs: dict[str, Any], weights: torch.Tensor
    ) -> torch.Tensor:
        mode = "train" if self.model.training else "eval"
        model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        model_kwargs["use_cache"] = False
        completion_mask = inputs["completion_mask"]
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        seq_len = completion_mask.size(1) - 1
        logps = outputs.log_probs[:, -seq_len:].sum(dim=1)
        chosen_logps, rejected_logps = logps.chunk(
            2, dim=0
        )  # the collator stacks [chosen; rejected]

        if self.precompute_ref_logps:
            ref_chosen_logps, ref_rejected_logps = (
                inputs["ref_chosen_logps"],
                inputs["ref_rejected_logps"],
            )
        else:
            ref_model = self.ref_model if self.ref_model is not None else self.model
            ref_chosen_logps, ref_rejected_logps = self.compute_ref_log_probs(ref_model, inputs)
        lengths = completion_mask[:, 1:].sum(dim=1)
        chosen_len, rejected_len = lengths.chunk(2, dim=0)
        losses = dpo_losses(
            chosen_logps,
            rejected_logps,
            ref_chosen_logps,
            ref_rejected_logps,
            beta=self.beta,
            loss_type=self.loss_types[0],
            chosen_lengths=chosen_len,
            rejected_lengths=rejected_len,
        )
        nll = -chosen_logps / chosen_len.clamp(min=1)
        share = inputs.get("forward_share")
        if share is not None:  # a pair folded with its reverse (rows.merge_reverses)
            share = share.to(losses)
            reverse = dpo_losses(
                rejected_logps,
                chosen_logps,
                ref_rejected_logps,
                ref_chosen_logps,
                beta=self.beta,
                loss_type=self.loss_types[0],
                chosen_lengths=rejected_len,
                rejected_lengths=chosen_len,
            )
            nll_reverse = -rejected_logps / rejected_len.clamp(min=1)
            # each order's own loss, for the group-robust objective's group sums (weighting.py)
            self._directional = (
                (losses + self.sft_weight * nll).detach(),
                (reverse + self.sft_weight * nll_reverse).detach(),
            )
            losses = share * losses + (1 - share) * reverse
            nll = share * nll + (1 - share) * nll_reverse
        if self.sft_weight:  # RPO: + α · mean token NLL of the preferred reply
            losses = losses + self.sft_weight * nll
            self._metrics[mode]["nll_loss"].append(
                self.accelerator.gather_for_metrics(nll.detach()).mean().item()
            )

        gather = self.accelerator.gather_for_metrics
        chosen_rewards = self.beta * (chosen_logps - ref_chosen_logps).detach()
        rejected_rewards = self.beta * (rejected_logps - ref_rejected_logps).detach()
        m = self._metrics[mode]
        m["rewards/chosen"].append(gather(chosen_rewards).mean().item())
        m["rewards/rejected"].append(gather(rejected_rewards).mean().item())
        m["rewards/margins"].append(gather(chosen_rewards - rejected_rewards).mean().item())
        m["rewards/accuracies"].append(
            gather((chosen_rewards > rejected_rewards).float()).mean().item()
        )
        m["logps/chosen"].append(gather(chosen_logps.detach()).mean().item())
        m["logps/rejected"].append(gather(rejected_logps.detach()).mean().item())
        if mode == "train":
            self._total_train_tokens += gather(inputs["attention_mask"].sum()).sum().item()
        m["num_tokens"] = [self._total_train_tokens]
        return losses
