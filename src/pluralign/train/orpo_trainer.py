"""Weighted ORPO on TRL's experimental ``ORPOTrainer`` (trl 1.16, ``trl.experimental.orpo``).

Where TRL reduces: ``ORPOTrainer.concatenated_forward`` already averages the SFT term over all
tokens of the micro-batch (``nn.CrossEntropyLoss()`` on the flattened chosen sequences), and
``get_batch_loss_metrics`` returns ``policy_nll_loss - losses.mean()``. Both are batch means, so
the per-pair loss must be formed from the forward pass itself: this class keeps TRL's dataset
tokenisation (chat template, labels with the prompt masked), its collator (wrapped to add
``weight``), ``concatenated_inputs`` and ``get_batch_logps``, and replaces the two reductions
with the per-pair ORPO loss of :func:`pluralign.train.losses.orpo_losses`, then
Σ wᵢ·ℓᵢ / Σ wᵢ over the effective batch.

One deliberate difference from TRL: the SFT term is the mean NLL of the *chosen reply's* tokens
(paper Eq. 2, L_SFT over y_w given x), where TRL also counts the prompt tokens.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from trl.experimental.orpo import ORPOTrainer

from pluralign.train.losses import log1mexp, orpo_losses
from pluralign.train.weighting import WeightedCollator, WeightedLossMixin


class WeightedORPOTrainer(WeightedLossMixin, ORPOTrainer):
    """``ORPOTrainer`` with per-pair weights (``args.beta`` is ORPO's λ)."""

    _tag_names = ["trl", "orpo", "pluralign-weighted"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.is_encoder_decoder:
            raise ValueError("weighted ORPO supports decoder-only models")
        self.data_collator = WeightedCollator(self.data_collator)

    def per_example_losses(
        self, model, inputs: dict[str, Any], weights: torch.Tensor
    ) -> torch.Tensor:
        train_eval = "train" if self.model.training else "eval"
        ctx = (
            torch.autocast(self.accelerator.device.type)
            if getattr(self, "_peft_has_been_casted_to_bf16", False)
            else nullcontext()
        )
        with ctx:
            batch = self.concatenated_inputs(
                inputs,
                is_encoder_decoder=False,
                padding_value=self.padding_value,
                device=self.accelerator.device,
            )
            n = inputs["chosen_labels"].shape[0]
            outputs = model(
                batch["concatenated_input_ids"],
                attention_mask=batch["concatenated_attention_mask"],
                use_cache=False,
            )
            avg_logps = self.get_batch_logps(
                outputs.logits, batch["concatenated_labels"], average_log_prob=True
            )
        chosen, rejected = avg_logps[:n], avg_logps[n:]
        losses = orpo_losses(chosen, rejected, -chosen, self.beta)

        gather = self.accelerator.gather_for_metrics
        with torch.no_grad():
            log_odds = (chosen - rejected) - (log1mexp(chosen) - log1mexp(rejected))
            chosen_rewards, rejected_rewards = (
                self.beta * chosen.detach(),
                self.beta * rejected.detach(),
            )
            prefix = "eval_" if train_eval == "eval" else ""
            self.store_metrics(
                {
                    f"{prefix}rewards/chosen": gather(chosen_rewards).mean().item(),
                    f"{prefix}rewards/rejected": gather(rejected_rewards).mean().item(),
                    f"{prefix}rewards/margins": gather(chosen_rewards - rejected_rewards)
                    .mean()
                    .item(),
                    f"{prefix}rewards/accuracies": gather(
                        (chosen_rewards > rejected_rewards).float()
                    )
                    .mean()
                    .item(),
                    f"{prefix}nll_loss": gather(-chosen.detach()).mean().item(),
                    f"{prefix}log_odds_chosen": gather(log_odds).mean().item(),
                },
                train_eval=train_eval,
            )
        return losses.to(self.args.device)
