"""``pluralign serve``: the served app's OpenAI contract (in-process) and the real command."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from conftest import REPO

pytest_plugins = ["conftest_llm"]  # tiny model and scripted server fixtures


def test_models_health_and_chat_contract(tiny_server):
    base = tiny_server.base_url
    assert httpx.get(f"{base}/models").json()["data"][0]["id"] == "tiny"
    before = httpx.get(base.replace("/v1", "/health")).json()["requests"]
    body = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 5,
        "temperature": 0.0,
        "seed": 1,
    }
    data = httpx.post(f"{base}/chat/completions", json=body, timeout=60).json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["role"] == "assistant"
    assert data["usage"]["completion_tokens"] <= 5
    assert data["usage"]["total_tokens"] == (
        data["usage"]["prompt_tokens"] + data["usage"]["completion_tokens"]
    )
    assert httpx.get(base.replace("/v1", "/health")).json()["requests"] == before + 1


@pytest.mark.parametrize(
    "patch,status,param",
    [
        ({"stream": True}, 400, "stream"),
        ({"n": 2}, 400, "n"),
        ({"response_format": {"type": "json_object"}}, 400, "response_format"),
        ({"model": "other"}, 404, "model"),
        ({"max_tokens": 10**6}, 400, "max_tokens"),
        ({"temperature": 5}, 422, None),
    ],
)
def test_unsupported_requests_say_so(tiny_server, patch, status, param):
    body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, **patch}
    resp = httpx.post(f"{tiny_server.base_url}/chat/completions", json=body, timeout=60)
    assert resp.status_code == status
    if param:
        assert resp.json()["error"]["param"] == param


@pytest.mark.slow
def test_serve_command_works_with_the_openai_client(tiny_checkpoint):
    import openai
    from conftest_llm import free_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pluralign",
            "serve",
            str(tiny_checkpoint),
            "--port",
            str(port),
            "--model-id",
            "tiny-cli",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.time() < deadline, "serve did not start"
            time.sleep(0.2)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
        assert [m.id for m in client.models.list()] == ["tiny-cli"]
        out = client.chat.completions.create(
            model="tiny-cli",
            messages=[{"role": "user", "content": "hello"}],
            max_tokens=4,
            temperature=0.8,
            seed=7,
        )
        again = client.chat.completions.create(
            model="tiny-cli",
            messages=[{"role": "user", "content": "hello"}],
            max_tokens=4,
            temperature=0.8,
            seed=7,
        )
        assert out.choices[0].message.content == again.choices[0].message.content
        assert out.usage.completion_tokens <= 4 and out.usage.prompt_tokens > 0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
