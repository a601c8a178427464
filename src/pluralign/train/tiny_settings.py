"""Settings of the tiny offline model (:func:`pluralign.train.tiny.build_tiny_model`): the
``model.tiny`` section of ``pipeline.yaml`` and ``pluralign model tiny``'s options take their
defaults from :class:`TinySettings` (the function's own keyword defaults are for library calls:
no pre-training unless asked)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting


@dataclass(frozen=True)
class TinySettings(Settings):
    """Shape of the tiny random Llama-style model and its byte-level BPE tokenizer."""

    section = "model.tiny"

    vocab_size: int = setting(512, "BPE vocabulary size of the tokenizer.", ge=260)
    hidden_size: int = setting(64, "Hidden size of the Llama model.", ge=8)
    layers: int = setting(2, "Number of transformer layers.", ge=1)
    heads: int = setting(4, "Attention heads per layer.", ge=1)
    pretrain_steps: int = setting(
        30, "Causal-LM steps on the texts (the run's texts in a run; 0: random weights).", ge=0)
