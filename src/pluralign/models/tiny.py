"""A tiny, fully offline causal language model for demos and tests.

:func:`build_tiny_model` trains a byte-level BPE tokenizer (Hugging Face ``tokenizers``; Sennrich
et al. 2016, byte-level variant of Radford et al. 2019) on the given texts, gives it a chat template
and pad/eos tokens, builds a small randomly initialised Llama-architecture model (``LlamaConfig``),
optionally runs a few steps of causal-LM pretraining on the same texts so the model is not pure
noise, and saves both with ``save_pretrained``. The folder then loads like any local checkpoint:
``AutoModelForCausalLM.from_pretrained(path)`` / ``AutoTokenizer.from_pretrained(path)``, with no
network access. Every trainer in :mod:`pluralign.train` accepts such a folder, or any other local
transformers checkpoint, the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

from pluralign.errors import InputError, require
from pluralign.io import atomic_folder

#: Special tokens of the tiny tokenizer, in id order (pad=0, eos=2; id 1 is reserved).
SPECIAL_TOKENS = (
    "<|pad|>",
    "<|bos|>",
    "<|eos|>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
)

#: Chat template: ``<|user|>text<|end|><|assistant|>reply<|eos|>``. The prompt rendered with
#: ``add_generation_prompt=True`` is a token prefix of prompt + reply, which preference trainers
#: rely on to find where the completion starts.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "<|{{ message['role'] }}|>{{ message['content'] }}"
    "{%- if message['role'] == 'assistant' -%}{{ eos_token }}{%- else -%}<|end|>{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)


def _clean_texts(texts: Iterable[str]) -> list[str]:
    # Distinct non-empty texts in first-seen order: preference files repeat the same pair for many
    # panel members, and repeats only slow the tokenizer and the pretraining down.
    out = list(dict.fromkeys(t for t in (str(x) for x in texts) if t.strip()))
    if not out:
        raise InputError(
            "no text to train the tiny tokenizer on",
            hint="give at least one non-empty line of text (e.g. prompts and responses)",
        )
    return out


def read_texts(path: str | Path) -> list[str]:
    """Texts from a file: a preference JSONL gives each row's prompt, chosen and rejected (as chat
    turns, so the tokenizer learns the template's shape); any other file gives one text per line."""
    from pluralign.io import iter_jsonl, read_text

    path = Path(path)
    if not path.is_file():
        raise InputError(f"text file not found: {path}", hint="pass --texts FILE")
    if path.suffix == ".jsonl":
        texts = []
        for _, obj in iter_jsonl(path):
            prompt = str(obj.get("prompt", ""))
            for key in ("chosen", "rejected", "completion", "text"):
                if obj.get(key):
                    texts.append(f"<|user|>{prompt}<|end|><|assistant|>{obj[key]}")
            if not any(obj.get(k) for k in ("chosen", "rejected", "completion", "text")) and prompt:
                texts.append(prompt)
        return _clean_texts(texts)
    return _clean_texts(read_text(path).splitlines())


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it for transformers.

    Byte-level BPE never meets an unknown character (every byte is in the base alphabet), so any
    later prompt is encodable. Returns a ``PreTrainedTokenizerFast`` with pad and eos tokens and
    :data:`CHAT_TEMPLATE`.
    """
    require("tokenizers", "train")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    texts = _clean_texts(texts)
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet) + len(SPECIAL_TOKENS):
        raise InputError(
            f"vocab_size {vocab_size} is too small for a byte-level tokenizer",
            where="vocab_size",
            hint=f"use at least {len(alphabet) + len(SPECIAL_TOKENS)}",
        )
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=alphabet,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<|pad|>",
        eos_token="<|eos|>",
        # <|bos|> stays in the vocabulary but is not declared: no trainer then prepends it to some
        # sequences and not to others (TRL's ORPO adds a declared BOS, its DPO/KTO do not).
        additional_special_tokens=["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "right"
    return fast


def build_tiny_model(
    texts: Iterable[str],
    out_dir: str | Path,
    *,
    vocab_size: int = 512,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    intermediate_size: int | None = None,
    max_positions: int = 2048,
    pretrain_steps: int = 0,
    pretrain_lr: float = 3e-3,
    seed: int = 0,
) -> Path:
    """Build and save a tiny Llama-architecture model with its own tokenizer.

    Args:
        texts: text to train the tokenizer on (and to pretrain on when ``pretrain_steps > 0``);
            chat-formatted by the caller or plain sentences, both work.
        out_dir: folder to write (created; replaced atomically when it already exists).
        vocab_size, hidden_size, layers, heads, intermediate_size, max_positions: model shape
            (``intermediate_size`` defaults to ``4 * hidden_size``).
        pretrain_steps: steps of next-token pretraining (AdamW, batch of 8 texts, at most 128
            tokens each) so the model starts from something better than noise; a few dozen steps
            take seconds on a CPU for the default shape.
        seed: seeds the tokenizer-independent parts (weights, pretraining batches).

    Returns:
        The folder, loadable offline with ``AutoModelForCausalLM.from_pretrained`` and
        ``AutoTokenizer.from_pretrained``. A ``pluralign_tiny.json`` beside the weights records the
        settings and the sha256 of the texts (provenance).
    """
    require("torch", "train")
    import hashlib

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from pluralign import __version__

    texts = _clean_texts(texts)
    if hidden_size % heads:
        raise InputError(
            f"hidden_size {hidden_size} is not divisible by heads {heads}", where="hidden_size"
        )
    for name, value in (("layers", layers), ("heads", heads), ("hidden_size", hidden_size)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, got {value}", where=name)
    if pretrain_steps < 0:
        raise InputError(
            f"pretrain_steps must be >= 0, got {pretrain_steps}", where="pretrain_steps"
        )

    out_dir = Path(out_dir)
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    losses = (
        _pretrain(model, tokenizer, texts, pretrain_steps, pretrain_lr, seed)
        if pretrain_steps
        else []
    )
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id

    sha = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    with atomic_folder(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = {
            "kind": "pluralign tiny model",
            "pluralign_version": __version__,
            "texts_sha256": sha,
            "n_texts": len(texts),
            "seed": seed,
            "vocab_size": len(tokenizer),
            "hidden_size": hidden_size,
            "layers": layers,
            "heads": heads,
            "parameters": sum(p.numel() for p in model.parameters()),
            "pretrain_steps": pretrain_steps,
            "pretrain_losses": losses,
        }
        (tmp / "pluralign_tiny.json").write_text(json.dumps(meta, indent=2))
    return out_dir


def _pretrain(model, tokenizer, texts: list[str], steps: int, lr: float, seed: int) -> list[float]:
    """A few AdamW steps of next-token prediction on ``texts``; returns the loss per step."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    encoded = [tokenizer(t, truncation=True, max_length=128)["input_ids"] for t in texts]
    encoded = [ids + [tokenizer.eos_token_id] for ids in encoded if ids]
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    batch_size = min(8, len(encoded))
    for step in range(steps):
        idx = torch.randperm(len(encoded), generator=gen)[:batch_size].tolist()
        batch = tokenizer.pad({"input_ids": [encoded[i] for i in idx]}, return_tensors="pt")
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        for group in opt.param_groups:  # cosine decay keeps the last steps from undoing the first
            group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(round(float(loss.detach()), 4))
    model.eval()
    return losses
