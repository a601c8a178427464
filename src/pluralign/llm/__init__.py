"""The LLM layer: providers (OpenAI-compatible HTTP, local transformers), the request cache,
structured output, ``pluralign serve``, synthesis, the safety filter, the model interview and the
constitutional judge. See docs/llm.md.

Import the submodules you need (``from pluralign.llm.provider import open_provider``); this
package itself imports nothing heavy (``ProviderSettings`` loads pydantic on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {"ProviderSettings": "pluralign.llm.config"}
__all__ = ["ProviderSettings"]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.llm.config import ProviderSettings
