"""Hyperparameters of weighted ORPO (Hong et al. 2024, arXiv:2403.07691)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _help


@dataclass
class WeightedORPOConfig(CommonConfig):
    """Weighted Odds-Ratio Preference Optimization (no reference model).

    Per pair, ℓᵢ = L_SFT,i + λ·L_OR,i (paper Eq. 6), with L_SFT,i the mean negative log-likelihood
    of the chosen reply's tokens (Eq. 2) and L_OR,i = −log σ(log odds(y_c|x) − log odds(y_r|x))
    (Eq. 7), odds computed from per-token average log-probabilities as in the authors' code.
    """

    method = "orpo"

    beta: float = _help("λ: weight of the odds-ratio term against the SFT term.", 0.1)
    learning_rate: float = _help("Peak learning rate of AdamW.", 8e-6)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.beta > 0):
            raise InputError(f"must be > 0, got {self.beta!r}", where="config field 'beta'")
        if self.precompute_ref_log_probs:
            raise InputError(
                "ORPO has no reference model",
                where="config field 'precompute_ref_log_probs'",
                hint="remove it",
            )
