"""Local transformers provider: any causal-LM checkpoint folder, with an optional PEFT LoRA
adapter, prompted through the tokenizer's chat template.

The checkpoint may be named ``smollm2`` or ``embedded``: the embedded SmolLM2-135M-Instruct
(:mod:`pluralign.models`), which is also what the pipeline's LLM stages use by default. A
checkpoint whose tokenizer has no chat template is refused with a one-line error.

Generation runs through :class:`pluralign.models.generate.BatchingGenerator`: concurrent requests
(``Provider.complete_many`` with ``concurrency`` > 1, or concurrent HTTP requests to
``pluralign serve``) are decoded together in one left-padded batch with a KV cache, continuously:
a request joins the running batch at its next step and leaves it as soon as it ends. Greedy output
(``temperature == 0``) is the same as one request at a time; a sampled request draws from its own
generator seeded with the request's ``seed``, so a request has one answer whatever else shared its
batch. The model loads on first use. Local models cannot be constrained to a JSON schema here, so
structured output relies on the prompt, the parser and the repair retry.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path

from pluralign.errors import InputError, ProviderError, require
from pluralign.llm.base import Provider
from pluralign.llm.config import ProviderSettings
from pluralign.llm.types import ChatRequest, Completion

#: Most requests decoded together (the default of ``--max-batch`` of ``pluralign serve``).
MAX_BATCH = 16


class LocalModel:
    """A loaded checkpoint (+ adapter) that turns chat messages into a completion; safe to call
    from many threads at once (their requests are batched)."""

    def __init__(
        self,
        checkpoint: Path | str,
        adapter: Path | None = None,
        device: str = "cpu",
        *,
        max_batch: int = MAX_BATCH,
    ):
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        from pluralign.models import is_embedded_name, require_chat_template, resolve_model
        from pluralign.models.generate import BatchingGenerator

        embedded = is_embedded_name(checkpoint)
        checkpoint = resolve_model(checkpoint)
        if not (checkpoint / "config.json").is_file():
            raise InputError(
                "not a transformers checkpoint (no config.json)",
                where=str(checkpoint),
                hint="pass the folder save_pretrained wrote, or 'smollm2' for the embedded model",
            )
        require_chat_template(checkpoint)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint)
            model = transformers.AutoModelForCausalLM.from_pretrained(
                checkpoint, dtype=torch.float32
            )
        except (OSError, ValueError) as exc:
            raise ProviderError(f"cannot load the model: {exc}", where=str(checkpoint)) from exc
        if adapter is not None:
            peft = require("peft", "train")
            if not Path(adapter).is_dir():
                raise InputError("adapter folder not found", where=str(adapter))
            try:
                model = peft.PeftModel.from_pretrained(model, str(adapter))
            except (OSError, ValueError) as exc:
                raise ProviderError(
                    f"cannot load the LoRA adapter: {exc}", where=str(adapter)
                ) from exc
        self.model = model.to(device).eval()
        self.device = device
        base = "smollm2" if embedded else checkpoint.name
        self.name = base + (f"+{Path(adapter).name}" if adapter else "")
        self.batcher = BatchingGenerator(self.model, self.tokenizer, max_batch=max_batch)

    def submit(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        seed: int | None,
        stop: tuple[str, ...] = (),
    ) -> Future:
        """Queue one chat completion; the future resolves to its :class:`Completion`
        (cancelling it drops the request from the batch at the next step). ``stop``: strings
        that end the reply, which then ends before the first of them."""
        from pluralign.models.generate import GenerationRequest, chat_prompt_ids, context_length

        prompt_ids = chat_prompt_ids(self.tokenizer, messages)
        context = context_length(self.model)
        if context is not None and len(prompt_ids) >= context:
            raise ProviderError(
                f"the prompt has {len(prompt_ids)} tokens but the model's context holds {context}: "
                "use a model with a longer context, or shorter prompts (fewer few-shot examples)",
                where=self.name,
            )
        limit = max(1, int(max_tokens))
        request = GenerationRequest(prompt_ids, limit, float(temperature), seed, tuple(stop))
        inner = self.batcher.submit(request)
        outer = _Linked(inner)

        def finish(done: Future) -> None:
            if done.cancelled():
                outer.cancel()
                return
            if not outer.set_running_or_notify_cancel():
                return
            exc = done.exception()
            if exc is not None:
                outer.set_exception(exc)
                return
            generation = done.result()
            text = generation.text
            if text is None:
                text = self.tokenizer.decode(list(generation.token_ids), skip_special_tokens=True)
            outer.set_result(
                Completion(
                    text=text,
                    model=self.name,
                    prompt_tokens=len(prompt_ids),
                    completion_tokens=len(generation.token_ids),
                    finish_reason=generation.finish_reason,
                )
            )

        inner.add_done_callback(finish)
        return outer

    def generate(
        self,
        messages: list[dict[str, str]],
        max_tokens: int,
        temperature: float,
        seed: int | None,
        stop: tuple[str, ...] = (),
    ) -> Completion:
        """One chat completion (greedy at temperature 0, else sampled with ``seed``)."""
        return self.submit(messages, max_tokens, temperature, seed, stop).result()

    def close(self) -> None:
        """Stop the batching worker."""
        self.batcher.close()


class _Linked(Future):
    """A future for a result derived from ``inner``'s: cancelling it cancels ``inner`` too."""

    def __init__(self, inner: Future):
        super().__init__()
        self._inner = inner

    def cancel(self) -> bool:
        self._inner.cancel()
        return super().cancel()


class LocalProvider(Provider):
    """Completions from a local checkpoint (loaded on first request)."""

    accepts_response_format = False

    def __init__(self, config: ProviderSettings):
        super().__init__(config)
        self._model: LocalModel | None = None
        self._load_lock = threading.Lock()

    def loaded(self) -> LocalModel:
        with self._load_lock:
            if self._model is None:
                self._model = LocalModel(
                    self.config.checkpoint,
                    self.config.adapter,
                    self.config.device,
                    max_batch=max(self.config.concurrency, 1),
                )
            return self._model

    def _send(self, request: ChatRequest) -> Completion:
        model = self.loaded()
        with self._usage_lock:
            self.usage.requests += 1
        return model.generate(
            request.message_dicts(),
            request.max_tokens,
            request.temperature,
            request.seed,
            request.stop,
        )

    def close(self) -> None:
        if self._model is not None:
            self._model.close()
        super().close()
