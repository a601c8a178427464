"""Hyperparameters of weighted KTO (Ethayarajh et al. 2024, arXiv:2402.01306)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _setting
from pluralign.train.settings import KL_ESTIMATES


@dataclass
class WeightedKTOConfig(CommonConfig):
    """Weighted Kahneman-Tversky Optimization on unpaired rows derived from the pairs.

    ``kl_estimate='batch'`` estimates the reference point z₀ as in the paper (§4.1): the
    weighted mean over the micro-batch of log πθ(y'|x) − log πref(y'|x) on mismatched pairs
    (x, y'), clamped at 0 and not back-propagated. ``'none'`` fixes z₀ = 0, which makes the loss
    exactly additive over rows (a batch of size 1 becomes possible).
    """

    method = "kto"

    beta: float = _setting("beta", "β: strength of the tie to the reference model.")
    desirable_weight: float = _setting("desirable_weight")
    undesirable_weight: float = _setting("undesirable_weight")
    kl_estimate: str = _setting("kl_estimate")
    precompute_ref_log_probs: bool = _setting("precompute_ref_log_probs")

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
