"""Batched generation on a small random Llama (built in memory in a second): the shared prompt
prefix is encoded once, and the output is the same as generating each prompt alone."""

from __future__ import annotations

import functools
import time

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


def _spy_shapes(model, monkeypatch) -> list:
    """Record the input_ids shape of every forward pass of ``model``."""
    shapes: list = []
    forward = model.forward

    @functools.wraps(forward)  # the same signature: generate_batch picks the cache keyword by it
    def spy(*args, **kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    return shapes


def test_a_shared_prefix_is_encoded_once_and_changes_nothing(model, monkeypatch):
    reqs = _requests()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    widths = _spy_shapes(model, monkeypatch)
    monkeypatch.setattr(G, "PACKED_PREFILL", False)  # the left-padded prefill
    batched = G.generate_batch(model, reqs, **kw)
    assert batched == single
    assert all(len(g.token_ids) == 12 for g in batched)  # random weights: no early end token
    assert widths[0] == (1, 20)  # the prefix, once
    assert widths[1] == (4, 7)  # then each prompt's own tokens, left-padded
    monkeypatch.setattr(G, "PACKED_PREFILL", True)  # packed: the 3 + 1 + 7 + 2 own tokens
    widths.clear()
    assert G.generate_batch(model, reqs, **kw) == single
    assert widths[:2] == [(1, 20), (1, 13)] and widths[2] == (4, 1)
    monkeypatch.setattr(G, "MIN_SHARED_PREFIX", 10_000)  # no shared prefix: 23 to 27 tokens
    for packed in (False, True):  # rows this alike pad more cheaply than they pack
        monkeypatch.setattr(G, "PACKED_PREFILL", packed)
        widths.clear()
        assert G.generate_batch(model, reqs, **kw) == single
        assert widths[0] == (4, 27)


def test_packing_is_chosen_where_it_costs_less_than_padding(model):
    batch = G.DecodeBatch(model, end_ids={1}, pad_id=0)
    assert batch._packing_pays([3, 1, 7, 2], shared=20)  # short, unequal rests after a prefix
    assert batch._packing_pays([200] + [4] * 7, shared=0)  # one long prompt among short ones
    assert not batch._packing_pays([25, 26, 27, 24], shared=0)  # alike: little padding
    assert not batch._packing_pays([150] * 16, shared=0)  # many long rows: attention dominates
    assert not batch._packing_pays([5000, 1], shared=0)  # mask too large


def test_a_model_that_ignores_a_4d_mask_is_found_out_and_padded_for(model, monkeypatch):
    """Before the first packed prefill on a model, a packed and a padded prefill of two short
    rows are compared; a model that does not honour the packed prefill's 4D mask (here: one that
    drops it, attending across rows) gets the padded prefill from then on, and the same
    answers."""
    reqs = _requests()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    forward = model.forward

    @functools.wraps(forward)
    def no_4d(*args, **kwargs):
        mask = kwargs.get("attention_mask")
        if mask is not None and mask.dim() == 4:
            kwargs["attention_mask"] = None
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", no_4d)
    monkeypatch.setattr(G, "_PACKED_OK", G.weakref.WeakKeyDictionary())
    batch = G.DecodeBatch(model, **kw)
    assert batch.packed_prefill is None
    results = dict(batch.add(reqs[:2], [0, 1]))
    assert batch.packed_prefill is False and G._PACKED_OK[model] is False
    results.update(batch.add(reqs[2:], [2, 3]))
    while len(batch):
        results.update(batch.step())
    assert [results[i] for i in range(4)] == single
    assert G.DecodeBatch(model, **kw).packed_prefill is False  # remembered for the model
    monkeypatch.setattr(model, "forward", forward)
    monkeypatch.setattr(G, "_PACKED_OK", G.weakref.WeakKeyDictionary())
    batch = G.DecodeBatch(model, **kw)
    batch.add(reqs[:2], [0, 1])
    assert batch.packed_prefill is True and G._PACKED_OK[model] is True


def _staggered():
    """Prompts of different lengths (some sharing a system prefix) and budgets."""
    seeded = torch.Generator().manual_seed(2)
    system = [int(t) for t in torch.randint(2, 96, (14,), generator=seeded)]
    return [
        G.GenerationRequest(system + [40, 41, 42], max_new_tokens=16),
        G.GenerationRequest(system + [50], max_new_tokens=3),
        G.GenerationRequest([7, 8, 9, 10, 11], max_new_tokens=9),
        G.GenerationRequest(system + [60, 61, 62, 63, 64, 65, 66, 67, 68], max_new_tokens=5),
        G.GenerationRequest([12] * 23, max_new_tokens=2),
    ]


def test_rows_join_a_running_batch_and_leave_when_done_with_unchanged_greedy_output(model):
    reqs = _staggered()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    assert [len(g.token_ids) for g in single] == [16, 3, 9, 5, 2]
    batch = G.DecodeBatch(model, **kw)
    done: dict[int, G.Generation] = {}
    order: list[int] = []

    def collect(finished):
        for key, result in finished:
            assert not isinstance(result, BaseException), result
            done[key] = result
            order.append(key)

    collect(batch.add(reqs[:2], [0, 1]))  # 0 and 1 start together
    sizes = [len(batch)]
    step = 0
    while len(batch):
        if step == 1:
            collect(batch.add([reqs[2]], [2]))  # joins after 0 and 1 decoded 2 tokens
        if step == 4:
            collect(batch.add(reqs[3:], [3, 4]))  # two more join a batch of two
        collect(batch.step())
        sizes.append(len(batch))
        step += 1
    assert step == 15 and sorted(done) == [0, 1, 2, 3, 4]
    assert [done[i] for i in range(5)] == single  # token for token, wherever a row sat
    assert order.index(1) < order.index(2) < order.index(0)  # short rows left first
    assert order.index(4) < order.index(3) < order.index(0)  # the newcomers too
    assert max(sizes) == 3 and batch.steps < sum(len(g.token_ids) for g in single)


def test_packed_prefills_of_staggered_joiners_give_one_at_a_time_answers(model, monkeypatch):
    """The packed prefill (each joining group's own tokens in one unpadded sequence) on rows that
    arrive at different steps with different prompt lengths and budgets, with and without a
    shared prefix: token for token the answers of one request at a time."""
    reqs = _staggered()  # 17, 15, 5, 23 and 23 prompt tokens; 0, 1 and 3 share 14 of them
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    monkeypatch.setattr(G, "PACKED_PREFILL", True)
    shapes = _spy_shapes(model, monkeypatch)
    batch = G.DecodeBatch(model, **kw)
    results = dict(batch.add([reqs[0], reqs[2]], [0, 2]))  # nothing shared: 17 + 5 packed
    sizes = []
    for step in range(12):
        if step == 2:  # two join: their 14-token prefix once, then their own 1 + 9 tokens
            results.update(batch.add([reqs[1], reqs[3]], [1, 3]))
        if step == 5:  # one joins alone (nothing to pack: the plain prefill)
            results.update(batch.add([reqs[4]], [4]))
        results.update(batch.step())
        sizes.append(len(batch))
    while len(batch):
        results.update(batch.step())
    prefills = [s for s in shapes if s[1] > 1]
    assert prefills == [(1, 22), (1, 14), (1, 10), (1, 23)]
    assert max(sizes) == 4 and len(batch) == 0
    assert [results[i] for i in range(5)] == single
    assert batch.mask is None  # every row left


def test_finished_rows_leave_and_unused_cache_columns_are_trimmed(model):
    reqs = _staggered()
    batch = G.DecodeBatch(model, end_ids={1}, pad_id=0)
    batch.add([reqs[4], reqs[2]], ["long prompt", "short prompt"])  # 23 and 5 prompt tokens
    assert batch.mask.shape == (2, 23)
    finished = batch.step()  # the long prompt's row has its 2 tokens and leaves
    assert [k for k, _ in finished] == ["long prompt"]
    # what is cached: the short prompt's 5 tokens and its first reply token (the 18 padding
    # columns only the long prompt used are gone)
    assert batch.keys == ["short prompt"] and batch.mask.shape == (1, 6)
    assert batch.cache.get_seq_length() == 6 and bool(batch.mask.all())


def test_a_bad_request_fails_alone(model):
    reqs = _staggered()
    batch = G.DecodeBatch(model, end_ids={1}, pad_id=0)
    too_long = G.GenerationRequest([5] * model.config.max_position_embeddings, 4)
    finished = dict(batch.add([reqs[0], G.GenerationRequest([], 4), too_long,
                               G.GenerationRequest([5, 6], 0), reqs[1]], list("abcde")))
    assert "empty prompt" in str(finished["b"]) and "context holds 256" in str(finished["c"])
    assert "at least 1" in str(finished["d"]) and sorted(batch.keys) == ["a", "e"]
    with pytest.raises(ValueError, match="stop strings need a tokenizer"):
        G.generate_batch(model, [G.GenerationRequest([5, 6], 3, stop=("x",))],
                         end_ids={1}, pad_id=0)
    # a prompt that fits but leaves fewer positions than asked for stops at the context's end
    near = G.generate_batch(model, [G.GenerationRequest([5] * 250, 20)], end_ids={1}, pad_id=0)
    assert near[0].finish_reason == "length" and len(near[0].token_ids) == 6


def test_a_failing_prefill_is_retried_alone_so_only_its_request_fails(model, monkeypatch):
    reqs = _staggered()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs[:3]]
    poison = 77  # a token id the stand-in model "cannot" take
    forward = model.forward

    @functools.wraps(forward)
    def flaky(*args, **kwargs):
        if (kwargs["input_ids"] == poison).any():
            raise RuntimeError("cannot take token 77")
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", flaky)
    bad = G.GenerationRequest([3, 4, poison, 5], 4)
    batch = G.DecodeBatch(model, **kw)
    results = dict(batch.add([reqs[0], bad, reqs[1], reqs[2]], [0, "bad", 1, 2]))
    assert isinstance(results.pop("bad"), RuntimeError) and not results
    while len(batch):
        results.update(batch.step())
    assert [results[i] for i in range(3)] == single


def test_the_queue_resolves_each_request_when_it_ends_and_drops_cancelled_ones(model):
    class Tok:  # what BatchingGenerator needs of a tokenizer
        eos_token_id = 1
        pad_token_id = 0

        @staticmethod
        def decode(ids, skip_special_tokens=True):
            return " ".join(f"t{i}" for i in ids)

    reqs = _staggered()
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    batcher = G.BatchingGenerator(model, Tok(), max_batch=3, window=0.05)
    try:
        futures = [batcher.submit(r) for r in reqs]
        got = [f.result(timeout=60) for f in futures]
        assert got == single and max(batcher.batches) == 3  # never more than max_batch rows
        assert batcher.stats["joined"] == 5 and got[1].text == Tok.decode(single[1].token_ids)
        # stop strings: the reply ends at the first one, which is not part of the text
        third = Tok.decode(single[0].token_ids[2:3])
        cut = batcher.generate(G.GenerationRequest(reqs[0].prompt_ids, 16, stop=(third,)))
        assert cut.finish_reason == "stop" and cut.text == Tok.decode(single[0].token_ids[:2]) + " "
        assert cut.token_ids == single[0].token_ids[:3]
        # a cancelled request leaves the batch; the others are unaffected
        long = G.GenerationRequest(reqs[0].prompt_ids, 200)
        f_long, f_short = batcher.submit(long), batcher.submit(reqs[1])
        assert f_short.result(timeout=60) == single[1]
        assert f_long.cancel()
        deadline = time.monotonic() + 30
        while batcher.stats["cancelled"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert batcher.stats["cancelled"] == 1
        assert batcher.generate(reqs[2]) == single[2]  # the worker goes on
    finally:
        batcher.close()


def test_a_lone_request_later_starts_from_the_kept_prefix(model, monkeypatch):
    reqs = _staggered()  # 0, 1 and 3 share a 14-token system prefix
    kw = {"end_ids": {1}, "pad_id": 0}
    single = [G.generate_batch(model, [r], **kw)[0] for r in reqs]
    batch = G.DecodeBatch(model, **kw)
    results = dict(batch.add(reqs[:2], [0, 1]))  # runs the 14 shared tokens once, keeps them
    assert len(batch.prefix_ids) == 14 and batch.prefix_reused == 0
    shapes: list[tuple[int, ...]] = []
    forward = model.forward

    @functools.wraps(forward)
    def spy(*args, **kwargs):
        shapes.append(tuple(kwargs["input_ids"].shape))
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    results.update(batch.step())
    results.update(batch.add([reqs[3]], [3]))  # alone: only its 9 own tokens are run
    assert shapes == [(2, 1), (1, 9)] and batch.prefix_reused == 1
    results.update(batch.add([reqs[2]], [2]))  # no common start: the whole prompt
    assert shapes[-1] == (1, 5) and batch.prefix_reused == 1
    while len(batch):
        results.update(batch.step())
    assert [results[i] for i in range(4)] == single[:4]
