"""The embedded SmolLM2-135M-Instruct itself, offline: it loads from the converted cache with its
chat template, answers in English, and batched greedy decoding equals one-at-a-time decoding."""

from __future__ import annotations

import json

import pytest

from pluralign.models import model_info
from pluralign.models.generate import (
    BatchingGenerator,
    GenerationRequest,
    chat_prompt_ids,
    end_token_ids,
    generate_batch,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]

PROMPTS = [
    "What is the capital of France?",
    "Write one sentence about the sea.",
    "Should an AI assistant pretend to be my boyfriend?",
    "What is 17 times 3?",
    "Give me one tip for a job interview.",
    "Hi",
]


def test_checkpoint_is_recorded_and_has_the_chat_template(smollm2_path, smollm2):
    record = json.loads((smollm2_path / "pluralign_model.json").read_text())
    assert record["source"]["sha256"].startswith("b179c952") and record["licence"] == "Apache-2.0"
    info = model_info(smollm2_path)
    assert info["base"] == "SmolLM2-135M-Instruct" and info["chat_template"]
    assert 130e6 < info["parameters"] < 140e6 and info["sha256"] == record["source"]["sha256"]
    model, tok = smollm2
    text = tok.apply_chat_template([{"role": "user", "content": "Hi"}], tokenize=False,
                                   add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    assert tok.convert_ids_to_tokens(sorted(end_token_ids(model, tok))) == ["<|im_end|>"]


def test_batched_greedy_equals_one_at_a_time_and_is_english(smollm2):
    model, tok = smollm2
    reqs = [GenerationRequest(chat_prompt_ids(tok, [{"role": "user", "content": p}]), 20)
            for p in PROMPTS]
    kw = {"end_ids": end_token_ids(model, tok), "pad_id": tok.pad_token_id}
    single = [generate_batch(model, [r], **kw)[0] for r in reqs]
    batched = generate_batch(model, reqs, **kw)
    assert batched == single
    answers = [tok.decode(g.token_ids) for g in single]
    assert "Paris" in answers[0] and "51" in answers[3]
    assert {g.finish_reason for g in single} == {"stop", "length"}
    # the same through the queue that serve and the local provider use, from many threads
    from concurrent.futures import ThreadPoolExecutor

    batcher = BatchingGenerator(model, tok, max_batch=8, window=0.05)
    try:
        with ThreadPoolExecutor(len(reqs)) as pool:
            queued = list(pool.map(batcher.generate, reqs))
    finally:
        batcher.close()
    assert queued == single and max(batcher.batches) > 1


def test_sampled_requests_depend_on_their_seed_only(smollm2):
    model, tok = smollm2
    kw = {"end_ids": end_token_ids(model, tok), "pad_id": tok.pad_token_id}
    ids = chat_prompt_ids(tok, [{"role": "user", "content": "Name a colour."}])
    alone = generate_batch(model, [GenerationRequest(ids, 8, 1.0, seed=3)], **kw)[0]
    other = GenerationRequest(chat_prompt_ids(tok, [{"role": "user", "content": "Hello"}]), 8)
    mixed = generate_batch(model, [other, GenerationRequest(ids, 8, 1.0, seed=3)], **kw)[1]
    assert alone == mixed


def test_requests_joining_a_running_batch_get_their_one_at_a_time_answers(smollm2):
    """Continuous batching on the real model: staggered arrivals, different prompt lengths and
    budgets, a stop string; rows leave when done, newcomers join between steps."""
    from pluralign.models.generate import DecodeBatch

    model, tok = smollm2
    asks = [("Write one sentence about the sea.", 24), ("Hi", 6), ("What is 17 times 3?", 12),
            ("Give me one tip for a job interview.", 16)]
    reqs = [GenerationRequest(chat_prompt_ids(tok, [{"role": "user", "content": q}]), n)
            for q, n in asks]
    kw = {"end_ids": end_token_ids(model, tok), "pad_id": tok.pad_token_id}
    single = [generate_batch(model, [r], **kw)[0] for r in reqs]
    batch = DecodeBatch(model, **kw, decode=lambda ids: tok.decode(ids, skip_special_tokens=True))
    got, order = {}, []
    for step in range(40):
        if step == 0:
            finished = batch.add(reqs[:1], [0])
        elif step == 3:
            finished = batch.add(reqs[1:3], [1, 2])  # two join after 3 tokens of the first
        elif step == 6:
            finished = batch.add(reqs[3:], [3])  # alone, from the kept system prefix
        else:
            finished = batch.step()
        for key, result in finished:
            got[key] = result
            order.append(key)
    assert len(batch) == 0 and [got[i] for i in range(4)] == single
    assert order[-1] == 0 and batch.prefix_reused >= 1
    # a stop string cuts the reply before it
    text = tok.decode(single[0].token_ids, skip_special_tokens=True)
    word = text.split()[3]
    cut = generate_batch(model, [GenerationRequest(reqs[0].prompt_ids, 24, stop=(word,))], **kw,
                         decode=lambda ids: tok.decode(ids, skip_special_tokens=True))[0]
    assert cut.finish_reason == "stop" and cut.text == text[: text.index(word)]
