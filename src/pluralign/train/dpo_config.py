"""Hyperparameters of weighted DPO (Rafailov et al. 2023, arXiv:2305.18290)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _help

DPO_LOSS_TYPES = ("sigmoid", "ipo", "hinge")


@dataclass
class WeightedDPOConfig(CommonConfig):
    """Weighted Direct Preference Optimization.

    ``loss_type`` picks the per-pair loss ℓᵢ: ``sigmoid`` is DPO itself (Eq. 7 of the paper),
    ``ipo`` is IPO (Azar et al. 2023, arXiv:2310.12036, Eq. 17, with TRL's per-token averaging),
    ``hinge`` is SLiC's hinge (Zhao et al. 2023, arXiv:2305.10425). Whatever ℓᵢ, the batch loss is
    Σ wᵢ·ℓᵢ / Σ wᵢ.
    """

    method = "dpo"

    beta: float = _help(
        "β: strength of the KL tie to the reference model (higher: stay closer).", 0.1
    )
    loss_type: str = _help(f"Per-pair loss, one of {', '.join(DPO_LOSS_TYPES)}.", "sigmoid")
    learning_rate: float = _help("Peak learning rate of AdamW.", 5e-6)
    sft_weight: float = _help(
        "α of a negative log-likelihood term on the chosen reply added to each pair's loss, "
        "ℓᵢ + α·(−log π(y_c|x) / |y_c|) (RPO, Pang et al. 2024, arXiv:2404.19733); it keeps "
        "DPO from lowering the likelihood of what people chose. 0 disables it.",
        0.0,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.sft_weight >= 0):
            raise InputError(
                f"must be >= 0, got {self.sft_weight!r}", where="config field 'sft_weight'"
            )
        if not (self.beta > 0):
            raise InputError(f"must be > 0, got {self.beta!r}", where="config field 'beta'")
        if self.loss_type not in DPO_LOSS_TYPES:
            raise InputError(
                f"unknown DPO loss_type {self.loss_type!r}",
                where="config field 'loss_type'",
                hint=f"use one of {', '.join(DPO_LOSS_TYPES)}",
            )
