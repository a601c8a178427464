"""Hyperparameters of weighted DPO (Rafailov et al. 2023, arXiv:2305.18290)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _setting
from pluralign.train.settings import DPO_LOSS_TYPES


@dataclass
class WeightedDPOConfig(CommonConfig):
    """Weighted Direct Preference Optimization.

    ``loss_type`` picks the per-pair loss ℓᵢ: ``sigmoid`` is DPO itself (Eq. 7 of the paper),
    ``ipo`` is IPO (Azar et al. 2023, arXiv:2310.12036, Eq. 17, with TRL's per-token averaging),
    ``hinge`` is SLiC's hinge (Zhao et al. 2023, arXiv:2305.10425). Whatever ℓᵢ, the batch loss is
    Σ wᵢ·ℓᵢ / Σ wᵢ.
    """

    method = "dpo"

    beta: float = _setting(
        "beta", "β: strength of the KL tie to the reference model (higher: stay closer).")
    loss_type: str = _setting("loss_type", f"Per-pair loss, one of {', '.join(DPO_LOSS_TYPES)}.")
    sft_weight: float = _setting("sft_weight")
    precompute_ref_log_probs: bool = _setting("precompute_ref_log_probs")

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
