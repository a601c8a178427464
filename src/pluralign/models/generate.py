"""Batched generation with a KV cache, and a queue that batches concurrent requests.

:func:`generate_batch` decodes several prompts at once: the prompts are **left-padded** to one
width (so every row's next token sits in the last column), position ids count only real tokens,
the attention mask hides the padding, and the key/value cache of every layer is kept between
steps (``DynamicCache``), so each step feeds one new token per row. A row stops at an end token or
at its own ``max_new_tokens``; finished rows leave the batch (their cache rows are dropped), so a
long request does not make short ones pay. Greedy rows take the arg-max; a row with a temperature
samples from softmax(logits / T) with its own ``torch.Generator`` seeded by the request, so its
answer does not depend on which other requests shared the batch. Greedy output is the same as
generating each prompt alone (a test checks it token for token).

**A shared prefix is encoded once.** Chat prompts of one batch usually begin alike: the chat
template's system turn, and for a synthesis step the same instructions and few-shot turns. On a
CPU the prompt pass (prefill) is compute-bound, so it costs as much batched as one prompt at a
time, and with short replies it is a large part of a batch's time. The longest common prefix of the
batch's prompts (at least :data:`MIN_SHARED_PREFIX` tokens, and short of every prompt's last token)
is therefore run once, its cache copied to every row, and only the rest of each prompt (left-padded
after the prefix: ``[prefix | padding | rest]``, the padding masked, positions counting real tokens)
is run per row. Every row attends to the same keys and values as before, so the output does not
change.

:class:`BatchingGenerator` puts a queue in front of it: callers from any thread
(:meth:`BatchingGenerator.generate`) wait on a future; one worker thread takes every request that
arrived within a few milliseconds of the first (at most ``max_batch``) and decodes them together.
That is how ``pluralign serve`` and the local provider turn concurrent requests into throughput.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to continue: token ids (already chat-formatted), a budget, how to choose."""

    prompt_ids: Sequence[int]
    max_new_tokens: int
    temperature: float = 0.0
    seed: int | None = None


@dataclass(frozen=True)
class Generation:
    """New token ids (the end token excluded) and why decoding stopped: ``stop`` or ``length``."""

    token_ids: tuple[int, ...]
    finish_reason: str


def end_token_ids(model, tokenizer) -> set[int]:
    """Token ids that end a reply: the generation config's eos id(s) and the tokenizer's eos."""
    ids: set[int] = set()
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in eos if isinstance(eos, (list, tuple)) else [eos]:
        if value is not None:
            ids.add(int(value))
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return ids


def chat_prompt_ids(tokenizer, messages: Sequence[dict[str, str]]) -> list[int]:
    """The chat template applied to ``messages`` with the assistant's generation prompt."""
    text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _cache_keyword(model) -> str:
    """``cache`` (transformers >= 5.2x) or ``past_key_values`` (older, and many remote models):
    whichever the underlying model's forward takes."""
    import inspect

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(inner.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


#: The shortest common prompt prefix that is encoded once for the whole batch (module docstring).
MIN_SHARED_PREFIX = 8


def shared_prefix_length(prompts: Sequence[Sequence[int]]) -> int:
    """Tokens at the start of every prompt that are run once for the batch: the longest common
    prefix, stopping one token short of the shortest prompt (each row needs a token of its own to
    predict from); 0 for one prompt or a prefix under :data:`MIN_SHARED_PREFIX` tokens."""
    if len(prompts) < 2:
        return 0
    limit = min(len(p) for p in prompts) - 1
    first = prompts[0]
    k = 0
    while k < limit and all(p[k] == first[k] for p in prompts[1:]):
        k += 1
    return k if k >= MIN_SHARED_PREFIX else 0


def generate_batch(
    model,
    requests: Sequence[GenerationRequest],
    *,
    end_ids: set[int],
    pad_id: int,
) -> list[Generation]:
    """Decode ``requests`` together (module docstring); results in request order."""
    import torch
    from transformers import DynamicCache

    if not requests:
        return []
    device = next(model.parameters()).device
    n = len(requests)
    prompts = [list(r.prompt_ids) for r in requests]
    if not all(prompts):
        raise ValueError("empty prompt")
    shared = shared_prefix_length(prompts)
    rests = [p[shared:] for p in prompts]
    width = max(len(r) for r in rests)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, rest in enumerate(rests):
        ids[i, width - len(rest) :] = torch.as_tensor(rest)
        mask[i, width - len(rest) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = shared + (mask.cumsum(-1) - 1).clamp(min=0)
    generators: list[Any] = []
    for r in requests:
        g = None
        if r.temperature > 0:
            g = torch.Generator(device=device)
            if r.seed is None:
                g.seed()
            else:
                g.manual_seed(int(r.seed))
        generators.append(g)

    out: list[list[int]] = [[] for _ in requests]
    reasons: list[str | None] = [None] * n
    alive = list(range(n))  # request index of each row still in the batch
    cache = DynamicCache()
    cache_kw = _cache_keyword(model)
    step_ids, step_pos = ids, positions
    with torch.inference_mode():
        if shared:  # the common prefix once, its keys and values copied to every row
            prefix = torch.as_tensor([prompts[0][:shared]], device=device)
            model(
                input_ids=prefix,
                attention_mask=torch.ones_like(prefix),
                position_ids=torch.arange(shared, device=device).unsqueeze(0),
                use_cache=True,
                **{cache_kw: cache},
                logits_to_keep=1,
            )
            cache.batch_repeat_interleave(n)
            mask = torch.cat([mask.new_ones((n, shared)), mask], dim=-1)
        while alive:
            logits = model(
                input_ids=step_ids,
                attention_mask=mask,
                position_ids=step_pos,
                use_cache=True,
                **{cache_kw: cache},
                logits_to_keep=1,
            ).logits[:, -1, :]
            chosen = logits.argmax(dim=-1).tolist()
            for row, req_i in enumerate(alive):
                req = requests[req_i]
                if req.temperature > 0:
                    probs = torch.softmax(logits[row].float() / req.temperature, dim=-1)
                    chosen[row] = int(torch.multinomial(probs, 1, generator=generators[req_i]))
                tok = chosen[row]
                if tok in end_ids:
                    reasons[req_i] = "stop"
                else:
                    out[req_i].append(tok)
                    if len(out[req_i]) >= req.max_new_tokens:
                        reasons[req_i] = "length"
            keep = [row for row, req_i in enumerate(alive) if reasons[req_i] is None]
            if not keep:
                break
            next_ids = torch.as_tensor(chosen, device=device).unsqueeze(-1)
            next_pos = step_pos[:, -1:] + 1
            if len(keep) < len(alive):
                index = torch.as_tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask, next_ids, next_pos = mask[index], next_ids[index], next_pos[index]
                alive = [alive[row] for row in keep]
            mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=-1)
            step_ids, step_pos = next_ids, next_pos
    return [Generation(tuple(o), r or "length") for o, r in zip(out, reasons, strict=True)]


@dataclass
class _Job:
    request: GenerationRequest
    future: Future


class BatchingGenerator:
    """Batch concurrent :meth:`generate` calls on one model (module docstring).

    ``max_batch`` bounds the rows decoded together; ``window`` is how long (seconds) the worker
    waits after the first request for more to arrive. The worker is a daemon thread started on
    the first call; :meth:`close` stops it.
    """

    def __init__(self, model, tokenizer, *, max_batch: int = 16, window: float = 0.02):
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max(1, int(max_batch))
        self.window = window
        self.end_ids = end_token_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else min(self.end_ids, default=0))
        self.batches: list[int] = []  # sizes of the batches run (for tests and benchmarks)
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(self, request: GenerationRequest) -> Future:
        """Queue one request; the future resolves to its :class:`Generation`."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="pluralign-generate", daemon=True
                )
                self._thread.start()
        job = _Job(request, Future())
        self._queue.put(job)
        return job.future

    def generate(self, request: GenerationRequest) -> Generation:
        """Queue one request and wait for its generation (errors are re-raised here)."""
        return self.submit(request).result()

    def _take(self) -> list[_Job] | None:
        first = self._queue.get()
        if first is None:
            return None
        jobs = [first]
        deadline = time.monotonic() + self.window
        while len(jobs) < self.max_batch:
            timeout = deadline - time.monotonic()
            try:
                job = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)
                break
            jobs.append(job)
        return jobs

    def _work(self) -> None:
        while True:
            jobs = self._take()
            if jobs is None:
                return
            jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            if not jobs:
                continue
            self.batches.append(len(jobs))
            try:
                results = generate_batch(
                    self.model,
                    [j.request for j in jobs],
                    end_ids=self.end_ids,
                    pad_id=self.pad_id,
                )
            except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                for j in jobs:
                    j.future.set_exception(exc)
                continue
            for j, result in zip(jobs, results, strict=True):
                j.future.set_result(result)

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)
