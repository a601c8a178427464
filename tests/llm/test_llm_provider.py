"""Providers against real servers: ``pluralign serve`` with the tiny model, and a scripted
OpenAI-compatible server for retries, failures and structured output."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel

from pluralign.errors import InputError, ProviderError
from pluralign.llm.config import ProviderSettings
from pluralign.llm.options import ProviderFlags, build_config
from pluralign.llm.provider import open_provider
from pluralign.llm.types import ChatRequest

pytest_plugins = ["conftest_llm"]  # tiny model and scripted server fixtures


class Pick(BaseModel):
    winner: str


def req(text: str, **kw) -> ChatRequest:
    return ChatRequest.of([("user", text)], max_tokens=kw.pop("max_tokens", 6), **kw)


def http(base_url: str, **kw):
    kw.setdefault("backoff", 0.01)
    return open_provider(ProviderSettings(base_url=base_url, **kw))


def test_served_tiny_model_answers_with_usage_and_seed(tiny_server):
    with http(tiny_server.base_url) as prov:
        a = prov.complete(req("hello", temperature=1.0, seed=3))
        b = prov.complete(req("hello", temperature=1.0, seed=3))
        assert a.model == "tiny" and prov.model_name() == "tiny"
        assert a.text == b.text  # same seed, same sample
        assert a.completion_tokens == 6 and a.prompt_tokens > 0
        assert prov.usage.completion_tokens == 12 and prov.usage.failures == 0


def test_warm_cache_sends_no_request(tiny_server, tmp_path):
    reqs = [req(f"question {i}") for i in range(5)]
    with http(tiny_server.base_url, model="tiny", cache_dir=tmp_path) as prov:
        cold = prov.complete_many(reqs)
        assert prov.usage.cache_hits == 0
    before = tiny_server.requests()
    with http(tiny_server.base_url, model="tiny", cache_dir=tmp_path) as prov:
        warm = prov.complete_many(reqs)
        assert prov.usage.requests == 0 and prov.usage.cache_hits == 5
    assert tiny_server.requests() == before
    assert [c.text for c in warm] == [c.text for c in cold] and all(c.cached for c in warm)


def test_cache_key_covers_settings_and_model():
    cfg = ProviderSettings(base_url="http://x/v1", model="m")
    other = ProviderSettings(base_url="http://x/v1", model="n")
    r = req("q")
    assert r.key(cfg.identity()) == req("q").key(cfg.identity())
    assert r.key(cfg.identity()) != r.key(other.identity())
    assert r.key(cfg.identity()) != req("q", seed=1).key(cfg.identity())
    assert r.key(cfg.identity()) != req("q", max_tokens=7).key(cfg.identity())


def test_structured_failure_is_counted_not_guessed(tiny_server):
    # pluralign serve rejects response_format; the provider retries without it, then the
    # nonsense reply fails validation twice (first try + one repair) and is counted.
    with http(tiny_server.base_url, model="tiny") as prov:
        res = prov.structured(req("pick one"), Pick)
        assert res.value is None and len(res.raw) == 2
        assert prov.usage.structured_failures == 1 and not prov.sends_schema


def test_structured_with_schema_and_repair(scripted):
    script, url = scripted
    replies = iter(['{"winner": 5}', 'ok: {"winner": "1"}'])
    script.default = lambda body: next(replies)
    with http(url) as prov:
        res = prov.structured(req("pick"), Pick)
    assert res.ok and res.repaired and res.value.winner == "1"
    assert script.seen[0]["response_format"]["type"] == "json_schema"
    assert "not valid" in script.seen[1]["messages"][-1]["content"]
    assert prov.usage.structured_failures == 0


def test_schema_rejection_falls_back_once(scripted):
    script, url = scripted
    script.reject_schema = True
    script.default = '{"winner": "2"}'
    with http(url) as prov:
        assert prov.structured(req("a"), Pick).value.winner == "2"
        assert prov.structured(req("b"), Pick).value.winner == "2"
    with_schema = [b for b in script.seen if "response_format" in b]
    assert len(with_schema) == 1 and len(script.seen) == 3


def test_retries_on_500_then_succeeds(scripted):
    script, url = scripted
    script.fail_next, script.default = 2, "fine"
    with http(url, max_retries=3) as prov:
        assert prov.complete(req("x")).text == "fine"
        assert prov.usage.retries == 2 and prov.usage.failures == 0


@pytest.mark.parametrize("status", [500, 503, 429])
def test_persistent_server_errors_raise_provider_error_naming_url(scripted, status):
    script, url = scripted
    script.fail_next, script.fail_status = 100, status
    with http(url, model="scripted", max_retries=2) as prov, pytest.raises(ProviderError) as err:
        prov.complete(req("x"))
    assert f"{url}/chat/completions" in str(err.value) and f"HTTP {status}" in str(err.value)
    assert prov.usage.requests == 3 and prov.usage.failures == 1


def test_client_error_is_not_retried(scripted):
    script, url = scripted
    script.fail_next, script.fail_status = 100, 401
    with (
        http(url, model="scripted", max_retries=3) as prov,
        pytest.raises(ProviderError, match="HTTP 401"),
    ):
        prov.complete(req("x"))
    assert prov.usage.requests == 1


def test_server_down_is_a_clear_error():
    from conftest_llm import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    with http(url, model="m", max_retries=1) as prov, pytest.raises(ProviderError) as err:
        prov.complete(req("x"))
    assert url in str(err.value) and "cannot connect" in str(err.value)
    assert "--base-url" in str(err.value)


def test_timeout_is_retried_then_reported(scripted):
    script, url = scripted
    script.delay = 1.0
    t0 = time.time()
    with http(url, max_retries=1, timeout=0.2) as prov, pytest.raises(ProviderError) as err:
        prov.complete(req("x"))
    assert "timed out after 0.2 s" in str(err.value) and prov.usage.retries == 1
    assert time.time() - t0 < 5


def test_complete_many_keeps_failures_in_place(scripted):
    script, url = scripted
    script.fail_if, script.fail_status, script.default = "two", 400, "good"
    with http(url, model="scripted", concurrency=3) as prov:
        out = prov.complete_many([req("one"), req("two"), req("three")])
    assert out[0].text == out[2].text == "good"
    assert isinstance(out[1], ProviderError) and "HTTP 400" in out[1].message
    assert prov.usage.failures == 1


def test_api_key_env_is_sent_and_required(scripted, monkeypatch):
    script, url = scripted
    monkeypatch.delenv("PLURALIGN_TEST_KEY", raising=False)
    with pytest.raises(ProviderError, match="PLURALIGN_TEST_KEY"):
        http(url, api_key_env="PLURALIGN_TEST_KEY")
    monkeypatch.setenv("PLURALIGN_TEST_KEY", "sk-test")
    with http(url, api_key_env="PLURALIGN_TEST_KEY") as prov:
        prov.complete(req("x"))


def test_config_validation_and_flags(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        ProviderSettings()
    with pytest.raises(ValueError, match="adapter needs checkpoint"):
        ProviderSettings(base_url="http://x/v1", adapter=tmp_path)
    default = build_config()  # no model named: the embedded model, locally
    assert str(default.checkpoint) == "smollm2" and default.kind == "local"
    assert default.identity().startswith("local:embedded:SmolLM2-135M-Instruct@sha256:")
    with pytest.raises(InputError, match="--adapter needs --checkpoint"):
        build_config(adapter=tmp_path)
    yml = tmp_path / "pipeline.yaml"
    yml.write_text("llm:\n  base_url: http://h:1/v1\n  model: m\n  concurrency: 2\n")
    cfg = build_config(config_file=yml, model="override")
    assert (cfg.base_url, cfg.model, cfg.concurrency) == ("http://h:1/v1", "override", 2)
    yml.write_text("llm:\n  base_url: http://h:1/v1\n  concurency: 2\n")
    with pytest.raises(InputError, match="concurency"):
        build_config(config_file=yml)


def test_provider_flags_read_every_llm_command_by_name(tmp_path):
    """Commands hand their locals() to ProviderFlags.of: each must declare every field by name."""
    import inspect
    from dataclasses import fields

    from pluralign.commands import llm as cli
    from pluralign.commands import llm_models as model_cli

    names = {f.name for f in fields(ProviderFlags)}
    commands = (cli.questions_cmd, cli.revise_cmd, cli.refine_cmd, cli.filter_cmd)
    for command in (*commands, model_cli.interview_cmd, model_cli.judge_cmd):
        assert names <= set(inspect.signature(command).parameters), command.__name__
    judge = ProviderFlags.of(
        {**dict.fromkeys(names), "api_key_env": "K", "timeout": 5.0, "provider_config": tmp_path}
    )
    a = judge.other_model("http://a/v1", "ma", None, None)
    assert (a.base_url, a.model, a.api_key_env, a.timeout) == ("http://a/v1", "ma", "K", 5.0)
    assert a.provider_config is None and judge.provider_config == tmp_path
    with pytest.raises(InputError, match="--a-adapter needs --a-checkpoint"):
        ProviderFlags(adapter=tmp_path).config("--a-")
    cfg = ProviderFlags(base_url="http://h:1/v1", cache=tmp_path, max_retries=1).config()
    assert (cfg.base_url, cfg.cache_dir, cfg.max_retries) == ("http://h:1/v1", tmp_path, 1)


def test_local_provider_with_cache(tiny_checkpoint, tmp_path):
    cfg = ProviderSettings(checkpoint=tiny_checkpoint, cache_dir=tmp_path)
    with open_provider(cfg) as prov:
        c = prov.complete(req("hello", max_tokens=4))
        assert c.completion_tokens == 4 and prov.usage.requests == 1
    with open_provider(cfg) as prov:
        assert prov.complete(req("hello", max_tokens=4)).text == c.text
        assert prov.usage.requests == 0 and prov._model is None  # never loaded


def test_local_prompt_longer_than_the_context_is_a_clear_error(tiny_checkpoint, tmp_path):
    cfg = ProviderSettings(checkpoint=tiny_checkpoint, cache_dir=tmp_path)
    with open_provider(cfg) as prov, pytest.raises(ProviderError, match="context holds"):
        prov.complete(req("a long prompt about the assembly " * 800, max_tokens=4))


def test_local_provider_bad_checkpoint(tmp_path):
    with (
        open_provider(ProviderSettings(checkpoint=tmp_path)) as prov,
        pytest.raises(InputError, match="config.json"),
    ):
        prov.complete(req("x"))


@pytest.fixture(scope="module")
def lora_adapter(tiny_checkpoint, tmp_path_factory):
    """A random (non-zero) LoRA adapter on the tiny model, saved with PEFT."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_checkpoint)
    cfg = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    folder = tmp_path_factory.mktemp("lora") / "adapter"
    get_peft_model(base, cfg).save_pretrained(folder)
    return folder


def test_local_adapter_changes_answers_and_cache_identity(tiny_checkpoint, lora_adapter, tmp_path):
    base_cfg = ProviderSettings(checkpoint=tiny_checkpoint, cache_dir=tmp_path)
    tuned_cfg = ProviderSettings(checkpoint=tiny_checkpoint, adapter=lora_adapter,
                                 cache_dir=tmp_path)
    assert base_cfg.identity() != tuned_cfg.identity()
    r = req("Say something.", max_tokens=8)
    with open_provider(base_cfg) as base, open_provider(tuned_cfg) as tuned:
        a, b = base.complete(r), tuned.complete(r)
        assert tuned.usage.requests == 1 and tuned.usage.cache_hits == 0
        assert tuned.model_name().endswith(str(lora_adapter))
    assert a.text != b.text or a.completion_tokens != b.completion_tokens


def test_judge_base_against_adapter_in_process(tiny_checkpoint, lora_adapter, scripted, tmp_path):
    import json

    from pluralign.constitution.document import Clause
    from pluralign.llm.judge import run_judge

    script, url = scripted
    script.rules = [("[Response 1]", "tie")]  # plain-text verdict, accepted by the parser
    clauses = [Clause("c1", "The assistant should be kind.")]
    prompts = [
        {"id": "1", "prompt": "Hello?", "clause_id": "c1"},
        {"id": "2", "prompt": "Help me.", "clause_id": None},
    ]
    with (
        open_provider(ProviderSettings(checkpoint=tiny_checkpoint)) as a,
        open_provider(ProviderSettings(checkpoint=tiny_checkpoint, adapter=lora_adapter)) as b,
        http(url) as judge,
    ):
        s = run_judge(
            a,
            b,
            judge,
            prompts,
            clauses,
            tmp_path / "j",
            answer_tokens=6,
            n_boot=200,
            show_progress=False,
        )
    assert s.overall["ties"] == 2 and s.overall["win_rate_b"] == 0.5
    saved = json.loads((tmp_path / "j" / "judge.json").read_text())
    assert saved["model_b"].endswith("adapter") and [
        r["clause_id"] for r in saved["per_clause"]
    ] == ["(all)", "c1"]
    # the judge saw the clause for item 1 and the whole constitution for item 2
    judged = [b["messages"][-1]["content"] for b in script.seen]
    assert all("- The assistant should be kind." in t for t in judged)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_is_bounded(scripted, concurrency):
    script, url = scripted
    script.delay, script.default = 0.1, "ok"
    with http(url, model="scripted", concurrency=concurrency) as prov:
        out = prov.complete_many([req(f"q{i}") for i in range(7)])
    assert [o.text for o in out] == ["ok"] * 7
    assert script.max_in_flight == concurrency
