"""OpenAI-compatible HTTP provider (vLLM, llama.cpp server, Ollama, hosted APIs, ``pluralign
serve``).

Retries: 429, 5xx, timeouts and connection errors are retried up to ``max_retries`` times with
exponential backoff ``backoff * 2**attempt`` (a ``Retry-After`` header, when given, is honoured up
to 60 s). Other 4xx answers are the caller's fault and fail at once. A ``response_format`` JSON
schema is sent when ``structured`` allows; a server that rejects it with a 400 naming
``response_format`` is asked again without it, and never sent one again (``structured: auto``).
Every failure raises :class:`~pluralign.errors.ProviderError` naming the URL.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time

from pluralign.errors import ProviderError, require
from pluralign.llm.base import Provider
from pluralign.llm.config import ProviderSettings
from pluralign.llm.types import ChatRequest, Completion

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class HTTPProvider(Provider):
    """Chat completions from ``{base_url}/chat/completions``."""

    def __init__(self, config: ProviderSettings):
        super().__init__(config)
        httpx = require("httpx", "llm")
        headers = {"User-Agent": "pluralign"}
        if config.api_key_env:
            key = os.environ.get(config.api_key_env)
            if not key:
                raise ProviderError(
                    f"the environment variable {config.api_key_env} (named by --api-key-env) is "
                    "not set",
                    hint=f"export {config.api_key_env}=... before running",
                )
            headers["Authorization"] = f"Bearer {key}"
        self.base_url = config.base_url.rstrip("/")
        self._client = httpx.Client(
            timeout=httpx.Timeout(config.timeout),
            headers=headers,
            limits=httpx.Limits(max_connections=config.concurrency),
        )
        self._schema_ok = config.structured != "off"
        self._model = config.model
        self._model_lock = threading.Lock()
        self._rng = random.Random(0)

    accepts_response_format = True

    @property
    def sends_schema(self) -> bool:
        """False once the server rejected a response_format (then it is left out)."""
        return self._schema_ok

    def model_name(self) -> str:
        return self._resolve_model()

    def _resolve_model(self) -> str:
        """The configured model, else the first id the server lists at ``/models``."""
        with self._model_lock:
            if self._model is None:
                data = self._call("GET", "/models", None)
                try:
                    self._model = data["data"][0]["id"]
                except (KeyError, IndexError, TypeError) as exc:
                    raise ProviderError(
                        f"{self.base_url}/models lists no model", hint="pass --model NAME"
                    ) from exc
            return self._model

    def _send(self, request: ChatRequest) -> Completion:
        model = self._resolve_model()
        body = {
            "model": model,
            "messages": request.message_dicts(),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = list(request.stop)
        if request.response_format is not None and self._schema_ok:
            body["response_format"] = request.response_format
        try:
            data = self._call("POST", "/chat/completions", body)
        except _SchemaRejected:
            self._schema_ok = False
            body.pop("response_format", None)
            data = self._call("POST", "/chat/completions", body)
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] or ""
            usage = data.get("usage") or {}
            return Completion(
                text=text,
                model=data.get("model") or model,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=choice.get("finish_reason") or "stop",
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            with self._usage_lock:
                self.usage.failures += 1
            raise ProviderError(
                f"{self.base_url}/chat/completions returned an answer that is not a chat "
                f"completion: {str(data)[:200]}",
                hint="is --base-url an OpenAI-compatible /v1 endpoint?",
            ) from exc

    def _call(self, method: str, path: str, body: dict | None) -> dict:
        import httpx

        url = self.base_url + path
        last = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                with self._usage_lock:
                    self.usage.retries += 1
            with self._usage_lock:
                self.usage.requests += 1
            delay = self.config.backoff * 2**attempt * (0.5 + self._rng.random())
            try:
                resp = self._client.request(method, url, json=body)
            except httpx.TimeoutException:
                last = f"timed out after {self.config.timeout:g} s"
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__}: {exc})"
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError as exc:
                        with self._usage_lock:
                            self.usage.failures += 1
                        raise ProviderError(
                            f"{url} returned non-JSON: {resp.text[:200]!r}"
                        ) from exc
                text = resp.text[:300]
                if (
                    resp.status_code in (400, 422)
                    and body
                    and "response_format" in body
                    and "response_format" in text
                    and self.config.structured == "auto"
                ):
                    raise _SchemaRejected()
                if resp.status_code not in RETRY_STATUS:
                    with self._usage_lock:
                        self.usage.failures += 1
                    raise ProviderError(
                        f"{url} answered HTTP {resp.status_code}: {text}",
                        hint="check --model, --api-key-env and the request settings",
                    )
                last = f"HTTP {resp.status_code}: {text}"
                retry_after = resp.headers.get("retry-after")
                if retry_after:
                    with contextlib.suppress(ValueError):
                        delay = min(60.0, max(delay, float(retry_after)))
            if attempt < self.config.max_retries:
                time.sleep(delay)
        with self._usage_lock:
            self.usage.failures += 1
        raise ProviderError(
            f"{url} failed after {self.config.max_retries + 1} attempts: {last}",
            hint="is the server running and reachable? check --base-url (and --timeout)",
        )

    def close(self) -> None:
        self._client.close()
        super().close()


class _SchemaRejected(Exception):
    """The server answered 400 naming response_format: it does not do JSON schemas."""
