"""CLI flags of a provider, shared by every LLM command so they all read the same.

``--base-url URL [--model NAME] [--api-key-env VAR]`` for an OpenAI-compatible server, or
``--checkpoint DIR [--adapter DIR]`` for a local model (``smollm2``, also the default when neither
is given, is the embedded SmolLM2-135M-Instruct); ``--cache DIR`` for the request cache;
``--provider-config FILE`` reads the same settings from YAML (a pipeline.yaml's ``llm:`` section
works). Flags given on the command line override the file.

A command declares these options with the parameter names of :class:`ProviderFlags` and opens its
provider with ``ProviderFlags.of(locals()).open()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from pluralign.errors import InputError

BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1"),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Model name at the server (default: the first one it lists)."),
]
ApiKeyEnvOption = Annotated[
    str | None,
    typer.Option("--api-key-env", help="Name of the environment variable holding the API key."),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Local transformers checkpoint folder, or 'smollm2' (the embedded model, the "
        "default when no --base-url is given).",
    ),
]
AdapterOption = Annotated[
    Path | None, typer.Option("--adapter", help="PEFT LoRA adapter folder loaded on --checkpoint.")
]
CacheOption = Annotated[
    Path | None,
    typer.Option("--cache", help="Request-cache folder: a re-run answers seen requests from disk."),
]
ConcurrencyOption = Annotated[
    int | None, typer.Option("--concurrency", help="Requests in flight at once (default 4).")
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Seconds per HTTP request (default 120).")
]
RetriesOption = Annotated[
    int | None, typer.Option("--max-retries", help="Retries on 429/5xx/timeouts (default 4).")
]
ProviderConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--provider-config", help="YAML with provider settings (or a pipeline.yaml with llm:)."
    ),
]


def build_config(
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key_env: str | None = None,
    checkpoint: Path | None = None,
    adapter: Path | None = None,
    cache: Path | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    config_file: Path | None = None,
    flag_prefix: str = "--",
):
    """A validated :class:`~pluralign.llm.config.ProviderSettings` from flags (over a file)."""
    from pydantic import ValidationError

    from pluralign.llm.config import ProviderSettings, provider_settings_from_yaml

    data: dict = {}
    if config_file is not None:
        data = provider_settings_from_yaml(config_file).model_dump(exclude_unset=True)
    flags = {
        "base_url": base_url,
        "model": model,
        "api_key_env": api_key_env,
        "checkpoint": checkpoint,
        "adapter": adapter,
        "cache_dir": cache,
        "concurrency": concurrency,
        "timeout": timeout,
        "max_retries": max_retries,
    }
    if base_url is not None:
        data.pop("checkpoint", None)
        data.pop("adapter", None)
    if checkpoint is not None:
        data.pop("base_url", None)
    data.update({k: v for k, v in flags.items() if v is not None})
    if not data.get("base_url") and not data.get("checkpoint"):
        if data.get("adapter"):
            raise InputError(
                f"{flag_prefix}adapter needs {flag_prefix}checkpoint DIR (the adapter's base)",
                hint="e.g. --checkpoint smollm2 --adapter run/train/adapter",
            )
        data["checkpoint"] = Path("smollm2")  # the embedded model (pluralign.models)
    try:
        return ProviderSettings(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise InputError(
            f"{flag_prefix}{field.replace('_', '-')}: {err['msg']}" if field else err["msg"]
        ) from exc


@dataclass(frozen=True)
class ProviderFlags:
    """One command's provider flags as given (``None``: not given); field names are the parameter
    names the commands declare the options above under."""

    base_url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    checkpoint: Path | None = None
    adapter: Path | None = None
    cache: Path | None = None
    concurrency: int | None = None
    timeout: float | None = None
    max_retries: int | None = None
    provider_config: Path | None = None

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> ProviderFlags:
        """The flags among a command's parameters (its ``locals()``), picked by name."""
        return cls(**{f.name: params[f.name] for f in fields(cls)})

    def other_model(
        self,
        base_url: str | None,
        model: str | None,
        checkpoint: Path | None,
        adapter: Path | None,
    ) -> ProviderFlags:
        """Another model's flags: its own server or checkpoint, these flags' API key, cache,
        concurrency, timeout and retries, and no config file."""
        return replace(
            self,
            base_url=base_url,
            model=model,
            checkpoint=checkpoint,
            adapter=adapter,
            provider_config=None,
        )

    def config(self, flag_prefix: str = "--"):
        """The validated :class:`~pluralign.llm.config.ProviderSettings` (see :func:`build_config`);
        errors name the flags with ``flag_prefix``."""
        return build_config(
            base_url=self.base_url,
            model=self.model,
            api_key_env=self.api_key_env,
            checkpoint=self.checkpoint,
            adapter=self.adapter,
            cache=self.cache,
            concurrency=self.concurrency,
            timeout=self.timeout,
            max_retries=self.max_retries,
            config_file=self.provider_config,
            flag_prefix=flag_prefix,
        )

    def open(self, flag_prefix: str = "--"):
        """The provider these flags configure (a context manager, see :func:`open_provider`)."""
        from pluralign.llm.provider import open_provider

        return open_provider(self.config(flag_prefix))


def usage_line(usage: dict) -> str:
    """One line of a provider's usage counts, printed after every LLM command."""
    return (
        f"requests {usage['requests']} (retries {usage['retries']}), cache hits "
        f"{usage['cache_hits']}, tokens {usage['prompt_tokens']} in / "
        f"{usage['completion_tokens']} out, failures {usage['failures']}, invalid "
        f"structured {usage['structured_failures']}"
    )
