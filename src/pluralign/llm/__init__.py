"""The LLM layer: providers (OpenAI-compatible HTTP, local transformers), the request cache,
structured output, ``pluralign serve``, synthesis, the safety filter, the model interview and the
constitutional judge. See docs/llm.md.

Import the submodules you need (``from pluralign.llm.provider import open_provider``); this
package itself imports nothing heavy.
"""

from pluralign.llm.config import ProviderConfig

__all__ = ["ProviderConfig"]
