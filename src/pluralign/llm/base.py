"""The provider base class: cached, counted, concurrent chat completions.

:class:`Provider` holds what every backend shares: the on-disk cache (a cached request is never
sent again), usage totals, bounded concurrency (:meth:`Provider.complete_many` keeps at most
``config.concurrency`` requests in flight) and structured output (:meth:`Provider.structured`).
Backends implement :meth:`Provider._send`: :class:`~pluralign.llm.http.HTTPProvider` for
OpenAI-compatible servers, :class:`~pluralign.llm.local.LocalProvider` for transformers checkpoints.
:func:`pluralign.llm.provider.open_provider` picks one; this module imports no backend, so the
backends can import it without a cycle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

from pluralign.errors import ProviderError
from pluralign.llm.cache import RequestCache
from pluralign.llm.config import ProviderSettings
from pluralign.llm.types import ChatRequest, Completion, Usage

M = TypeVar("M", bound=BaseModel)


@dataclass
class StructuredResult(Generic[M]):
    """A structured answer: ``value`` when it validated (first try or after the one repair
    retry), else ``None`` with the last ``error``. ``raw`` keeps every reply text seen."""

    value: M | None
    error: str | None = None
    raw: list[str] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.value is not None


class Provider:
    """Base class: cache, usage, concurrency and structured output around ``_send``."""

    #: whether the backend takes a response_format JSON schema at all (HTTP: yes; whether this
    #: server honours it is found out at run time and does not change the request or its key)
    accepts_response_format: bool = False

    def __init__(self, config: ProviderSettings):
        self.config = config
        self.usage = Usage()
        self.cache = RequestCache(config.cache_dir) if config.cache_dir else None
        self._usage_lock = threading.Lock()

    # -- backends implement ------------------------------------------------------------------
    def _send(self, request: ChatRequest) -> Completion:  # pragma: no cover - abstract
        raise NotImplementedError

    def model_name(self) -> str:
        """Name of the model answering (for provenance)."""
        return self.config.label()

    # -- shared ------------------------------------------------------------------------------
    def complete(self, request: ChatRequest) -> Completion:
        """Answer one request: from the cache if seen before, else from the backend."""
        key = request.key(self.config.identity())
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                with self._usage_lock:
                    self.usage.cache_hits += 1
                return hit
        completion = self._send(request)
        with self._usage_lock:
            self.usage.add(completion)
        if self.cache is not None:
            self.cache.put(key, completion.model, request, completion)
        return completion

    def complete_many(
        self,
        requests: Iterable[ChatRequest],
        on_done: Callable[[int, Completion | ProviderError], None] | None = None,
    ) -> list[Completion | ProviderError]:
        """Answer many requests with at most ``config.concurrency`` in flight. A request that
        fails after its retries yields its :class:`ProviderError` in place (counted in
        ``usage.failures``); other exceptions propagate."""
        requests = list(requests)
        results: list[Completion | ProviderError | None] = [None] * len(requests)

        def one(i: int) -> None:
            try:
                results[i] = self.complete(requests[i])
            except ProviderError as exc:
                results[i] = exc
            if on_done is not None:
                on_done(i, results[i])

        workers = min(self.config.concurrency, max(1, len(requests)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for fut in [pool.submit(one, i) for i in range(len(requests))]:
                fut.result()
        return results  # type: ignore[return-value]

    def structured(
        self,
        request: ChatRequest,
        schema: type[M],
        fallback: Callable[[str], M | None] | None = None,
    ) -> StructuredResult[M]:
        """Ask for a JSON object matching ``schema`` (a pydantic model) and validate it.

        The schema is stated in the prompt, and sent as ``response_format`` when the server
        supports it. An invalid reply gets exactly one repair retry quoting the validation
        error; if that fails too the result has ``value=None`` and ``usage.structured_failures``
        is incremented: nothing is guessed. ``fallback`` may parse a documented plain-text form
        (e.g. Llama Guard's ``unsafe\\nS1``) before a reply counts as invalid.
        """
        from pluralign.llm.structured import parse_structured, schema_instruction

        req = schema_instruction(request, schema, send_schema=self._use_schema())
        first = self.complete(req)
        value, error = parse_structured(first.text, schema, fallback)
        if value is not None:
            return StructuredResult(value, raw=[first.text])
        repair = ChatRequest(
            messages=req.messages
            + (
                ("assistant", first.text),
                (
                    "user",
                    f"That reply is not valid: {error}. Reply again with only the JSON "
                    "object, nothing else.",
                ),
            ),
            max_tokens=req.max_tokens,
            temperature=req.temperature,
            seed=req.seed,
            response_format=req.response_format,
            stop=req.stop,
        )
        second = self.complete(repair)
        value, error2 = parse_structured(second.text, schema, fallback)
        if value is not None:
            return StructuredResult(value, raw=[first.text, second.text], repaired=True)
        with self._usage_lock:
            self.usage.structured_failures += 1
        return StructuredResult(None, error=error2, raw=[first.text, second.text])

    def _use_schema(self) -> bool:
        # depends on the configuration only, so that a request (and its cache key) is the same
        # in every run, whatever the server answered to earlier requests
        return self.accepts_response_format and self.config.structured != "off"

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
