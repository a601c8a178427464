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


def test_stop_strings_end_the_reply_before_them(tiny_server):
    url = f"{tiny_server.base_url}/chat/completions"
    body = {"messages": [{"role": "user", "content": "Say something."}], "max_tokens": 40,
            "temperature": 0.0}
    full = httpx.post(url, json=body, timeout=60).json()["choices"][0]["message"]["content"]
    assert len(full) > 12, full  # the tiny model was pretrained to say corpus lines
    stop = full[8:11]
    data = httpx.post(url, json={**body, "stop": [stop, "\u2603never"]}, timeout=60).json()
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["choices"][0]["message"]["content"] == full[: full.index(stop)]
    for bad in (["a"] * 5, [""]):
        resp = httpx.post(url, json={**body, "stop": bad}, timeout=60)
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "stop"


def test_a_chat_request_s_stop_strings_reach_the_generator_over_http_and_locally(
    tiny_server, tiny_checkpoint, tmp_path
):
    """``ChatRequest.stop`` through pluralign's HTTP provider to ``pluralign serve``, and through
    the local provider: the reply ends before the first stop string, which it does not include,
    with finish_reason "stop"; the cache tells the two requests apart."""
    from pluralign.llm.config import ProviderSettings
    from pluralign.llm.provider import open_provider
    from pluralign.llm.types import ChatRequest

    ask = [{"role": "user", "content": "Say something."}]
    plain = ChatRequest.of(ask, max_tokens=40)
    over_http = open_provider(
        ProviderSettings(base_url=tiny_server.base_url, cache_dir=tmp_path / "cache")
    )
    local = open_provider(ProviderSettings(checkpoint=tiny_checkpoint))
    try:
        full = over_http.complete(plain)
        assert len(full.text) > 12 and full.finish_reason in ("stop", "length"), full
        stop = full.text[8:11]
        cut = ChatRequest.of(ask, max_tokens=40, stop=("\u2603never", stop))
        assert cut.key("m") != plain.key("m")
        for provider in (over_http, local):
            done = provider.complete(cut)
            assert done.text == full.text[: full.text.index(stop)], provider
            assert stop not in done.text and done.finish_reason == "stop"
            assert done.completion_tokens < full.completion_tokens
        again = over_http.complete(cut)  # the cut reply was cached under its own key
        assert again.cached and again.text == full.text[: full.text.index(stop)]
    finally:
        over_http.close()
        local.close()
    # a request without stop strings keeps the key it had before they existed
    assert "stop" not in plain.canonical()
    assert ChatRequest.of(ask, stop="x").stop == ("x",)
    for bad in (("a",) * 5, ("",)):
        with pytest.raises(ValueError, match="stop takes at most 4 non-empty strings"):
            ChatRequest.of(ask, stop=bad)


class _Pending:
    """A model whose answers wait until the test gives them; it records what it was asked."""

    def __init__(self):
        self.futures = {}

    def submit(self, messages, max_tokens, temperature, seed, stop=()):
        from concurrent.futures import Future

        from pluralign.llm.types import Completion

        future = Future()
        said = messages[-1]["content"]
        self.futures[said] = future
        if said == "too long":
            future.set_exception(ValueError("the prompt has 9000 tokens; the context holds 8192"))
        elif said == "boom":
            future.set_exception(RuntimeError("the model broke"))
        elif said != "wait":
            future.set_result(Completion(text=said.upper(), model="fake", prompt_tokens=1,
                                         completion_tokens=1))
        return future


def test_a_client_that_goes_away_has_its_request_dropped_and_errors_are_its_own():
    from concurrent.futures import ThreadPoolExecutor

    from conftest_llm import ServerThread

    from pluralign.llm.serve import create_app

    fake = _Pending()
    app = create_app(fake, "fake")
    with ServerThread(app) as srv:
        url = f"{srv.base_url}/chat/completions"

        def ask(text, timeout=30):
            body = {"messages": [{"role": "user", "content": text}], "max_tokens": 8}
            return httpx.post(url, json=body, timeout=timeout)

        with pytest.raises(httpx.ReadTimeout):
            ask("wait", timeout=0.5)  # the client gives up while its answer is pending
        deadline = time.time() + 10
        while not fake.futures["wait"].cancelled() and time.time() < deadline:
            time.sleep(0.05)
        assert fake.futures["wait"].cancelled()  # the batcher drops a cancelled request
        health = httpx.get(srv.base_url.replace("/v1", "/health")).json()
        assert health["disconnected"] == 1
        with ThreadPoolExecutor(3) as pool:
            long, boom, fine = pool.map(ask, ["too long", "boom", "fine"])
        assert long.status_code == 400 and "context holds 8192" in long.json()["error"]["message"]
        assert boom.status_code == 500 and boom.json()["error"]["type"] == "server_error"
        assert fine.json()["choices"][0]["message"]["content"] == "FINE"
