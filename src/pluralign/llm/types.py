"""Requests, completions and usage: the plain data every provider speaks.

A :class:`ChatRequest` is the canonical form of one chat-completion call. Its :meth:`key` is the
sha256 of its canonical JSON (sorted keys, no whitespace) together with the identity of the model
that answers it; the on-disk cache is keyed by it, so the same request to the same model is
answered once, ever.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: Most stop strings a request may give (as OpenAI's API).
MAX_STOP = 4


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal objects give equal strings."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChatRequest:
    """One chat-completion call.

    ``messages`` is a tuple of ``(role, content)`` pairs; ``response_format`` is the OpenAI
    ``response_format`` object (e.g. a JSON schema) or ``None``. ``stop``: up to 4 strings
    that end the reply, as OpenAI's ``stop``: the reply ends before the first of them (which is
    not part of the text) with ``finish_reason`` ``"stop"``. A request without stop strings has
    the same cache key as before they existed.
    """

    messages: tuple[tuple[str, str], ...]
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int | None = 0
    response_format: dict | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())
        if len(stop) > MAX_STOP or not all(isinstance(s, str) and s for s in stop):
            raise ValueError(f"stop takes at most {MAX_STOP} non-empty strings, not {stop!r}")
        object.__setattr__(self, "stop", stop)

    @classmethod
    def of(cls, messages: list[dict] | list[tuple[str, str]], **kwargs: Any) -> ChatRequest:
        """Build from OpenAI-style ``[{"role": ..., "content": ...}]`` or ``(role, content)``."""
        pairs = tuple(
            (m["role"], m["content"]) if isinstance(m, dict) else (m[0], m[1]) for m in messages
        )
        return cls(messages=pairs, **kwargs)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def canonical(self) -> dict:
        return {
            "messages": self.message_dicts(),
            "max_tokens": self.max_tokens,
            "temperature": float(self.temperature),
            "seed": self.seed,
            "response_format": self.response_format,
            **({"stop": list(self.stop)} if self.stop else {}),
        }

    def key(self, model_identity: str) -> str:
        """sha256 of the canonical request plus the model identity (the cache key)."""
        return sha256_text(canonical_json({"model": model_identity, "request": self.canonical()}))


@dataclass(frozen=True)
class Completion:
    """What a provider returned for one request."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    cached: bool = False

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Completion:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Usage:
    """Running totals of one provider: requests sent, cache hits, tokens, failures.

    ``requests`` counts HTTP/generation calls actually made (retries included); ``cache_hits``
    counts answers served from the cache at no cost; ``failures`` counts calls that gave up
    after all retries; ``structured_failures`` counts structured outputs that stayed invalid
    after the repair retry.
    """

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0
    structured_failures: int = 0
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, completion: Completion) -> None:
        self.prompt_tokens += completion.prompt_tokens
        self.completion_tokens += completion.completion_tokens
        m = self.by_model.setdefault(completion.model, {"prompt_tokens": 0, "completion_tokens": 0})
        m["prompt_tokens"] += completion.prompt_tokens
        m["completion_tokens"] += completion.completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict:
        data = asdict(self)
        data["total_tokens"] = self.total_tokens
        return data
