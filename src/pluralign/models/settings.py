"""Settings of the model stage, every default here: ``pipeline.yaml``'s ``model:`` section
(:class:`ModelSettings`: which base model a run fine-tunes) and the tiny offline model's shape
(:class:`TinySettings`, :func:`pluralign.models.tiny.build_tiny_model`: the ``model.tiny``
section and ``pluralign model tiny``'s options; the function's own keyword defaults are for
library calls: no pre-training unless asked)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting

EMBEDDERS = ("auto", "minilm", "tfidf")
"""The sentence encoders of :func:`pluralign.models.embed.embed` (``auto``: MiniLM when
``pluralign[embed]`` is installed, else TF-IDF)."""
DEFAULT_EMBEDDER = "auto"
"""The one embedder default: the constitution's and sensemaking's settings both take it."""


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


@dataclass(frozen=True)
class TunedModelSettings(Settings):
    """A later round's base model: the previous round's tuned model, recorded as it is (which
    folder is the stage's input, docs/rounds.md)."""

    section = "rounds"

    round: int = setting(2, "The round whose base the model is (2, 3, ...).", ge=2, cli=False)


@dataclass(frozen=True)
class ModelSettings(Settings):
    """The base model a run fine-tunes (and, unless ``model.llm`` names another, the model
    its LLM stages prompt)."""

    section = "model"

    base: str = setting(
        "smollm2", "'smollm2' (the embedded SmolLM2-135M-Instruct), 'tiny' (a tiny random model "
        "built from the run's texts, for fast tests) or a local checkpoint folder.")
    tiny: TinySettings = setting(factory=TinySettings,
                                 help="Shape of the tiny model (base: tiny).", cli=False)

    def __post_init__(self) -> None:
        if isinstance(self.tiny, dict):  # from pipeline.yaml or to_dict()
            object.__setattr__(self, "tiny", TinySettings(**self.tiny))
        super().__post_init__()
