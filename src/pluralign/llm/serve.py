"""``pluralign serve``: a local checkpoint (+ LoRA adapter) as an OpenAI-compatible server.

Endpoints: ``POST /v1/chat/completions`` (honours ``max_tokens``/``max_completion_tokens``,
``temperature``, ``seed``; returns ``usage``), ``GET /v1/models``, and ``GET /health`` (status and
the number of chat completions served, which the tests use to prove a warm cache sends nothing).
Not supported, with a 400 that says so: ``stream``, ``n > 1``, ``response_format`` (clients such as
pluralign's HTTP provider then retry without it).
"""

import threading
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pluralign.errors import require


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
    stream: bool = False
    response_format: dict | None = None


def create_app(model: Any, model_id: str, max_tokens_limit: int = 2048):
    """A FastAPI app answering with ``model`` (a :class:`~pluralign.llm.local.LocalModel` or
    anything with its ``generate(messages, max_tokens, temperature, seed)``)."""
    fastapi = require("fastapi", "llm")
    from fastapi.responses import JSONResponse

    app = fastapi.FastAPI(title="pluralign serve", version="1")
    app.state.requests = 0
    lock = threading.Lock()

    def error(status: int, message: str, param: str | None = None) -> JSONResponse:
        return JSONResponse(
            status_code=status,
            content={
                "error": {"message": message, "type": "invalid_request_error", "param": param}
            },
        )

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": model_id, "requests": app.state.requests}

    @app.get("/v1/models")
    def models() -> dict:
        return {
            "object": "list",
            "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "pluralign"}],
        }

    @app.post("/v1/chat/completions")
    def chat(body: ChatBody):
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
        with lock:
            app.state.requests += 1
        messages = [{"role": m.role, "content": m.content or ""} for m in body.messages]
        done = model.generate(messages, limit, body.temperature, body.seed)
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
