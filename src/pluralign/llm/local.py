"""Local transformers provider: any causal-LM checkpoint folder, with an optional PEFT LoRA
adapter, prompted through the tokenizer's chat template.

Generation is greedy at ``temperature == 0`` and sampled otherwise, seeded with the request's
``seed`` (``torch.manual_seed``) so a request has one answer. One generation runs at a time (a
lock); the model loads on first use. Local models cannot be constrained to a JSON schema here, so
structured output relies on the prompt, the parser and the repair retry.
"""

from __future__ import annotations

import threading
from pathlib import Path

from pluralign.errors import InputError, ProviderError, require
from pluralign.llm.config import ProviderConfig
from pluralign.llm.provider import Provider
from pluralign.llm.types import ChatRequest, Completion


class LocalModel:
    """A loaded checkpoint (+ adapter) that turns chat messages into a completion."""

    def __init__(self, checkpoint: Path, adapter: Path | None = None, device: str = "cpu"):
        torch = require("torch", "train")
        transformers = require("transformers", "train")
        checkpoint = Path(checkpoint)
        if not (checkpoint / "config.json").is_file():
            raise InputError(
                "not a transformers checkpoint (no config.json)",
                where=str(checkpoint),
                hint="pass the folder save_pretrained wrote",
            )
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
        if getattr(self.tokenizer, "chat_template", None) is None:
            raise InputError(
                "the tokenizer has no chat template",
                where=str(checkpoint),
                hint="set tokenizer.chat_template and save_pretrained again",
            )
        self.model = model.to(device).eval()
        self.device = device
        self.name = checkpoint.name + (f"+{Path(adapter).name}" if adapter else "")
        self._lock = threading.Lock()
        self._torch = torch

    def generate(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float, seed: int | None
    ) -> Completion:
        torch = self._torch
        tok = self.tokenizer
        prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
        n_prompt = int(enc["input_ids"].shape[1])
        kwargs = {
            "max_new_tokens": max(1, int(max_tokens)),
            "pad_token_id": tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature), top_k=0, top_p=1.0)
        else:
            kwargs.update(do_sample=False)
        with self._lock, torch.no_grad():
            if seed is not None:
                torch.manual_seed(int(seed))
            out = self.model.generate(**enc, **kwargs)
        new = out[0, n_prompt:]
        eos = tok.eos_token_id
        stopped = len(new) > 0 and eos is not None and int(new[-1]) == eos
        text = tok.decode(new, skip_special_tokens=True)
        return Completion(
            text=text,
            model=self.name,
            prompt_tokens=n_prompt,
            completion_tokens=int(len(new)),
            finish_reason="stop" if stopped or len(new) < kwargs["max_new_tokens"] else "length",
        )


class LocalProvider(Provider):
    """Completions from a local checkpoint (loaded on first request)."""

    accepts_response_format = False

    def __init__(self, config: ProviderConfig):
        super().__init__(config)
        self._model: LocalModel | None = None
        self._load_lock = threading.Lock()

    def loaded(self) -> LocalModel:
        with self._load_lock:
            if self._model is None:
                self._model = LocalModel(
                    self.config.checkpoint, self.config.adapter, self.config.device
                )
            return self._model

    def _send(self, request: ChatRequest) -> Completion:
        model = self.loaded()
        with self._usage_lock:
            self.usage.requests += 1
        return model.generate(
            request.message_dicts(), request.max_tokens, request.temperature, request.seed
        )
