"""Per-example preference losses and their weighted reduction (pure torch, no trainer state).

Each function returns one loss per example, *before* any mean, so the trainers can form the
weighted mean

    L = Σᵢ wᵢ·ℓᵢ / Σⱼ wⱼ                                                        (1)

where the denominator runs over the whole effective batch: every micro-batch of one
gradient-accumulation step, on every process. Because (1) is linear in each wᵢ·ℓᵢ, its gradient
is Σᵢ wᵢ·∇ℓᵢ / Σⱼ wⱼ: weight 2 is the same as the example twice, weight 0 the same as the example
absent, whatever the batch size or accumulation. (Normalising within each micro-batch instead, or
within a batch of one example, would change or cancel the weights.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def dpo_losses(
    chosen_logps: torch.Tensor,
    rejected_logps: torch.Tensor,
    ref_chosen_logps: torch.Tensor,
    ref_rejected_logps: torch.Tensor,
    beta: float,
    loss_type: str = "sigmoid",
    chosen_lengths: torch.Tensor | None = None,
    rejected_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """Per-pair DPO-family loss from sequence log-probabilities (summed over reply tokens).

    With hᵢ = (log πθ(y_c|x) − log πref(y_c|x)) − (log πθ(y_r|x) − log πref(y_r|x)):

    - ``sigmoid`` (DPO, Rafailov et al. 2023, Eq. 7): ℓᵢ = −log σ(β·hᵢ)
    - ``hinge`` (SLiC-HF, Zhao et al. 2023): ℓᵢ = max(0, 1 − β·hᵢ)
    - ``ipo`` (Azar et al. 2023, Eq. 17): ℓᵢ = (h̄ᵢ − 1/(2β))², where h̄ᵢ uses per-token averaged
      log-ratios (the normalisation TRL adopted with the IPO authors); needs the lengths.
    """
    chosen_ratio = chosen_logps - ref_chosen_logps
    rejected_ratio = rejected_logps - ref_rejected_logps
    if loss_type == "sigmoid":
        return -F.logsigmoid(beta * (chosen_ratio - rejected_ratio))
    if loss_type == "hinge":
        return torch.relu(1 - beta * (chosen_ratio - rejected_ratio))
    if loss_type == "ipo":
        if chosen_lengths is None or rejected_lengths is None:
            raise ValueError("ipo needs the reply lengths")
        h = chosen_ratio / chosen_lengths.clamp(min=1) - rejected_ratio / rejected_lengths.clamp(
            min=1
        )
        return (h - 1 / (2 * beta)) ** 2
    raise ValueError(f"unknown DPO loss_type {loss_type!r}")


def kto_losses(
    logps: torch.Tensor,
    ref_logps: torch.Tensor,
    desirable: torch.Tensor,
    z0: torch.Tensor | float,
    beta: float,
    desirable_weight: float = 1.0,
    undesirable_weight: float = 1.0,
) -> torch.Tensor:
    """Per-row KTO loss (Ethayarajh et al. 2024, Eq. 8 with v(x, y) of Eq. 7 and the reference
    point z₀ detached):

        r(x, y) = log πθ(y|x) − log πref(y|x)
        ℓ = λ_D · (1 − σ(β·(r − z₀)))   for a desirable row,
        ℓ = λ_U · (1 − σ(β·(z₀ − r)))   for an undesirable row.

    (The paper's loss is λ_y − v(x, y); the constant λ_y does not change gradients, and TRL omits
    it too, so ℓ here is the paper's loss minus λ_y.)
    """
    ratio = logps - ref_logps
    desirable = desirable.to(torch.bool)
    gain = desirable_weight * (1 - torch.sigmoid(beta * (ratio - z0)))
    pain = undesirable_weight * (1 - torch.sigmoid(beta * (z0 - ratio)))
    return torch.where(desirable, gain, pain)


def kto_reference_point(kl_logratios: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted local estimate of z₀ = KL(πθ‖πref) from mismatched pairs (x, y'):
    max(0, Σ wᵢ·(log πθ(y'ᵢ|xᵢ) − log πref(y'ᵢ|xᵢ)) / Σ wᵢ), detached (paper §4.1). Returns 0
    when every weight is 0."""
    kl_logratios = kl_logratios.detach()
    total = weights.sum()
    if total <= 0:
        return torch.zeros((), dtype=kl_logratios.dtype, device=kl_logratios.device)
    return ((weights * kl_logratios).sum() / total).clamp(min=0)


def log1mexp(x: torch.Tensor) -> torch.Tensor:
    """log(1 − exp(x)) for x < 0, stable on both sides of −log 2 (Mächler 2012)."""
    return torch.where(
        x < -0.6931471805599453, torch.log1p(-torch.exp(x)), torch.log(-torch.expm1(x))
    )


def orpo_losses(
    chosen_avg_logps: torch.Tensor,
    rejected_avg_logps: torch.Tensor,
    chosen_nll: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """Per-pair ORPO loss (Hong et al. 2024, Eq. 6): ℓᵢ = L_SFT,i + λ·L_OR,i with

        L_OR = −log σ( log odds(y_c|x) − log odds(y_r|x) ),   odds(y|x) = P/(1 − P)    (Eq. 7, 4)

    where log P is the per-token average log-probability of the reply and L_SFT,i the mean
    token negative log-likelihood of the chosen reply (Eq. 2).
    """
    c = chosen_avg_logps.float()
    r = rejected_avg_logps.float()
    log_odds = (c - r) - (log1mexp(c) - log1mexp(r))
    return chosen_nll - lam * F.logsigmoid(log_odds)


def weighted_sum(losses: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Σ wᵢ·ℓᵢ; the trainers divide by the effective batch's weight sum. A row with weight 0 adds
    exactly 0 even if its loss is not finite."""
    weights = weights.to(losses.dtype)
    return torch.where(weights > 0, weights * losses, torch.zeros_like(losses)).sum()
