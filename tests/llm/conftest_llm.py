"""Fixtures for the LLM tests: a tiny Llama model with a byte-level BPE tokenizer and a chat
template (``pluralign.models.tiny``, built in seconds on CPU), served by ``pluralign serve``'s
app on a loopback port, plus a scripted OpenAI-compatible server replaying recorded answers.

Test modules load it as a plugin (``pytest_plugins = ["conftest_llm"]``) so that the
session-scoped model is built once per test run, and import its helpers directly.
"""

import functools
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from cli_inproc import invoke

CORPUS = [
    "The model should explain its reasoning and respect the user's autonomy.",
    "Answer questions about health carefully and suggest seeing a professional.",
    "Do not help anyone build weapons. Be honest about uncertainty.",
    "Everyone deserves a respectful answer, whatever their opinion group.",
] * 20


def build_tiny_model(folder: Path, seed: int = 0, train_steps: int = 20) -> Path:
    """The tiny model of :func:`pluralign.models.tiny.build_tiny_model`, pretrained for a few
    steps on chat-formatted corpus lines so that greedy decoding emits ordinary tokens (an
    untrained model mostly emits special tokens, i.e. empty text). 4096 positions fit the
    longest prompt of the LLM layer (the safety policy)."""
    from pluralign.models.tiny import build_tiny_model as build

    texts = [
        f"<|user|>Say something.<|end|><|assistant|>{line}<|eos|>" for line in sorted(set(CORPUS))
    ]
    return build(
        texts,
        folder,
        hidden_size=32,
        max_positions=4096,
        pretrain_steps=train_steps,
        pretrain_lr=1e-2,
        seed=seed,
    )


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerThread:
    """uvicorn serving an ASGI app on a loopback port in a background thread."""

    def __init__(self, app):
        import uvicorn

        self.app = app
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def tiny_server(tiny_checkpoint):
    """``pluralign serve``'s app with the tiny model; ``.requests()`` counts completions."""
    from pluralign.llm.local import LocalModel
    from pluralign.llm.serve import create_app

    app = create_app(LocalModel(tiny_checkpoint), "tiny")
    with ServerThread(app) as srv:
        srv.requests = lambda: app.state.requests
        yield srv


class Script:
    """Answers of a scripted server: ``rules`` is a list of ``(substring, reply)``; the first
    rule whose substring occurs in the user messages answers; else ``default``. ``status``
    may force an HTTP status for the next ``fail_next`` requests."""

    def __init__(self):
        self.rules: list[tuple[str, str]] = []
        self.default = "ok"
        self.fail_next = 0
        self.fail_status = 500
        self.delay = 0.0
        self.reject_schema = False
        self.fail_if: str | None = None  # answer fail_status when this occurs in the message
        self.seen: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0


def scripted_app(script: Script):
    """A minimal OpenAI-compatible app replaying ``script`` (recorded answers)."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": "scripted", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        script.seen.append(body)
        if script.delay:
            import asyncio

            script.in_flight += 1
            script.max_in_flight = max(script.max_in_flight, script.in_flight)
            await asyncio.sleep(script.delay)
            script.in_flight -= 1
        if script.fail_next > 0:
            script.fail_next -= 1
            return JSONResponse(status_code=script.fail_status, content={"error": "boom"})
        if script.reject_schema and "response_format" in body:
            return JSONResponse(
                status_code=400, content={"error": {"message": "response_format is not supported"}}
            )
        last = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
        if script.fail_if and script.fail_if in last:
            return JSONResponse(status_code=script.fail_status, content={"error": "no"})
        reply = next((r for s, r in script.rules if s in last), script.default)
        if callable(reply):
            reply = reply(body)
        return {
            "model": "scripted",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": reply},
                }
            ],
            "usage": {
                "prompt_tokens": len(json.dumps(body["messages"])) // 4,
                "completion_tokens": len(reply) // 4,
            },
        }

    return app


@pytest.fixture
def scripted():
    """A scripted OpenAI-compatible server: yields ``(script, base_url)``."""
    script = Script()
    with ServerThread(scripted_app(script)) as srv:
        yield script, srv.base_url


def run_cli_input(*args, input_text: str, cwd: Path, timeout: float = 300):
    """Like ``conftest.run_cli`` but feeding ``input_text`` to stdin (terminal review)."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "pluralign", *map(str, args)],
        cwd=cwd,
        env=env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli(capsys):
    """Run ``pluralign ARGS`` in this process (``pluralign.cli.main``): like ``run_cli`` but
    without a new interpreter's start-up, for tests that run many commands."""
    return functools.partial(invoke, capsys)
