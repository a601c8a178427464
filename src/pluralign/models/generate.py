"""Batched generation with a KV cache, and a queue that batches concurrent requests continuously.

:class:`DecodeBatch` decodes several prompts at once: the prompts are **left-padded** to one
width (so every row's next token sits in the last column), position ids count only real tokens,
the attention mask hides the padding, and the key/value cache of every layer is kept between
steps (``DynamicCache``), so each step feeds one new token per row. A row stops at an end token,
at its own ``max_new_tokens`` (cut to what the model's context still holds), or at one of its
stop strings; a finished row leaves the batch at once (its cache rows are dropped, and cache
columns no remaining row attends to are trimmed), so a long request does not make short ones pay.
Greedy rows take the arg-max; a row with a temperature samples from softmax(logits / T) with its
own ``torch.Generator`` seeded by the request, so its answer does not depend on which other
requests shared the batch. Greedy output is the same as generating each prompt alone (tests check
it token for token, also for rows that join a running batch).

**Continuous (iteration-level) batching.** New rows may join a running batch between two steps
(:meth:`DecodeBatch.add`): they are prefilled together in a cache of their own, their first
token is chosen, and their cache is merged into the running one: both are left-padded (zero keys
and values, masked) to the longer length and concatenated along the batch. Every row keeps its
own position ids and mask, so a row attends to exactly its own tokens wherever it sits. Merging
needs plain full-attention cache layers (``DynamicLayer``); for any other cache (sliding windows)
:attr:`DecodeBatch.accepts_joins` is false and new rows wait until the batch is empty.

**A shared prefix is encoded once.** Chat prompts of one admission usually begin alike: the chat
template's system turn, and for a synthesis step the same instructions and few-shot turns. On a
CPU the prompt pass (prefill) is compute-bound, so it costs as much batched as one prompt at a
time, and with short replies it is a large part of a batch's time. The longest common prefix of
the admitted prompts (at least :data:`MIN_SHARED_PREFIX` tokens, and short of every prompt's last
token) is therefore run once, its cache copied to every row, and only the rest of each prompt
(left-padded after the prefix: ``[prefix | padding | rest]``, the padding masked, positions
counting real tokens) is run per row. Every row attends to the same keys and values as before,
so the output does not change.

**The rows' own tokens are packed, not padded.** Left-padding the rest of each prompt to the
longest one makes the prompt pass compute the padding too (prompts of 31 to 61 tokens: a third of
the work). Several rows admitted together are therefore run as *one* sequence: their own tokens
one after another, each with its own position ids, and a 4D attention mask that lets a token see
the shared prefix and the earlier tokens of its own row only; the logits are taken at each row's
last token, and the keys and values are then laid out per row as the padded prefill lays them out
(``[prefix | padding | rest]``), so decoding goes on as before. Each token attends to exactly the
keys and values it would attend to alone. Before the first packed prefill on a model, a packed and
a padded prefill of two short rows (6 tokens) are compared (``_PACKED_OK`` remembers the verdict
per model); a model that does not honour a 4D mask, or a cache that is not plain full attention,
keeps the padded prefill (:data:`PACKED_PREFILL` forces either). Packing is chosen only where a
FLOP estimate says it costs less than padding (every packed token is scored against every packed
key, so many long rows of equal length pad more cheaply).

**A prefix is kept for later requests.** The last shared prefix run (its token ids and one row of
keys and values per layer) is kept; a later admission whose prompts all begin with at least
:data:`MIN_SHARED_PREFIX` of its tokens, and no longer prefix of their own, starts from those keys
and values (the first tokens of each). So a lone request that joins a running batch, or arrives
alone later, does not run the chat template's system turn again. Keys and values of a prefix do
not depend on what follows it (causal attention), so the output does not change.

**Errors fail their own request.** A request that cannot run (empty prompt, no budget, a prompt
longer than the model's context, stop strings without a tokenizer) is refused alone; a prefill
that fails for a group is retried one request at a time, so only the request that fails alone
fails; an error while choosing a row's token (sampling, stop-string decoding) ends that row only.
Only an error in a decoding step itself fails every row of that step (their shared cache is then
in an unknown state).

:class:`BatchingGenerator` puts a queue in front of it: callers from any thread
(:meth:`BatchingGenerator.submit`, :meth:`BatchingGenerator.generate`) wait on a future; one
worker thread runs the batch. When idle it takes every request that arrives within ``window``
seconds of the first; while a batch runs, requests that arrived join it at the next step (up to
``max_batch`` rows), and each finished row's future resolves at once. Cancelling a future
(``Future.cancel()``: a client that went away) drops its row at the next step. That is how
``pluralign serve`` and the local provider turn concurrent requests into throughput.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to continue: token ids (already chat-formatted), a budget, how to choose, and
    strings that end the reply (not included in it), as OpenAI's ``stop``."""

    prompt_ids: Sequence[int]
    max_new_tokens: int
    temperature: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Generation:
    """New token ids (the end token excluded) and why decoding stopped: ``stop`` (end token or
    stop string) or ``length``. ``text`` is the decoded reply when a tokenizer was at hand, cut
    before the stop string that ended it (not compared: it follows from the tokens)."""

    token_ids: tuple[int, ...]
    finish_reason: str
    text: str | None = field(default=None, compare=False)


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


#: Packed prefill (module docstring): None checks it once per model against the padded prefill,
#: False always pads, True packs (where it pays) unchecked.
PACKED_PREFILL: bool | None = None
#: Most cells (packed tokens x keys) of a packed prefill's attention mask.
MAX_PACKED_MASK = 1 << 24
#: Per model: whether its packed prefill matched the padded one.
_PACKED_OK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _copy_cache(cache, shared: int):
    """A new DynamicCache holding the same prefix keys and values (nothing if ``shared`` is 0)."""
    from transformers import DynamicCache

    if not shared:
        return DynamicCache()
    return DynamicCache(ddp_cache_data=[(layer.keys, layer.values) for layer in cache.layers])


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


def context_length(model) -> int | None:
    """Most positions the model takes (``max_position_embeddings`` of its config), if it says."""
    value = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    return int(value) if isinstance(value, int) and value > 0 else None


def _pad_left(t, width: int, dim: int):
    """``t`` zero-padded at the front of dimension ``dim`` (-1 or -2) to ``width``."""
    import torch.nn.functional as F

    extra = width - t.shape[dim]
    if extra <= 0:
        return t
    return F.pad(t, (extra, 0) if dim == -1 else (0, 0, extra, 0))


class _Row:
    """One request being decoded: its key (whatever the caller identifies it by), what it has
    generated, its sampler, its budget, and why it ended (or the error that ended it)."""

    __slots__ = ("key", "request", "out", "generator", "budget", "reason", "text", "error", "last")

    def __init__(self, key, request: GenerationRequest, budget: int, generator):
        self.key, self.request, self.budget, self.generator = key, request, budget, generator
        self.out: list[int] = []
        self.reason: str | None = None
        self.text: str | None = None
        self.error: BaseException | None = None
        self.last = 0


Finished = tuple[Hashable, "Generation | BaseException"]


class DecodeBatch:
    """The rows being decoded together and their shared KV cache (module docstring).

    :meth:`add` prefills new requests and merges them in; :meth:`step` decodes one token for every
    row; both return the rows that finished, as ``(key, Generation or exception)``, and those rows
    have left. :meth:`drop` removes rows (cancelled requests). ``decode`` (token ids -> text)
    fills :attr:`Generation.text` and enables stop strings.
    """

    def __init__(
        self,
        model,
        *,
        end_ids: set[int],
        pad_id: int,
        decode: Callable[[list[int]], str] | None = None,
    ):
        self.model = model
        self.end_ids = set(end_ids)
        self.pad_id = int(pad_id)
        self.decode = decode
        self.device = next(model.parameters()).device
        self.cache_kw = _cache_keyword(model)
        self.context = context_length(model)
        self.rows: list[_Row] = []
        self.cache: Any = None
        self.mask: Any = None  # (rows, cached columns): 1 where a row attends
        self.next_ids: Any = None  # (rows, 1): each row's token to feed next
        self.next_pos: Any = None  # (rows, 1): its position id
        self.prefix_ids: tuple[int, ...] = ()  # the last shared prefix run, and its keys/values
        self._prefix_kv: list[tuple[Any, Any]] | None = None  # per layer, one row
        self.prefix_reused = 0  # admissions that took their prefix from it
        #: pack the rows' own prompt tokens without padding: None = not yet checked on this
        #: model (the first packed prefill is compared with the padded one), then True/False
        self._params: int | None = None  # the model's parameter count (packing's cost model)
        self.packed_prefill: bool | None = (
            PACKED_PREFILL if PACKED_PREFILL is not None else _PACKED_OK.get(model)
        )
        self.steps = 0  # decoding steps run
        self.row_steps = 0  # rows summed over those steps (mean batch = row_steps / steps)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def keys(self) -> list:
        return [row.key for row in self.rows]

    @property
    def accepts_joins(self) -> bool:
        """Whether new rows can join now: an empty batch, or one whose cache layers are all
        plain ``DynamicLayer`` (keys and values that can be padded and concatenated)."""
        if not self.rows:
            return True
        from transformers.cache_utils import DynamicLayer

        layers = getattr(self.cache, "layers", None)
        return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)

    # -- admission ------------------------------------------------------------------------------

    def _budget(self, request: GenerationRequest) -> int:
        """The request's token budget, cut to the context; ValueError if it cannot run."""
        n = len(request.prompt_ids)
        if n == 0:
            raise ValueError("empty prompt")
        if int(request.max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens must be at least 1, not {request.max_new_tokens}")
        if request.temperature < 0:
            raise ValueError(f"temperature must be >= 0, not {request.temperature}")
        if request.stop and self.decode is None:
            raise ValueError("stop strings need a tokenizer to decode with")
        budget = int(request.max_new_tokens)
        if self.context is not None:
            if n >= self.context:
                raise ValueError(
                    f"the prompt has {n} tokens; the model's context holds {self.context}"
                )
            budget = min(budget, self.context - n)
        return budget

    def add(
        self, requests: Sequence[GenerationRequest], keys: Sequence[Hashable]
    ) -> list[Finished]:
        """Prefill ``requests`` and let them join the batch (each under its key). Returns the
        requests already finished (refused, failed, or ended at their first token)."""
        if self.rows and not self.accepts_joins:
            raise RuntimeError("this model's cache cannot take new rows while a batch runs")
        finished: list[Finished] = []
        rows: list[_Row] = []
        for request, key in zip(requests, keys, strict=True):
            try:
                rows.append(_Row(key, request, self._budget(request), self._sampler(request)))
            except ValueError as exc:
                finished.append((key, exc))
        if not rows:
            return finished
        try:
            finished += self._admit(rows)
        except Exception as exc:  # noqa: BLE001 - retried alone, so only the culprit fails
            if len(rows) == 1:
                finished.append((rows[0].key, exc))
            else:
                for row in rows:
                    fresh = _Row(row.key, row.request, row.budget, self._sampler(row.request))
                    try:
                        finished += self._admit([fresh])
                    except Exception as alone:  # noqa: BLE001 - this request's own error
                        finished.append((row.key, alone))
        return finished

    def _sampler(self, request: GenerationRequest):
        if request.temperature <= 0:
            return None
        import torch

        g = torch.Generator(device=self.device)
        if request.seed is None:
            g.seed()
        else:
            g.manual_seed(int(request.seed))
        return g

    def _forward(self, ids, mask, positions, cache):
        return self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self.cache_kw: cache},
            logits_to_keep=1,
        ).logits[:, -1, :]

    def _admit(self, rows: list[_Row]) -> list[Finished]:
        """Prefill ``rows`` in a cache of their own, choose their first token, merge the rows
        still going into the batch. Nothing of the batch changes until the merge."""
        import torch
        from transformers import DynamicCache

        n = len(rows)
        prompts = [list(row.request.prompt_ids) for row in rows]
        shared = shared_prefix_length(prompts)
        kept = self._kept_prefix_length(prompts)
        reuse = kept >= max(shared, 1)
        if reuse:
            shared = kept
        rests = [p[shared:] for p in prompts]
        width = max(len(r) for r in rests)
        ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        for i, rest in enumerate(rests):
            ids[i, width - len(rest) :] = torch.as_tensor(rest)
            mask[i, width - len(rest) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = shared + (mask.cumsum(-1) - 1).clamp(min=0)
        cache = DynamicCache()
        with torch.inference_mode():
            if reuse:  # the kept prefix's keys and values (module docstring)
                kv = self._prefix_kv or []
                cache = DynamicCache(
                    ddp_cache_data=[(k[..., :shared, :], v[..., :shared, :]) for k, v in kv]
                )
                self.prefix_reused += 1
            elif shared:  # the common prefix once, its keys and values copied to every row
                prefix = torch.as_tensor([prompts[0][:shared]], device=self.device)
                self._forward(
                    prefix,
                    torch.ones_like(prefix),
                    torch.arange(shared, device=self.device).unsqueeze(0),
                    cache,
                )
                self._keep_prefix(prompts[0][:shared], cache)
            logits, packed_failed = None, False
            if (
                n > 1
                and self.packed_prefill is not False
                and self._packing_pays([len(r) for r in rests], shared)
                and self._packable(cache)
                and (self.packed_prefill or self._check_packing(rests))
            ):
                fallback = _copy_cache(cache, shared)  # the packed pass extends ``cache``
                try:
                    packed = self._packed_prefill(rests, shared, width, cache)
                except Exception:  # noqa: BLE001 - the model's (no 4D mask) or the request's
                    packed, packed_failed = None, True
                if packed is not None:
                    logits, cache = packed
                else:
                    cache = fallback
            if logits is None:
                logits = self._padded_prefill(ids, mask, positions, shared, n, cache)
                if packed_failed:  # the padded prefill ran: the model cannot take the packed one
                    self.packed_prefill = _PACKED_OK[self.model] = False
        if shared:
            mask = torch.cat([mask.new_ones((n, shared)), mask], dim=-1)
        self._choose(rows, logits)
        finished, keep = self._split(rows)
        if not keep:
            return finished
        index = torch.as_tensor(keep, device=self.device)
        if len(keep) < n:
            cache.batch_select_indices(index)
            mask = mask[index]
        rows = [rows[i] for i in keep]
        next_ids = torch.as_tensor([[row.last] for row in rows], device=self.device)
        next_pos = positions[index, -1:] + 1
        self._merge(rows, cache, mask, next_ids, next_pos)
        return finished

    def _check_packing(self, rests: list[list[int]]) -> bool:
        """Once per model: whether a packed prefill gives the padded prefill's logits, on two
        short rows (4 and 2 tokens) made of the admission's own tokens (module docstring). The
        verdict is kept for the model; a failure of the packed pass counts as no."""
        import torch
        from transformers import DynamicCache

        pool = [t for r in rests for t in r] * 4
        short = [pool[:4], pool[4:6]]
        ids = torch.tensor([short[0], [self.pad_id] * 2 + short[1]], device=self.device)
        mask = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1]], device=self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        try:
            padded = self._padded_prefill(ids, mask, positions, 0, 2, DynamicCache())
            packed = self._packed_prefill(short, 0, 4, DynamicCache())
            ok = packed is not None and bool(
                torch.allclose(packed[0], padded, rtol=1e-3, atol=1e-2)
            )
        except Exception:  # noqa: BLE001 - the model cannot take it: pad
            ok = False
        self.packed_prefill = _PACKED_OK[self.model] = ok
        return ok

    def _padded_prefill(self, ids, mask, positions, shared, n, cache):
        """The rows' own tokens as one left-padded batch; the prefix (if any) copied per row."""
        import torch

        if shared:
            cache.batch_repeat_interleave(n)
            mask = torch.cat([mask.new_ones((n, shared)), mask], dim=-1)
        return self._forward(ids, mask, positions, cache)

    def _packing_pays(self, lens: list[int], shared: int) -> bool:
        """Whether the packed prefill costs less than the padded one: both run the linear layers
        over their tokens (packed: the real ones; padded: rows x the longest), but in the packed
        one every token is scored against every packed key (masked or not), so many long rows
        pad more cheaply than they pack. Estimated in FLOPs: 2 x parameters per token, 4 x
        hidden size x layers per query-key pair; at most :data:`MAX_PACKED_MASK` mask cells."""
        config = getattr(self.model, "config", None)
        hidden = getattr(config, "hidden_size", None)
        layers = getattr(config, "num_hidden_layers", None)
        if not isinstance(hidden, int) or not isinstance(layers, int):
            return False
        if self._params is None:
            self._params = sum(p.numel() for p in self.model.parameters())
        total, n, width = sum(lens), len(lens), max(lens)
        if total * (shared + total) > MAX_PACKED_MASK:
            return False
        per_token, per_pair = 2 * self._params, 4 * hidden * layers
        packed = total * per_token + total * (shared + total) * per_pair
        padded = n * width * per_token + n * width * (shared + width) * per_pair
        return packed < padded

    def _packable(self, cache) -> bool:
        """Whether a packed prefill can run: plain attention (``sdpa`` or ``eager``) that takes a
        4D mask, and a prefix cache (if any) of plain full-attention layers."""
        from transformers.cache_utils import DynamicLayer

        impl = getattr(getattr(self.model, "config", None), "_attn_implementation", None)
        if impl not in ("sdpa", "eager"):
            return False
        layers = getattr(cache, "layers", None) or []
        return all(type(layer) is DynamicLayer for layer in layers)

    def _packed_prefill(self, rests, shared, width, cache):
        """The rows' own tokens packed into one sequence without padding (module docstring):
        each token attends to the prefix and to its own row's earlier tokens (a 4D mask), then
        the keys and values are laid out as the padded prefill lays them out
        (``[prefix | padding | rest]`` per row). Returns (logits of each row's last token, cache),
        or None if the model's cache is not plain full attention."""
        import torch
        from transformers.cache_utils import DynamicLayer

        dev = self.device
        lens = torch.as_tensor([len(r) for r in rests], device=dev)
        n, total = len(rests), int(lens.sum())
        ends = lens.cumsum(0)  # one past each row's last token in the packed sequence
        starts = ends - lens
        ids = torch.as_tensor([t for r in rests for t in r], device=dev).unsqueeze(0)
        row_of = torch.repeat_interleave(torch.arange(n, device=dev), lens)
        offset = torch.arange(total, device=dev) - starts[row_of]  # position within its row
        positions = (shared + offset).unsqueeze(0)
        own = (row_of[:, None] == row_of[None, :]) & (offset[None, :] <= offset[:, None])
        allowed = torch.cat([own.new_ones((total, shared)), own], dim=-1)
        dtype = next(self.model.parameters()).dtype
        mask = torch.zeros(allowed.shape, dtype=dtype, device=dev)
        mask = mask.masked_fill_(~allowed, torch.finfo(dtype).min)[None, None]
        logits = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self.cache_kw: cache},
            logits_to_keep=ends - 1,
        ).logits[0]
        layers = getattr(cache, "layers", None) or []
        if not layers or not all(type(layer) is DynamicLayer for layer in layers):
            return None
        # column j of row i holds packed token starts[i] + j - (width - len_i); padding columns
        # take any real token (they are masked), here the row's first
        col = torch.arange(width, device=dev)[None, :] - (width - lens)[:, None]
        gather = shared + starts[:, None] + col.clamp(min=0)  # (n, width)
        flat = gather.reshape(-1)
        for layer in layers:
            for name in ("keys", "values"):
                kv = getattr(layer, name)  # (1, heads, shared + total, dim)
                heads, dim = kv.shape[1], kv.shape[-1]
                rows = kv[0].index_select(1, flat).view(heads, n, width, dim).transpose(0, 1)
                if shared:
                    prefix = kv[:, :, :shared].expand(n, heads, shared, dim)
                    rows = torch.cat([prefix, rows], dim=2)
                setattr(layer, name, rows.contiguous())
        return logits, cache

    def _kept_prefix_length(self, prompts: list[list[int]]) -> int:
        """How many of the kept prefix's tokens every prompt starts with (short of each prompt's
        last token); 0 below :data:`MIN_SHARED_PREFIX`."""
        if not self._prefix_kv:
            return 0
        limit = min(min(len(p) for p in prompts) - 1, len(self.prefix_ids))
        k = 0
        while k < limit and all(p[k] == self.prefix_ids[k] for p in prompts):
            k += 1
        return k if k >= MIN_SHARED_PREFIX else 0

    def _keep_prefix(self, ids: list[int], cache) -> None:
        """Keep a freshly run prefix (one row) for later admissions, if its layers are plain."""
        from transformers.cache_utils import DynamicLayer

        layers = getattr(cache, "layers", None)
        if layers and all(type(layer) is DynamicLayer for layer in layers):
            self.prefix_ids = tuple(ids)
            self._prefix_kv = [(layer.keys, layer.values) for layer in layers]

    def _merge(self, rows, cache, mask, next_ids, next_pos) -> None:
        import torch

        if not self.rows:
            self.rows, self.cache, self.mask = rows, cache, mask
            self.next_ids, self.next_pos = next_ids, next_pos
            return
        width = max(self.mask.shape[1], mask.shape[1])
        for old, new in zip(self.cache.layers, cache.layers, strict=True):
            old.keys = torch.cat([_pad_left(old.keys, width, -2), _pad_left(new.keys, width, -2)])
            old.values = torch.cat(
                [_pad_left(old.values, width, -2), _pad_left(new.values, width, -2)]
            )
        self.mask = torch.cat([_pad_left(self.mask, width, -1), _pad_left(mask, width, -1)])
        self.next_ids = torch.cat([self.next_ids, next_ids])
        self.next_pos = torch.cat([self.next_pos, next_pos])
        self.rows = self.rows + rows

    # -- decoding -------------------------------------------------------------------------------

    def _choose(self, rows: list[_Row], logits) -> None:
        """Each row's next token (greedy or sampled), and whether the row ends with it."""
        import torch

        greedy = logits.argmax(dim=-1).tolist()
        for i, row in enumerate(rows):
            try:
                token = greedy[i]
                if row.request.temperature > 0:
                    probs = torch.softmax(logits[i].float() / row.request.temperature, dim=-1)
                    token = int(torch.multinomial(probs, 1, generator=row.generator))
                row.last = token
                if token in self.end_ids:
                    row.reason = "stop"
                    continue
                row.out.append(token)
                if row.request.stop:
                    text = self.decode(row.out)
                    cuts = [text.find(s) for s in row.request.stop if s]
                    cuts = [c for c in cuts if c >= 0]
                    if cuts:
                        row.reason, row.text = "stop", text[: min(cuts)]
                        continue
                if len(row.out) >= row.budget:
                    row.reason = "length"
            except Exception as exc:  # noqa: BLE001 - ends this row only
                row.error = exc

    def _split(self, rows: list[_Row]) -> tuple[list[Finished], list[int]]:
        """(finished rows as results, indices of the rows still going)."""
        finished: list[Finished] = []
        keep: list[int] = []
        for i, row in enumerate(rows):
            if row.error is not None:
                finished.append((row.key, row.error))
            elif row.reason is not None:
                text = row.text
                if text is None and self.decode is not None:
                    try:
                        text = self.decode(row.out)
                    except Exception as exc:  # noqa: BLE001 - this row's own error
                        finished.append((row.key, exc))
                        continue
                finished.append((row.key, Generation(tuple(row.out), row.reason, text)))
            else:
                keep.append(i)
        return finished, keep

    def step(self) -> list[Finished]:
        """One token for every row; the rows that finished with it leave (and are returned)."""
        import torch

        if not self.rows:
            return []
        n = len(self.rows)
        mask = torch.cat([self.mask, self.mask.new_ones((n, 1))], dim=-1)
        try:
            with torch.inference_mode():
                logits = self._forward(self.next_ids, mask, self.next_pos, self.cache)
        except Exception as exc:  # noqa: BLE001 - the shared cache is now unknown: all rows fail
            failed: list[Finished] = [(row.key, exc) for row in self.rows]
            self._reset()
            return failed
        self.mask = mask
        self.steps += 1
        self.row_steps += n
        self._choose(self.rows, logits)
        self.next_ids = torch.as_tensor([[row.last] for row in self.rows], device=self.device)
        self.next_pos = self.next_pos + 1
        finished, keep = self._split(self.rows)
        self._keep(keep)
        return finished

    def drop(self, which: Callable[[Any], bool]) -> list:
        """Remove the rows whose key ``which`` accepts (cancelled requests); their keys."""
        gone = [row.key for row in self.rows if which(row.key)]
        if gone:
            self._keep([i for i, row in enumerate(self.rows) if not which(row.key)])
        return gone

    def _keep(self, keep: list[int]) -> None:
        """Keep only the rows at ``keep``, and trim cache columns none of them attends to."""
        import torch

        if len(keep) == len(self.rows):
            return
        if not keep:
            self._reset()
            return
        index = torch.as_tensor(keep, device=self.device)
        self.cache.batch_select_indices(index)
        self.mask = self.mask[index]
        self.next_ids, self.next_pos = self.next_ids[index], self.next_pos[index]
        self.rows = [self.rows[i] for i in keep]
        lead = int((self.mask.sum(0) > 0).int().argmax())  # first column anyone attends to
        if lead > 0 and self.accepts_joins:
            for layer in self.cache.layers:
                layer.keys = layer.keys[..., lead:, :]
                layer.values = layer.values[..., lead:, :]
            self.mask = self.mask[:, lead:]

    def _reset(self) -> None:
        self.rows, self.cache, self.mask, self.next_ids, self.next_pos = [], None, None, None, None


def generate_batch(
    model,
    requests: Sequence[GenerationRequest],
    *,
    end_ids: set[int],
    pad_id: int,
    decode: Callable[[list[int]], str] | None = None,
) -> list[Generation]:
    """Decode ``requests`` together (module docstring); results in request order. The first
    request that cannot run raises its error."""
    if not requests:
        return []
    batch = DecodeBatch(model, end_ids=end_ids, pad_id=pad_id, decode=decode)
    results: dict[Hashable, Generation | BaseException] = dict(
        batch.add(requests, range(len(requests)))
    )
    while len(batch):
        results.update(batch.step())
    for i in range(len(requests)):
        if isinstance(results[i], BaseException):
            raise results[i]
    return [results[i] for i in range(len(requests))]  # type: ignore[misc]


@dataclass(eq=False)
class _Job:
    request: GenerationRequest
    future: Future


class BatchingGenerator:
    """Batch concurrent :meth:`submit` calls on one model, continuously (module docstring).

    ``max_batch`` bounds the rows decoded together; ``window`` is how long (seconds) an idle
    worker waits after the first request for more to arrive. The worker is a daemon thread
    started on the first call; :meth:`close` stops it. ``batches`` lists the rows decoding after
    each admission, ``stats`` counts steps, rows summed over steps, joins, admissions (prefills),
    cancellations and failures, and the seconds spent prefilling and decoding (for tests,
    ``/health`` and benchmarks).
    """

    def __init__(self, model, tokenizer, *, max_batch: int = 16, window: float = 0.02):
        self.model = model
        self.tokenizer = tokenizer
        self.max_batch = max(1, int(max_batch))
        self.window = window
        self.end_ids = end_token_ids(model, tokenizer)
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else min(self.end_ids, default=0))
        self.batches: list[int] = []
        self.stats = {"steps": 0, "row_steps": 0, "joined": 0, "cancelled": 0, "failed": 0,
                      "admissions": 0, "prefill_s": 0.0, "decode_s": 0.0}
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def submit(self, request: GenerationRequest) -> Future:
        """Queue one request; the future resolves to its :class:`Generation` (cancel it to
        drop the request)."""
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

    def _take(self, room: int, wait: bool) -> tuple[list[_Job], bool]:
        """Up to ``room`` queued jobs and whether :meth:`close` was asked. ``wait``: block for
        the first, then gather for ``window`` seconds; else only what is queued now."""
        jobs: list[_Job] = []
        deadline = None
        while len(jobs) < room:
            try:
                if wait and not jobs:
                    job = self._queue.get()
                    deadline = time.monotonic() + self.window
                elif deadline is not None and deadline > time.monotonic():
                    job = self._queue.get(timeout=deadline - time.monotonic())
                else:
                    job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
        return jobs, False

    @staticmethod
    def _deliver(finished: list[Finished], stats: dict) -> None:
        for job, result in finished:
            if not job.future.set_running_or_notify_cancel():
                continue  # cancelled after its last step
            if isinstance(result, BaseException):
                stats["failed"] += 1
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _work(self) -> None:
        import torch

        self.stats["torch_threads"] = torch.get_num_threads()  # as this thread runs them
        batch = DecodeBatch(
            self.model, end_ids=self.end_ids, pad_id=self.pad_id, decode=self._decode
        )
        closing = False
        while True:
            jobs: list[_Job] = []
            try:
                if not len(batch):
                    if closing:
                        return
                    jobs, closing = self._take(self.max_batch, wait=True)
                elif not closing and batch.accepts_joins and len(batch) < self.max_batch:
                    jobs, closing = self._take(self.max_batch - len(batch), wait=False)
                jobs = [j for j in jobs if not j.future.cancelled()]
                if jobs:
                    self.stats["joined"] += len(jobs)
                    self.stats["admissions"] += 1
                    started = time.perf_counter()
                    admitted = batch.add([j.request for j in jobs], jobs)
                    self.stats["prefill_s"] += time.perf_counter() - started
                    self._deliver(admitted, self.stats)
                    self.batches.append(len(batch))
                self.stats["cancelled"] += len(batch.drop(lambda job: job.future.cancelled()))
                if len(batch):
                    started = time.perf_counter()
                    stepped = batch.step()
                    self.stats["decode_s"] += time.perf_counter() - started
                    self._deliver(stepped, self.stats)
                    self.stats["steps"], self.stats["row_steps"] = batch.steps, batch.row_steps
            except Exception as exc:  # noqa: BLE001 - a bug here must not leave callers waiting
                pending = {id(j): j for j in jobs}
                pending.update({id(j): j for j in batch.keys})
                batch._reset()
                self._deliver(
                    [(j, exc) for j in pending.values() if not j.future.done()], self.stats
                )

    def close(self) -> None:
        """Stop the worker after the requests already queued."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=60)
