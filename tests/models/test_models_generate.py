"""Batched generation on a small random Llama (built in memory in a second): the shared prompt
prefix is encoded once, and the output is the same as generating each prompt alone."""

from __future__ import annotations

import functools

import pytest

from pluralign.models import generate as G

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      pad_token_id=0, eos_token_id=1)
    return LlamaForCausalLM(cfg).eval()


def test_shared_prefix_length():
    system = list(range(2, 14))  # 12 tokens every prompt starts with
    assert G.shared_prefix_length([system + [20, 21], system + [30]]) == 12
    # one token of each prompt is left to predict from
    assert G.shared_prefix_length([system, system + [40, 41]]) == 11
    assert G.shared_prefix_length([system + [20]]) == 0  # one prompt: nothing to share
    short = system[: G.MIN_SHARED_PREFIX - 1]
    assert G.shared_prefix_length([short + [50], short + [60]]) == 0  # too short to bother
    assert G.shared_prefix_length([[5] + system, [6] + system]) == 0


def _requests():
    seeded = torch.Generator().manual_seed(1)
    system = [int(t) for t in torch.randint(2, 96, (20,), generator=seeded)]
    tails = [[40, 41, 42], [50], [60, 61, 62, 63, 64, 65, 66], [70, 71]]
    return [G.GenerationRequest(system + t, max_new_tokens=12) for t in tails]


def test_a_shared_prefix_is_encoded_once_and_changes_nothing(model, monkeypatch):
    reqs = _requests()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    widths: list[int] = []
    forward = model.forward

    @functools.wraps(forward)  # the same signature: generate_batch picks the cache keyword by it
    def spy(*args, **kwargs):
        widths.append(kwargs["input_ids"].shape)
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    batched = G.generate_batch(model, reqs, **kw)
    assert batched == single
    assert all(len(g.token_ids) == 12 for g in batched)  # random weights: no early end token
    assert widths[0] == (1, 20)  # the prefix, once
    assert widths[1] == (4, 7)  # then each prompt's own tokens, left-padded
    monkeypatch.setattr(G, "MIN_SHARED_PREFIX", 10_000)  # the plain left-padded batch
    widths.clear()
    assert G.generate_batch(model, reqs, **kw) == single
    assert widths[0] == (4, 27)
