"""What the model says, before and after training: greedy answers to held-out prompts.

:func:`heldout_prompts` picks up to ``n`` distinct held-out prompts (never trained on): prompts
people agreed on first (``consensus``, then ``consensus-against``), then ``divisive`` and the
rest, each kind in the order the data lists them, so the answers a reader sees first are those
the panel's decision should have changed. :func:`generate_answers` renders each prompt with the
model's chat template and decodes greedily (deterministic: the same model gives the same text) in
batches with a KV cache (:mod:`pluralign.models.generate`). The stage writes
``evaluate/generations.jsonl``, one JSON object per prompt::

    {"prompt": ..., "before": ..., "after": ..., "changed": true,
     "repetitive_before": false, "repetitive_after": false,
     "kind": "consensus", "topic": "children", "prompt_id": ..., "clause": "c2",
     "statement_ids": ["59"], "pairs": 21}

``before`` is the base model's answer, ``after`` the trained model's; ``repetitive_*`` flags an
answer that loops (:func:`pluralign.llm.gates.is_repetitive`: at least 12 tokens and fewer than
60 % distinct token trigrams, the synthesis gates' rule), so a training run that wrecks fluency
shows in the numbers, not only in the text; ``clause`` is the
constitution clause whose statements the prompt was written for (when known); ``pairs`` the
number of held-out preference pairs on that prompt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

KIND_ORDER = ("consensus", "consensus-against", "divisive", "mixed")


def clause_of_statements(clauses: Sequence[Any]) -> dict[str, str]:
    """statement id → id of the first clause built on it
    (:class:`pluralign.constitution.Clause` objects, whose ``statements`` are the ids)."""
    out: dict[str, str] = {}
    for clause in clauses:
        for sid in clause.statements:
            out.setdefault(str(sid), str(clause.id))
    return out


def heldout_prompts(
    rows: Sequence[Mapping], n: int, clause_by_statement: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Up to ``n`` distinct prompts of ``rows`` with what is known about them (module
    docstring for the order)."""
    found: dict[str, dict[str, Any]] = {}
    for r in rows:
        prompt = r["prompt"]
        prov = r.get("provenance") or {}
        if prompt in found:
            found[prompt]["pairs"] += 1
            continue
        sids = [str(s) for s in prov.get("statement_ids") or []]
        clause = r.get("clause_id") or prov.get("clause_id")
        if clause is None and clause_by_statement:
            clause = next((clause_by_statement[s] for s in sids if s in clause_by_statement), None)
        item = {
            "prompt": prompt,
            "kind": prov.get("kind"),
            "topic": prov.get("topic"),
            "prompt_id": prov.get("prompt_id"),
            "clause": clause,
            "statement_ids": sids,
            "pairs": 1,
        }
        found[prompt] = {k: v for k, v in item.items() if v not in (None, [])}

    def rank(item: dict[str, Any]) -> int:
        kind = item.get("kind")
        return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)

    return sorted(found.values(), key=rank)[: max(0, n)]


def answers(
    model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int = 64, batch_size: int = 16
) -> list[str]:
    """Greedy chat answers of a loaded model to ``prompts``, in order."""
    from pluralign.models.generate import (
        GenerationRequest,
        chat_prompt_ids,
        end_token_ids,
        generate_batch,
    )

    end, pad = end_token_ids(model, tokenizer), tokenizer.pad_token_id
    requests = [
        GenerationRequest(
            chat_prompt_ids(tokenizer, [{"role": "user", "content": p}]), max_new_tokens
        )
        for p in prompts
    ]
    # similar lengths together: less padding per batch
    order = sorted(range(len(requests)), key=lambda i: len(requests[i].prompt_ids))
    out: list[str] = [""] * len(requests)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        done = generate_batch(model, [requests[i] for i in chunk], end_ids=end, pad_id=pad)
        for i, g in zip(chunk, done, strict=True):
            out[i] = tokenizer.decode(list(g.token_ids), skip_special_tokens=True).strip()
    return out


def score_and_answer(
    model_dir: str | Path,
    pairs: Sequence[Mapping[str, str]],
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 64,
):
    """Load the model in ``model_dir`` once: summed reply log-probabilities of each pair's chosen
    and rejected reply (:func:`pluralign.train.margins.sequence_logps`), and greedy answers to
    ``prompts``. Returns ``((chosen, rejected), answers)``."""
    from pluralign.models.info import require_chat_template
    from pluralign.train.margins import load_causal_lm, sequence_logps

    model, tok = load_causal_lm(model_dir)
    n = len(pairs)  # one call: a reply chosen in one pair and rejected in another is scored once
    both = sequence_logps(model, tok, [(p["prompt"], p["chosen"]) for p in pairs]
                          + [(p["prompt"], p["rejected"]) for p in pairs])
    chosen, rejected = both[:n], both[n:]
    said: list[str] = []
    if prompts:
        require_chat_template(Path(model_dir))
        said = answers(model, tok, prompts, max_new_tokens=max_new_tokens)
    return (chosen, rejected), said


def write_generations(
    path: Path, items: Sequence[Mapping[str, Any]], before: Sequence[str], after: Sequence[str]
) -> list[dict[str, Any]]:
    """Write ``generations.jsonl`` atomically; returns the rows written."""
    rows = generation_rows(items, before, after)
    write_generation_rows(path, rows)
    return rows


def generation_rows(
    items: Sequence[Mapping[str, Any]], before: Sequence[str], after: Sequence[str]
) -> list[dict[str, Any]]:
    """One ``generations.jsonl`` row per held-out prompt: both answers and what the prompt is."""
    from pluralign.llm.gates import is_repetitive

    rows = []
    for item, b, a in zip(items, before, after, strict=True):
        row = {"prompt": item["prompt"], "before": b, "after": a, "changed": a != b,
               "repetitive_before": is_repetitive(b), "repetitive_after": is_repetitive(a)}
        row.update({k: v for k, v in item.items() if k != "prompt"})
        rows.append(row)
    return rows


def write_generation_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """``rows`` as JSON Lines, written atomically."""
    from pluralign.io import atomic_write_text

    return atomic_write_text(
        path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_generation_rows(path: Path) -> list[dict[str, Any]]:
    """The rows :func:`write_generation_rows` wrote (none when the file is absent)."""
    from pluralign.io import iter_jsonl

    return [row for _, row in iter_jsonl(path)] if Path(path).is_file() else []
