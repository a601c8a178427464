"""Implicit reward margins of a policy against a reference model, per preference pair.

DPO's reparametrisation (Rafailov et al. 2023, "Direct Preference Optimization", Eq. 5) makes any
policy πθ a reward model relative to a reference πref:

    r(x, y) = β · log πθ(y|x) / πref(y|x)        (up to a prompt-only term that cancels in pairs)

so the implicit reward margin of a pair (x, y_c, y_r) is

    m = β · [ (log πθ(y_c|x) − log πref(y_c|x)) − (log πθ(y_r|x) − log πref(y_r|x)) ]

and "the model prefers the chosen reply" means m > 0. Evaluation (``pluralign evaluate``) reads
held-out preference accuracy per group from these margins. Log-probabilities are summed over the
reply's tokens only, tokenised exactly as the trainers tokenise them (chat template when the
tokenizer has one; the reply starts where the rendered prompt stops being a prefix).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError, require
from pluralign.train.rows import load_rows


def load_causal_lm(model_dir: str | Path, device: str | None = None):
    """Load a local causal LM (a full checkpoint, or a PEFT adapter folder with its base) and its
    tokenizer, in eval mode, offline."""
    require("transformers", "train")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pluralign.models import resolve_model

    path = resolve_model(model_dir)  # 'smollm2' / 'embedded': the embedded model
    if not path.is_dir():
        raise InputError(
            f"model folder not found: {path}",
            hint="give a folder written by save_pretrained (e.g. `pluralign model tiny --out DIR`)",
        )
    if (path / "adapter_config.json").exists() and not (path / "config.json").exists():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    elif (path / "config.json").exists():
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    else:
        raise InputError(
            f"{path} holds no config.json or adapter_config.json", hint="is this a model folder?"
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device).eval()
    return model, tokenizer


def _ids(encoded) -> list[int]:
    if isinstance(encoded, Mapping):
        encoded = encoded["input_ids"]
    return list(encoded)


def encode_completion(tokenizer, prompt: str, reply: str) -> tuple[list[int], list[int]]:
    """Token ids of the prompt and of the reply, as the TRL trainers build them.

    With a chat template: the prompt is rendered as a user turn with the generation prompt, the
    pair as user + assistant turns, and the reply starts at the first token where the two differ.
    Without one: plain text, the reply followed by the eos token.
    """
    if getattr(tokenizer, "chat_template", None):
        user = [{"role": "user", "content": prompt}]
        prompt_ids = _ids(
            tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=True)
        )
        full = _ids(
            tokenizer.apply_chat_template(
                user + [{"role": "assistant", "content": reply}], tokenize=True
            )
        )
    else:
        prompt_ids = _ids(tokenizer(prompt))
        eos = tokenizer.eos_token or ""
        full = _ids(tokenizer(prompt + reply + ("" if reply.endswith(eos) else eos)))
    n = 0
    while n < min(len(prompt_ids), len(full)) and prompt_ids[n] == full[n]:
        n += 1
    return full[:n], full[n:]


#: Sequences scored per forward pass. One value for every scorer, so that a margin computed by
#: :func:`preference_margins` and one computed from :func:`pair_logps` (as ``evaluate`` does) go
#: through the same batches: in float32 a sequence's log-probability moves by ~1e-7 relative with
#: the padded width of its batch.
SCORE_BATCH_SIZE = 16


def sequence_logps(
    model, tokenizer, pairs: Sequence[tuple[str, str]], batch_size: int = SCORE_BATCH_SIZE
) -> np.ndarray:
    """Σ_t log p(reply_t | prompt, reply_<t) for each (prompt, reply), as float64.

    Each distinct (prompt, reply) is scored once (a pair's chosen reply is often another pair's
    rejected one), sequences are batched by length (less padding) and only the reply positions go
    through the LM head (:func:`pluralign.train.logps.completion_token_logps`)."""
    import torch

    from pluralign.train.logps import completion_token_logps

    index: dict[tuple[str, str], int] = {}
    where = [index.setdefault((p, r), len(index)) for p, r in pairs]
    if len(index) < len(where):
        return sequence_logps(model, tokenizer, list(index), batch_size)[where]
    device = next(model.parameters()).device
    out = np.empty(len(pairs), dtype=np.float64)
    encoded = [encode_completion(tokenizer, p, r) for p, r in pairs]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            width = max(len(encoded[i][0]) + len(encoded[i][1]) for i in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            att = torch.zeros((len(chunk), width), dtype=torch.long)
            labels = torch.full((len(chunk), width), -100, dtype=torch.long)
            for row, i in enumerate(chunk):
                p, c = encoded[i]
                seq = torch.tensor(p + c)
                ids[row, : len(seq)] = seq
                att[row, : len(seq)] = 1
                labels[row, len(p) : len(seq)] = seq[len(p) :]
            per_token = completion_token_logps(
                model, labels.to(device), input_ids=ids.to(device), attention_mask=att.to(device)
            )
            out[chunk] = per_token.double().sum(-1).cpu().numpy()  # accumulate in float64
    return out


def pair_logps(
    model_dir: str | Path,
    rows: Iterable[Mapping[str, Any] | PreferencePair] | str | Path,
    *,
    batch_size: int = SCORE_BATCH_SIZE,
    device: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(log π(chosen|prompt), log π(rejected|prompt)) per row under the model in ``model_dir``.
    Useful to compute the reference once and reuse it for several policies."""
    rows = load_rows(rows)
    model, tokenizer = load_causal_lm(model_dir, device)
    both = sequence_logps(  # one call: a reply chosen in one row and rejected in another
        model, tokenizer,
        [(r.prompt, r.chosen) for r in rows] + [(r.prompt, r.rejected) for r in rows],
        batch_size,
    )
    return both[: len(rows)], both[len(rows) :]


def preference_margins(
    model_dir: str | Path,
    ref_model_dir: str | Path | None,
    rows: Iterable[Mapping[str, Any] | PreferencePair] | str | Path,
    beta: float = 0.1,
    *,
    batch_size: int = SCORE_BATCH_SIZE,
    device: str | None = None,
) -> np.ndarray:
    """Implicit reward margin m_i of each pair (module docstring), shape ``(len(rows),)``, float64.

    ``rows``: dicts with ``prompt``, ``chosen``, ``rejected`` (other keys go to the pair's
    provenance), :class:`~pluralign.data.preferences.PreferencePair` objects, or a JSONL path.
    ``ref_model_dir=None`` drops the reference term (margin of raw log-likelihoods,
    β·[log π(y_c|x) − log π(y_r|x)]). Passing the same folder as policy and reference gives
    zeros. Accuracy is ``(margins > 0).mean()``.
    """
    if not (beta > 0):
        raise InputError(f"beta must be > 0, got {beta}", where="beta")
    rows = load_rows(rows)
    pc, pr = pair_logps(model_dir, rows, batch_size=batch_size, device=device)
    if ref_model_dir is None:
        return beta * (pc - pr)
    if Path(ref_model_dir).resolve() == Path(model_dir).resolve():
        return np.zeros(len(rows))
    rc, rr = pair_logps(ref_model_dir, rows, batch_size=batch_size, device=device)
    return beta * ((pc - rc) - (pr - rr))
