"""Structured output: state a JSON schema, extract the JSON object from a reply, validate it.

Models wrap JSON in prose or code fences; :func:`extract_json` takes the first balanced
``{...}`` object in the text (respecting strings and escapes). Validation is pydantic's; its first
error message is what the repair retry quotes back to the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pluralign.llm.types import ChatRequest

M = TypeVar("M", bound=BaseModel)


def response_format_for(schema: type[BaseModel]) -> dict:
    """The OpenAI ``response_format`` object asking for ``schema``."""
    return {
        "type": "json_schema",
        "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
    }


def schema_instruction(
    request: ChatRequest, schema: type[BaseModel], send_schema: bool
) -> ChatRequest:
    """Append the schema to the last user message (and set ``response_format`` if sent)."""
    text = json.dumps(schema.model_json_schema(), sort_keys=True)
    msgs = list(request.messages)
    role, content = msgs[-1]
    msgs[-1] = (
        role,
        f"{content}\n\nReply with only one JSON object matching this JSON schema:\n{text}",
    )
    return ChatRequest(
        messages=tuple(msgs),
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        seed=request.seed,
        response_format=response_format_for(schema) if send_schema else None,
        stop=request.stop,
    )


def extract_json(text: str) -> object | None:
    """The first balanced JSON object (``{...}``) in ``text`` that parses, else ``None``."""
    start = text.find("{")
    while start != -1:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        return json.loads(text[start : i + 1])
                    except json.JSONDecodeError:
                        break
        start = text.find("{", start + 1)
    return None


def parse_structured(
    text: str, schema: type[M], fallback: Callable[[str], M | None] | None = None
) -> tuple[M | None, str | None]:
    """``(value, None)`` when ``text`` holds a valid ``schema`` object (or ``fallback`` parses
    it), else ``(None, reason)``."""
    data = extract_json(text)
    if data is not None:
        try:
            return schema.model_validate(data), None
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "(root)"
            reason = f"field {loc}: {err['msg']}"
    else:
        reason = "no JSON object found in the reply"
    if fallback is not None:
        value = fallback(text)
        if value is not None:
            return value, None
    return None, reason
