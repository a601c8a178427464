"""Log-probabilities of completion tokens only: the LM head runs where a label is scored.

A preference loss needs, per sequence, Σ_t log p(y_t | x, y_<t) over the reply's tokens. The
straightforward way (``log_softmax(logits)`` of the whole ``(batch, length, vocab)`` tensor)
projects every position through the vocabulary, prompt and padding included; with a 49k-token
vocabulary that is a fifth of a small model's forward pass, and TRL's fused head does the same on
CPU (it scores "valid positions only" on CUDA/XPU with Triton, every position elsewhere). Here the
backbone runs once, the hidden states of the positions whose next token is a completion label are
gathered, and only they go through the head:

    log p(y_t) = z_t[y_t] − logsumexp(z_t),     z_t = W h_t (+ b)

in float32, in chunks of :data:`CHUNK` positions (under autograd each chunk is recomputed in
backward, so memory holds one chunk's logits, not all of them).

:func:`add_completion_head` installs this behind TRL's ``fused_lm_head=True`` call, so TRL's own
reference pass (precomputed or per step) and pluralign's weighted loss both use it; models whose
logits are scaled or soft-capped (Gemma 2, Cohere, ...) and calls with ``shift_labels`` keep TRL's
implementation. :func:`sequence_logps` is the same computation for evaluation.
"""

from __future__ import annotations

import functools
import os
import types

import torch

#: Positions projected through the LM head at once.
CHUNK = 2048


def causal_lm(model):
    """The ``*ForCausalLM`` module inside a PEFT wrapper (or the model itself)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _scaled_logits(config) -> bool:
    cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    return any(
        getattr(cfg, name, None) not in (None, 1.0)
        for name in (
            "final_logit_softcapping",
            "logit_scale",
            "logits_scaling",
            "output_multiplier",
            "lm_head_multiplier",
        )
    )


def _chunk_logps(hidden: torch.Tensor, weight, bias, labels: torch.Tensor) -> torch.Tensor:
    logits = torch.nn.functional.linear(hidden, weight, bias).float()
    return logits.gather(-1, labels.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)


def token_logps(hidden: torch.Tensor, head, labels: torch.Tensor) -> torch.Tensor:
    """log p(label) for each row of ``hidden`` (N, H) through ``head`` (an ``nn.Linear``)."""
    weight, bias = head.weight, getattr(head, "bias", None)
    if hidden.shape[0] <= CHUNK:
        return _chunk_logps(hidden, weight, bias, labels)
    from torch.utils.checkpoint import checkpoint

    parts = []
    for start in range(0, hidden.shape[0], CHUNK):
        h, y = hidden[start : start + CHUNK], labels[start : start + CHUNK]
        if torch.is_grad_enabled() and (h.requires_grad or weight.requires_grad):
            parts.append(checkpoint(_chunk_logps, h, weight, bias, y, use_reentrant=False))
        else:
            parts.append(_chunk_logps(h, weight, bias, y))
    return torch.cat(parts)


def completion_token_logps(model, labels: torch.Tensor, **inputs) -> torch.Tensor:
    """Per-token log-probabilities ``(batch, length − 1)`` of ``labels[:, 1:]`` (0 where the label
    is −100) for a causal LM: backbone once, LM head only at scored positions."""
    lm = causal_lm(model)
    inputs["use_cache"] = False
    hidden = lm.base_model(**inputs).last_hidden_state[:, :-1]
    shifted = labels[:, 1:]
    mask = shifted != -100
    per = token_logps(hidden[mask], lm.get_output_embeddings(), shifted[mask])
    return hidden.new_zeros(mask.shape, dtype=per.dtype).masked_scatter(mask, per)


def add_completion_head(model) -> bool:
    """Make ``model(..., labels=L, fused_lm_head=True)`` (TRL's call) score only the labelled
    positions; returns False (and changes nothing) for models this does not cover."""
    lm = causal_lm(model)
    if _scaled_logits(lm.config) or getattr(lm, "_pluralign_completion_head", False):
        return False
    from trl.trainer.utils import FusedCausalLMOutput

    fused = lm.forward  # TRL's fused forward (or the model's own)

    @functools.wraps(type(lm).forward)
    def forward(self, *args, fused_lm_head=False, labels=None, **kwargs):
        if not fused_lm_head or args or "shift_labels" in kwargs or labels is None:
            if fused_lm_head:
                kwargs["fused_lm_head"] = True
            if labels is not None:
                kwargs["labels"] = labels
            return fused(*args, **kwargs)
        num_items = kwargs.pop("num_items_in_batch", None)
        log_probs = completion_token_logps(self, labels, **kwargs)
        mask = labels[:, 1:] != -100
        denom = mask.sum().clamp(min=1) if num_items is None else num_items
        loss = -log_probs.sum() / denom
        return FusedCausalLMOutput(loss=loss, log_probs=log_probs, label_mask=mask)

    lm.forward = types.MethodType(forward, lm)
    lm._pluralign_completion_head = True
    return True


class CompletionHeadMixin:
    """Mixin placed before a TRL trainer whose per-token log-probabilities come from
    ``fused_lm_head=True`` calls (DPO, KTO): installs :func:`add_completion_head` on the policy
    and the reference model. TRL precomputes reference log-probabilities inside its own
    ``__init__``, after attaching its head, so the install also runs just before that pass;
    subclasses call :meth:`install_completion_head` at the end of their ``__init__``."""

    def install_completion_head(self) -> None:
        for model in (self.model, getattr(self, "ref_model", None)):
            if model is not None:
                add_completion_head(self.accelerator.unwrap_model(model))

    def _precompute_ref_logps(self, *args, **kwargs):
        self.install_completion_head()
        if not self.args.disable_tqdm:
            return super()._precompute_ref_logps(*args, **kwargs)
        # TRL draws a tqdm bar over the reference pass that only the TQDM_DISABLE variable turns
        # off (not ``disable_tqdm``); pluralign shows its own progress, so it is set for the pass.
        before = os.environ.get("TQDM_DISABLE")
        os.environ["TQDM_DISABLE"] = "1"
        try:
            return super()._precompute_ref_logps(*args, **kwargs)
        finally:
            if before is None:
                os.environ.pop("TQDM_DISABLE", None)
            else:
                os.environ["TQDM_DISABLE"] = before
