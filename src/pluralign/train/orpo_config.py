"""Hyperparameters of weighted ORPO (Hong et al. 2024, arXiv:2403.07691)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig, _setting


@dataclass
class WeightedORPOConfig(CommonConfig):
    """Weighted Odds-Ratio Preference Optimization (no reference model).

    Per pair, ℓᵢ = L_SFT,i + λ·L_OR,i (paper Eq. 6), with L_SFT,i the mean negative log-likelihood
    of the chosen reply's tokens (Eq. 2) and L_OR,i = −log σ(log odds(y_c|x) − log odds(y_r|x))
    (Eq. 7), odds computed from per-token average log-probabilities as in the authors' code.
    It has no reference model, hence no ``precompute_ref_log_probs`` (setting it is an error).
    """

    method = "orpo"

    beta: float = _setting("beta", "λ: weight of the odds-ratio term against the SFT term.")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (self.beta > 0):
            raise InputError(f"must be > 0, got {self.beta!r}", where="config field 'beta'")
