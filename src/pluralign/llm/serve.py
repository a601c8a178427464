"""``pluralign serve``: a local checkpoint (+ LoRA adapter) as an OpenAI-compatible server.

What is served (:func:`resolve_target`): nothing named or ``smollm2`` → the embedded
SmolLM2-135M-Instruct; a checkpoint folder → that model; a LoRA adapter folder → its base model
(``base_model_name_or_path`` of ``adapter_config.json``) with the adapter; a run folder (or its
``train/`` folder) → the trained model, merged (``train/model``) or as base + ``train/adapter``.
Concurrent requests are decoded together, continuously
(:class:`pluralign.models.generate.BatchingGenerator`): each request is queued on the model and
joins the running batch at its next step, and its answer is sent as soon as its own row ends. A
client that disconnects before its answer is ready has its request dropped from the batch (the
endpoint checks every :data:`DISCONNECT_POLL` seconds). A request that fails (for instance a
prompt longer than the model's context) gets its own error; the others go on.

Endpoints: ``POST /v1/chat/completions`` (honours ``max_tokens``/``max_completion_tokens``,
``temperature``, ``seed`` and ``stop`` (a string or up to 4); returns ``usage``), ``GET
/v1/models``, and ``GET /health`` (status, the number of chat completions served, which the tests
use to prove a warm cache sends nothing, and the batcher's counters). Not supported, with a 400
that says so: ``stream``, ``n > 1``, ``response_format`` (clients such as pluralign's HTTP
provider then retry without it).
"""

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pluralign.errors import InputError, require
from pluralign.llm.types import MAX_STOP

#: Seconds between two checks whether the client of a pending request is still there.
DISCONNECT_POLL = 0.25


def resolve_target(target: str | Path | None) -> tuple[str | Path, Path | None]:
    """(checkpoint, adapter) that ``pluralign serve TARGET`` serves (module docstring)."""
    from pluralign.models import is_embedded_name

    if target is None or is_embedded_name(target):
        return "smollm2", None
    path = Path(target)
    if not path.is_dir():
        raise InputError(
            "nothing to serve here: not a folder",
            where=str(path),
            hint="give a checkpoint, adapter or run folder, or nothing for the embedded model",
        )
    for candidate in (path, path / "train"):
        if (candidate / "model" / "config.json").is_file():
            return candidate / "model", None
        if (candidate / "adapter" / "adapter_config.json").is_file():
            return adapter_base(candidate / "adapter"), candidate / "adapter"
    if (path / "config.json").is_file():
        return path, None
    if (path / "adapter_config.json").is_file():
        return adapter_base(path), path
    raise InputError(
        "nothing to serve here: no config.json, adapter_config.json or trained run",
        where=str(path),
        hint="give a checkpoint, adapter or run folder, or nothing for the embedded model",
    )


def adapter_base(adapter: Path) -> str | Path:
    """The base model a LoRA adapter folder was trained on (must be a local folder or the
    embedded model; nothing is fetched from a hub)."""
    from pluralign.models import EMBEDDED, is_embedded_name

    where = adapter / "adapter_config.json"
    try:
        base = json.loads(where.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the adapter's config: {exc}", where=str(where)) from exc
    if not base:
        raise InputError(
            "the adapter names no base model",
            where=str(where),
            hint="serve the base checkpoint with --adapter ADAPTER",
        )
    if is_embedded_name(base) or EMBEDDED.folder_name in str(base) or base == EMBEDDED.name:
        return "smollm2"
    if not (Path(base) / "config.json").is_file():
        raise InputError(
            f"the adapter's base model {base!r} is not a local checkpoint folder",
            where=str(where),
            hint="serve the base checkpoint with --adapter ADAPTER",
        )
    return Path(base)


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | None = ""


class ChatBody(BaseModel):
    """The subset of the OpenAI chat-completions request this server honours."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[Message] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    seed: int | None = None
    n: int = 1
    stop: str | list[str] | None = None
    stream: bool = False
    response_format: dict | None = None


def create_app(model: Any, model_id: str, max_tokens_limit: int = 2048):
    """A FastAPI app answering with ``model``: a :class:`~pluralign.llm.local.LocalModel`, or
    anything with its ``submit(messages, max_tokens, temperature, seed, stop)`` returning a
    future of a :class:`~pluralign.llm.types.Completion`."""
    fastapi = require("fastapi", "llm")
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response

    app = fastapi.FastAPI(title="pluralign serve", version="1")
    app.state.requests = 0
    app.state.disconnected = 0
    lock = threading.Lock()

    def error(
        status: int, message: str, param: str | None = None, kind: str = "invalid_request_error"
    ) -> JSONResponse:
        return JSONResponse(
            status_code=status,
            content={"error": {"message": message, "type": kind, "param": param}},
        )

    @app.get("/health")
    def health() -> dict:
        batcher = getattr(model, "batcher", None)
        return {
            "status": "ok",
            "model": model_id,
            "requests": app.state.requests,
            "disconnected": app.state.disconnected,
            "batching": dict(getattr(batcher, "stats", {})),
        }

    @app.get("/v1/models")
    def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "pluralign"}],
        }

    @app.post("/v1/chat/completions")
    async def chat(body: ChatBody, request: Request):
        if body.stream:
            return error(400, "stream is not supported by pluralign serve", "stream")
        if body.n != 1:
            return error(400, "only n=1 is supported by pluralign serve", "n")
        if body.response_format is not None and body.response_format.get("type") != "text":
            return error(
                400,
                "response_format (JSON mode / JSON schema) is not supported by "
                "pluralign serve; send the request without it",
                "response_format",
            )
        if body.model not in (None, "", model_id):
            return error(
                404, f"model {body.model!r} not served here (serving {model_id!r})", "model"
            )
        limit = body.max_completion_tokens or body.max_tokens or 256
        if limit > max_tokens_limit:
            return error(
                400,
                f"max_tokens {limit} exceeds this server's limit {max_tokens_limit}",
                "max_tokens",
            )
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        if len(stop) > MAX_STOP or not all(stop):
            return error(400, f"stop takes 1 to {MAX_STOP} non-empty strings", "stop")
        with lock:
            app.state.requests += 1
        messages = [{"role": m.role, "content": m.content or ""} for m in body.messages]
        pending = asyncio.wrap_future(
            model.submit(messages, limit, body.temperature, body.seed, tuple(stop))
        )
        while not pending.done():
            await asyncio.wait({pending}, timeout=DISCONNECT_POLL)
            if not pending.done() and await request.is_disconnected():
                pending.cancel()  # drops the request from the batch at its next step
                with lock:
                    app.state.disconnected += 1
                return Response(status_code=499)  # nobody reads it
        try:
            done = pending.result()
        except ValueError as exc:  # the request itself cannot run (e.g. too long a prompt)
            return error(400, str(exc), "messages")
        except Exception as exc:  # noqa: BLE001 - this request failed; the server goes on
            return error(500, f"generation failed: {exc}", None, "server_error")
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": done.text},
                    "finish_reason": done.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": done.prompt_tokens,
                "completion_tokens": done.completion_tokens,
                "total_tokens": done.prompt_tokens + done.completion_tokens,
            },
        }

    return app
