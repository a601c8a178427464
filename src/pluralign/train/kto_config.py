"""Hyperparameters of weighted KTO (Ethayarajh et al. 2024, arXiv:2402.01306)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _help

KL_ESTIMATES = ("batch", "none")


@dataclass
class WeightedKTOConfig(CommonConfig):
    """Weighted Kahneman-Tversky Optimization on unpaired rows derived from the pairs.

    ``kl_estimate='batch'`` estimates the reference point z₀ as in the paper (§4.1): the
    weighted mean over the micro-batch of log πθ(y'|x) − log πref(y'|x) on mismatched pairs
    (x, y'), clamped at 0 and not back-propagated. ``'none'`` fixes z₀ = 0, which makes the loss
    exactly additive over rows (a batch of size 1 becomes possible).
    """

    method = "kto"

    beta: float = _help("β: strength of the tie to the reference model.", 0.1)
    desirable_weight: float = _help(
        "λ_D: multiplier of the losses of desirable (chosen) rows.", 1.0
    )
    undesirable_weight: float = _help(
        "λ_U: multiplier of the losses of undesirable (rejected) rows.", 1.0
    )
    kl_estimate: str = _help("Reference point z₀: 'batch' (paper) or 'none' (z₀ = 0).", "batch")
    learning_rate: float = _help("Peak learning rate of AdamW.", 5e-6)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("beta", "desirable_weight", "undesirable_weight"):
            if not (getattr(self, name) > 0):
                raise InputError(
                    f"must be > 0, got {getattr(self, name)!r}", where=f"config field '{name}'"
                )
        if self.kl_estimate not in KL_ESTIMATES:
            raise InputError(
                f"unknown kl_estimate {self.kl_estimate!r}",
                where="config field 'kl_estimate'",
                hint="use 'batch' or 'none'",
            )
        if self.kl_estimate == "batch" and self.per_device_train_batch_size < 2:
            raise InputError(
                "kl_estimate 'batch' needs per_device_train_batch_size >= 2 (mismatched pairs come "
                "from the same micro-batch)",
                where="config field 'per_device_train_batch_size'",
                hint="raise the batch size or set kl_estimate: none",
            )
