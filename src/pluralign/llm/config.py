"""Provider configuration: one pydantic model, embedded in the pipeline YAML under ``llm:`` and
filled from CLI flags (``--base-url``, ``--model``, ``--api-key-env``, ``--checkpoint``,
``--adapter``, ``--cache``).

Exactly one of ``base_url`` (an OpenAI-compatible server: vLLM, llama.cpp, Ollama, a hosted API,
``pluralign serve``) and ``checkpoint`` (a local transformers model folder, or ``smollm2`` /
``embedded`` for the embedded SmolLM2-135M-Instruct of :mod:`pluralign.models`) must be set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pluralign.errors import InputError, at


class ProviderSettings(BaseModel):
    """How to reach one language model. Frozen; validated on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    base_url: str | None = Field(
        None, description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1"
    )
    model: str | None = Field(
        None, description="Model name sent to the server (default: the server's first model)"
    )
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the API key (never the key)"
    )
    checkpoint: Path | None = Field(
        None,
        description="Local transformers checkpoint folder, or 'smollm2' (the embedded model)",
    )
    adapter: Path | None = Field(None, description="Optional PEFT LoRA adapter folder")
    cache_dir: Path | None = Field(
        None, description="Folder of the on-disk request cache (None: no cache)"
    )
    concurrency: int = Field(4, ge=1, le=256, description="Requests in flight at once")
    max_retries: int = Field(4, ge=0, le=20, description="Retries on 429/5xx/timeouts")
    backoff: float = Field(1.0, ge=0, description="First retry delay in s; doubles each retry")
    timeout: float = Field(120.0, gt=0, description="Seconds per HTTP request")
    structured: Literal["auto", "json_schema", "off"] = Field(
        "auto",
        description="Send response_format JSON schemas: auto = try, fall back when the server "
        "rejects them; off = never",
    )
    device: str = Field("cpu", description="torch device of the local provider")

    @model_validator(mode="after")
    def _one_backend(self) -> ProviderSettings:
        if (self.base_url is None) == (self.checkpoint is None):
            raise ValueError("set exactly one of base_url (HTTP server) and checkpoint (local)")
        if self.adapter is not None and self.checkpoint is None:
            raise ValueError("adapter needs checkpoint (a LoRA adapter loads on a local model)")
        return self

    @property
    def kind(self) -> Literal["http", "local"]:
        return "http" if self.base_url else "local"

    def identity(self) -> str:
        """What the cache key uses to name the model answering a request."""
        if self.kind == "http":
            return f"http:{self.base_url.rstrip('/')}|{self.model or ''}"
        from pluralign.models.embedded import EMBEDDED, is_embedded_name

        adapter = f"|adapter={Path(self.adapter).resolve()}" if self.adapter else ""
        if is_embedded_name(self.checkpoint):
            return f"local:{EMBEDDED.identity()}{adapter}"
        return f"local:{Path(self.checkpoint).resolve()}{adapter}"

    def label(self) -> str:
        """Short human name for provenance: model name or checkpoint (+adapter)."""
        if self.kind == "http":
            return self.model or self.base_url
        name = str(self.checkpoint)
        return f"{name}+{self.adapter}" if self.adapter else name


def provider_settings_from_yaml(path: Path, key: str = "llm") -> ProviderSettings:
    """Read a ProviderSettings from a YAML file: either the fields at top level, or under ``key``
    (so a pipeline.yaml with an ``llm:`` section works as it is)."""
    from pydantic import ValidationError

    from pluralign.io import read_yaml

    data = read_yaml(path, what="provider config") or {}
    if isinstance(data, dict) and isinstance(data.get(key), dict):
        data = data[key]
    if not isinstance(data, dict):
        raise InputError("expected a mapping of provider settings", where=str(path))
    try:
        return ProviderSettings(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise InputError(
            err["msg"], where=at(path, column=field), hint="see docs/llm.md, 'Configuration'"
        ) from exc
