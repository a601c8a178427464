"""Synthetic data from a constitution: clause questions, critique → revision preference pairs
(Constitutional AI), and self-refinement records.

All three write append-only JSONL through :class:`~pluralign.llm.jsonl.ResumableJsonl`: every row
has a done-key, an interrupted run resumes where it stopped, and (with the request cache) a
re-run sends no request for work already answered.

- Questions (Bai et al. 2022, *Constitutional AI*, arXiv:2212.08073, red-team prompts per
  principle): per clause, sample candidates (``temperature``, seed ``seed + variant``), drop
  near-duplicates (:mod:`pluralign.llm.dedup`), keep up to N; at most ``attempts`` × N requests.
- Critique → revision (same paper, §3 "supervised stage"): initial answer, critique against the
  clause, revision; a preference pair ``chosen = revision, rejected = initial``.
- Self-refinement (Madaan et al. 2023, *Self-Refine*, arXiv:2303.17651): per clause, the model
  writes a scenario that tempts it to break the clause, answers, critiques and refines; record
  ``scenario, rejected, chosen, critique``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pluralign import __version__
from pluralign.llm import prompts as P
from pluralign.llm.constitution_io import Clause
from pluralign.llm.jsonl import ResumableJsonl
from pluralign.llm.provider import Provider
from pluralign.llm.runner import Tally, run_items
from pluralign.llm.types import ChatRequest


@dataclass(frozen=True)
class SynthSettings:
    """Generation settings recorded in every row's provenance."""

    temperature: float = 0.9
    max_tokens: int = 256
    seed: int = 0


@dataclass(frozen=True)
class SynthSummary:
    """What one synthesis step did (``failed`` items stay not-done and are retried by a re-run)."""

    step: str
    out: str
    written: int
    already_done: int
    skipped: int
    failed: int
    errors: tuple[str, ...]
    usage: dict


def clean_text(text: str) -> str:
    """Strip whitespace and one pair of wrapping quotes."""
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        t = t[1:-1].strip()
    return t


def _provenance(provider: Provider, clause: Clause, settings: SynthSettings, **extra) -> dict:
    return {
        "clause_id": clause.id,
        "model": provider.model_name(),
        "prompt_version": P.PROMPT_VERSION,
        "code_version": __version__,
        "seed": settings.seed,
        "temperature": settings.temperature,
        **extra,
    }


def _summary(step: str, out: ResumableJsonl, tally: Tally, provider: Provider) -> SynthSummary:
    return SynthSummary(
        step,
        str(out.path),
        tally.written,
        tally.already_done,
        tally.skipped,
        tally.failed,
        tuple(tally.errors),
        provider.usage.to_json(),
    )


def synth_questions(
    provider: Provider,
    clauses: Sequence[Clause],
    out: Path,
    n_per_clause: int,
    settings: SynthSettings = SynthSettings(),
    attempts: int = 3,
    dedup: str = "auto",
    threshold: float | None = None,
    show_progress: bool = True,
) -> SynthSummary:
    """Write up to ``n_per_clause`` distinct questions per clause to ``out`` (JSONL rows
    ``key, clause_id, question, provenance``)."""
    from pluralign.llm.dedup import dedup_texts, resolve_method

    method = resolve_method(dedup)  # fail early when embeddings were asked for but are absent
    sink = ResumableJsonl(out)
    tally = Tally()
    todo = [c for c in clauses if not sink.is_done(f"q:{c.id}")]
    tally.already_done = len(clauses) - len(todo)

    def one(clause: Clause) -> None:
        texts: list[str] = []
        kept: list[int] = []
        variant = 0
        while len(kept) < n_per_clause and variant < attempts * n_per_clause:
            batch = min(2 * (n_per_clause - len(kept)), attempts * n_per_clause - variant)
            reqs = [
                ChatRequest.of(
                    [
                        ("system", P.QUESTION_SYSTEM),
                        (
                            "user",
                            P.QUESTION_USER.format(clause=clause.text, variant=variant + k + 1),
                        ),
                    ],
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    seed=settings.seed + variant + k,
                )
                for k in range(batch)
            ]
            variant += batch
            for res in provider.complete_many(reqs):
                if not isinstance(res, Exception):
                    texts.append(clean_text(res.text))
                else:
                    raise res
            nonempty = [i for i, t in enumerate(texts) if t]
            result = dedup_texts([texts[i] for i in nonempty], method, threshold)
            kept = [nonempty[i] for i in result.kept][:n_per_clause]
        for rank, i in enumerate(kept):
            key = f"q:{clause.id}:{rank}"
            if sink.is_done(key):
                continue
            sink.write(
                {
                    "key": key,
                    "clause_id": clause.id,
                    "question": texts[i],
                    "provenance": _provenance(
                        provider, clause, settings, dedup=method, variant=i + 1
                    ),
                }
            )
            tally.written += 1
        sink.skip(
            f"q:{clause.id}",
            "clause done",
            candidates=len(texts),
            kept=len(kept),
            duplicates_or_empty=len(texts) - len(kept),
        )
        if len(kept) < n_per_clause:
            tally.skipped += n_per_clause - len(kept)

    # clauses one at a time; the requests of a clause run concurrently inside complete_many
    run_items(todo, one, tally, 1, "questions", show_progress)
    return _summary("questions", sink, tally, provider)


STEP_SEEDS = {"answer": 0, "critique": 1_000_003, "revision": 2_000_006}
"""Offset added to an item's seed for each step of answer → critique → revision.

Each step samples with its own seed: with one seed for all three, a model that barely reads
its context (a tiny or weak model) draws the same random stream for the answer and for the
revision and writes the same text, so every item was skipped as "revision equals the initial
answer". The offsets are large so that item ``j``'s steps never reuse item ``j + 1``'s seeds
(:func:`synth_refinements` seeds item ``j`` with ``seed + j``). Seeds are part of each request,
hence of its cache key: a warm re-run still answers every step from the cache."""


def step_seed(seed: int, step: str) -> int:
    """The seed of one step (``answer``, ``critique``, ``revision``) of an item seeded ``seed``."""
    return int(seed) + STEP_SEEDS[step]


def _answer_critique_revise(
    provider: Provider, clause: Clause, prompt: str, settings: SynthSettings, seed: int
) -> tuple[str, str, str]:
    def ask(messages: list[tuple[str, str]], step: str) -> str:
        return clean_text(
            provider.complete(
                ChatRequest.of(
                    messages,
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    seed=step_seed(seed, step),
                )
            ).text
        )

    initial = ask([("system", P.ANSWER_SYSTEM), ("user", prompt)], "answer")
    critique = ask(
        [("user", P.CRITIQUE_USER.format(clause=clause.text, prompt=prompt, answer=initial))],
        "critique",
    )
    revision = ask(
        [
            (
                "user",
                P.REVISION_USER.format(
                    clause=clause.text, prompt=prompt, answer=initial, critique=critique
                ),
            )
        ],
        "revision",
    )
    return initial, critique, revision


def _pair_skip_reason(initial: str, revision: str) -> str | None:
    """Why an (initial answer, revision) pair makes no preference pair, or None if it does."""
    if not (revision and initial):
        return "empty answer or revision"
    if _same(initial, revision):
        return "revision equals the initial answer"
    return None


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def load_questions(path: Path) -> list[dict]:
    """Rows with ``clause_id`` and ``question`` (or ``prompt``) from a questions JSONL."""
    from pluralign.errors import InputError, at
    from pluralign.io import iter_jsonl

    rows = []
    for n, row in iter_jsonl(path):
        text = row.get("question") or row.get("prompt")
        if not text or not row.get("clause_id"):
            raise InputError(
                "each row needs 'clause_id' and 'question' (or 'prompt')", where=at(path, n)
            )
        rows.append(
            {
                "key": str(row.get("key") or f"{path.name}:{n}"),
                "clause_id": str(row["clause_id"]),
                "question": str(text),
            }
        )
    return rows


def synth_revisions(
    provider: Provider,
    clauses: Sequence[Clause],
    questions: Sequence[dict],
    out: Path,
    settings: SynthSettings = SynthSettings(),
    show_progress: bool = True,
) -> SynthSummary:
    """Critique → revision per question; writes preference JSONL rows ``prompt, chosen,
    rejected, weight, group, source`` plus ``key`` and ``provenance``."""
    from pluralign.errors import InputError

    by_id = {c.id: c for c in clauses}
    missing = sorted({q["clause_id"] for q in questions} - set(by_id))
    if missing:
        raise InputError(
            f"questions name clauses not in the constitution: {missing[:5]}",
            hint="pass the constitution the questions were made from",
        )
    sink = ResumableJsonl(out)
    tally = Tally()
    todo = [q for q in questions if not sink.is_done(f"r:{q['key']}")]
    tally.already_done = len(questions) - len(todo)

    def one(q: dict) -> None:
        clause = by_id[q["clause_id"]]
        key = f"r:{q['key']}"
        initial, critique, revision = _answer_critique_revise(
            provider, clause, q["question"], settings, settings.seed
        )
        reason = _pair_skip_reason(initial, revision)
        if reason:
            sink.skip(key, reason)
            tally.skipped += 1
            return
        sink.write(
            {
                "key": key,
                "prompt": q["question"],
                "chosen": revision,
                "rejected": initial,
                "weight": 1.0,
                "group": clause.group,
                "source": "synth:critique-revision",
                "provenance": _provenance(
                    provider, clause, settings, critique=critique, question_key=q["key"]
                ),
            }
        )
        tally.written += 1

    run_items(todo, one, tally, provider.config.concurrency, "critique → revision", show_progress)
    return _summary("revisions", sink, tally, provider)


def synth_refinements(
    provider: Provider,
    clauses: Sequence[Clause],
    out: Path,
    n_per_clause: int,
    settings: SynthSettings = SynthSettings(),
    show_progress: bool = True,
) -> SynthSummary:
    """Self-refinement records ``scenario, rejected, chosen, critique`` (+ ``key, clause_id,
    provenance``), ``n_per_clause`` scenarios per clause."""
    sink = ResumableJsonl(out)
    tally = Tally()
    items = [(c, j) for c in clauses for j in range(n_per_clause)]
    todo = [(c, j) for c, j in items if not sink.is_done(f"s:{c.id}:{j}")]
    tally.already_done = len(items) - len(todo)

    def one(item: tuple[Clause, int]) -> None:
        clause, j = item
        key = f"s:{clause.id}:{j}"
        scenario = clean_text(
            provider.complete(
                ChatRequest.of(
                    [("user", P.SCENARIO_USER.format(clause=clause.text, variant=j + 1))],
                    max_tokens=settings.max_tokens,
                    temperature=settings.temperature,
                    seed=settings.seed + j,
                )
            ).text
        )
        if not scenario:
            sink.skip(key, "empty scenario")
            tally.skipped += 1
            return
        initial, critique, revision = _answer_critique_revise(
            provider, clause, scenario, settings, settings.seed + j
        )
        reason = _pair_skip_reason(initial, revision)
        if reason:
            sink.skip(key, reason)
            tally.skipped += 1
            return
        sink.write(
            {
                "key": key,
                "scenario": scenario,
                "rejected": initial,
                "chosen": revision,
                "critique": critique,
                "clause_id": clause.id,
                "provenance": _provenance(provider, clause, settings, variant=j + 1),
            }
        )
        tally.written += 1

    run_items(todo, one, tally, provider.config.concurrency, "self-refinement", show_progress)
    return _summary("refinements", sink, tally, provider)
