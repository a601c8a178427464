"""Constitutional judge: does model B follow the constitution better than model A?

For every prompt, A and B answer; the judge model sees both answers anonymised as "Response 1"
and "Response 2", once in each order (Zheng et al. 2023, *Judging LLM-as-a-Judge*,
arXiv:2306.05685, §3.4 position bias: a verdict counts only when it survives swapping). A winner
picked in both orders wins; disagreement is a tie; an unparseable verdict is retried (a repair
retry, then ``retries`` fresh attempts with new seeds) and then counted as a failure, never
guessed. Each prompt is judged against its clause (``clause_id``) or, without one, the whole
constitution. Results per clause and overall with bootstrap intervals
(:mod:`pluralign.llm.judge_stats`) go to ``OUT/judge.json``; per-item verdicts to
``OUT/judge_items.jsonl``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from pluralign import __version__
from pluralign.bootstrap import N_BOOT
from pluralign.io import atomic_write_text, write_json_atomic
from pluralign.llm import prompts as P
from pluralign.llm.judge_stats import combine_orders, win_rate
from pluralign.llm.provider import Provider
from pluralign.llm.runner import Tally, run_items
from pluralign.llm.types import ChatRequest

if TYPE_CHECKING:  # the caller reads them (pluralign.constitution.document.read_clauses)
    from pluralign.constitution.document import Clause

JUDGE_FILE = "judge.json"
ITEMS_FILE = "judge_items.jsonl"


class JudgeVerdict(BaseModel):
    winner: Literal["1", "2", "tie"]
    reason: str = ""


def parse_plain_verdict(text: str) -> JudgeVerdict | None:
    """Plain-text forms: a reply that is just ``1``/``2``/``tie`` (optionally 'Response 1'),
    or a line ``winner: 1``. Anything else is unparseable."""
    t = text.strip().strip(".").strip()
    m = re.fullmatch(r"(?i)(?:response\s*)?([12]|tie)", t)
    if m is None:
        m = re.search(r"(?im)^\s*\"?winner\"?\s*[:=]\s*\"?(?:response\s*)?([12]|tie)\b", text)
    return JudgeVerdict(winner=m.group(1).lower()) if m else None


def judge_once(
    judge: Provider,
    principles: str,
    prompt: str,
    first: str,
    second: str,
    retries: int,
    max_tokens: int,
) -> tuple[str | None, list[str]]:
    """The winner ``"1"``/``"2"``/``"tie"`` shown in this order, or ``None`` after retries."""
    raw: list[str] = []
    for attempt in range(retries + 1):
        req = ChatRequest.of(
            P.judge_messages(principles, prompt, first, second),
            max_tokens=max_tokens,
            temperature=0.0 if attempt == 0 else 0.7,
            seed=attempt,
        )
        res = judge.structured(req, JudgeVerdict, fallback=parse_plain_verdict)
        raw.extend(res.raw)
        if res.value is not None:
            return res.value.winner, raw
    return None, raw


@dataclass(frozen=True)
class JudgeSummary:
    path: str
    items_path: str
    overall: dict
    per_clause: list[dict]
    failed_requests: int


def _to_model(winner: str | None, a_first: bool) -> str | None:
    if winner is None:
        return None
    if winner == "tie":
        return "tie"
    return ("a" if winner == "1" else "b") if a_first else ("b" if winner == "1" else "a")


def run_judge(
    model_a: Provider,
    model_b: Provider,
    judge: Provider,
    prompts: Sequence[dict],
    clauses: Sequence[Clause],
    out: Path,
    retries: int = 1,
    answer_tokens: int = 256,
    judge_tokens: int = 256,
    n_boot: int = N_BOOT,
    seed: int = 0,
    show_progress: bool = True,
) -> JudgeSummary:
    """Answer every prompt with A and B, judge both orders, write ``OUT/judge.json``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    by_id = {c.id: c for c in clauses}
    whole = "\n".join(f"- {c.text}" for c in clauses)
    items: list[dict] = [None] * len(prompts)  # type: ignore[list-item]
    tally = Tally()

    def one(i: int) -> None:
        p = prompts[i]
        clause = by_id.get(p.get("clause_id") or "")
        principles = f"- {clause.text}" if clause else whole
        ask = [("system", P.ANSWER_SYSTEM), ("user", p["prompt"])]
        ans_a = model_a.complete(ChatRequest.of(ask, max_tokens=answer_tokens, seed=seed)).text
        ans_b = model_b.complete(ChatRequest.of(ask, max_tokens=answer_tokens, seed=seed)).text
        w1, raw1 = judge_once(judge, principles, p["prompt"], ans_a, ans_b, retries, judge_tokens)
        w2, raw2 = judge_once(judge, principles, p["prompt"], ans_b, ans_a, retries, judge_tokens)
        first, second = _to_model(w1, True), _to_model(w2, False)
        items[i] = {
            "id": p["id"],
            "clause_id": clause.id if clause else None,
            "prompt": p["prompt"],
            "answer_a": ans_a,
            "answer_b": ans_b,
            "verdict_a_first": first,
            "verdict_b_first": second,
            "verdict": combine_orders(first, second),
            "judge_raw": raw1 + raw2,
        }

    run_items(
        list(range(len(prompts))), one, tally, judge.config.concurrency, "judging", show_progress
    )
    done = [it for it in items if it is not None]
    for i, it in enumerate(items):
        if it is None:  # provider failure: counted as a failure item
            done.append(
                {
                    "id": prompts[i]["id"],
                    "clause_id": prompts[i].get("clause_id"),
                    "prompt": prompts[i]["prompt"],
                    "verdict": "failure",
                    "error": "provider failed (see failed_requests)",
                }
            )
    overall = win_rate([it["verdict"] for it in done], n_boot=n_boot, seed=seed).to_json()
    per_clause = []
    for cid in sorted({it["clause_id"] or "(all)" for it in done}):
        vs = [it["verdict"] for it in done if (it["clause_id"] or "(all)") == cid]
        per_clause.append(
            {
                "clause_id": cid,
                "text": by_id[cid].text if cid in by_id else None,
                **win_rate(vs, n_boot=n_boot, seed=seed).to_json(),
            }
        )
    # flat scalars first and a list of flat rows: the report shows them as they are
    result = {
        "model_a": model_a.model_name(),
        "model_b": model_b.model_name(),
        "judge": judge.model_name(),
        **overall,
        "failed_requests": tally.failed,
        "overall": overall,
        "per_clause": per_clause,
        "errors": tally.errors,
        "provenance": {
            "code_version": __version__,
            "prompt_version": P.PROMPT_VERSION,
            "seed": seed,
            "n_boot": n_boot,
            "retries": retries,
            "n_prompts": len(prompts),
            "usage": {
                "a": model_a.usage.to_json(),
                "b": model_b.usage.to_json(),
                "judge": judge.usage.to_json(),
            },
        },
    }
    items_path = out / ITEMS_FILE
    atomic_write_text(items_path, "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in done))
    path = out / JUDGE_FILE
    write_json_atomic(path, result)
    return JudgeSummary(str(path), str(items_path), overall, per_clause, tally.failed)


def load_prompts(path: Path) -> list[dict]:
    """Prompt rows from JSONL: ``prompt`` (or ``question``), optional ``id`` and ``clause_id``."""
    from pluralign.errors import InputError, at
    from pluralign.io import iter_jsonl

    rows = []
    for n, row in iter_jsonl(path):
        text = row.get("prompt") or row.get("question")
        if not isinstance(text, str) or not text.strip():
            raise InputError("each row needs a 'prompt' (or 'question')", where=at(path, n))
        rows.append(
            {
                "id": str(row.get("id") or row.get("key") or n),
                "prompt": text,
                "clause_id": row.get("clause_id"),
            }
        )
    if not rows:
        raise InputError("no prompts", where=str(path))
    return rows
