"""Synthetic data from a constitution: clause questions, critique → revision preference pairs
(Constitutional AI), and self-refinement records — every generated text quality-gated.

All three write append-only JSONL through :class:`~pluralign.llm.jsonl.ResumableJsonl`: every row
has a done-key, an interrupted run resumes where it stopped, and (with the request cache) a
re-run sends no request for work already answered. Every gate decision goes to
``OUT.gates.jsonl`` and its counts to ``OUT.gates.json`` (:mod:`pluralign.llm.gatelog`).

- Questions (Bai et al. 2022, *Constitutional AI*, arXiv:2212.08073, red-team prompts per
  principle): per clause, candidates of the kinds in :data:`pluralign.llm.prompts.QUESTION_KINDS`
  in turn (the first round greedy, later ones sampled at ``temperature``), gated by
  :func:`pluralign.llm.gates.question_gate`, near-duplicates dropped
  (:mod:`pluralign.llm.dedup`), up to N kept; at most ``attempts`` × N candidates per clause.
  The requests of all clauses go to the provider together, so a batching provider batches them.
- Critique → revision (same paper, §3.1): :mod:`pluralign.llm.chain`; a preference pair
  ``chosen = revision, rejected = initial answer``, gated once more as a pair and de-duplicated.
  Without critique (``critique=False``, the first stage of a curriculum, docs/rounds.md) the
  chosen reply is the answer written with the clause as an explicit instruction (context
  distillation, Askell et al. 2021, arXiv:2112.00861).
- Self-refinement (Madaan et al. 2023, *Self-Refine*, arXiv:2303.17651): per clause, a scenario
  that tempts the assistant to break the clause (a question of the ``tempt`` kind), then the same
  chain; record ``scenario, rejected, chosen, critique``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pluralign import __version__
from pluralign.errors import ProviderError
from pluralign.io import iter_jsonl
from pluralign.llm import gates as G
from pluralign.llm import prompts as P
from pluralign.llm.chain import STEP_SEEDS, ChainItem, run_chain, run_instructed, step_seed
from pluralign.llm.gatelog import GateLog
from pluralign.llm.jsonl import ResumableJsonl
from pluralign.llm.provider import Provider
from pluralign.llm.runner import Tally, progress_bar
from pluralign.llm.types import ChatRequest

if TYPE_CHECKING:  # the caller reads them (pluralign.constitution.document.read_clauses)
    from pluralign.constitution.document import Clause

clean_text = G.clean_text

__all__ = [
    "STEP_SEEDS",
    "step_seed",
    "GenerationSettings",
    "SynthSummary",
    "synth_questions",
    "synth_revisions",
    "synth_refinements",
    "load_questions",
    "clean_text",
]

QUESTION_TOKENS = 64
"""Most tokens of a question candidate (``Topic: ...`` and ``Message: ...`` lines)."""
CLAUSE_CHUNK = 8
"""Clauses whose question candidates are requested together (their rows are written when the
chunk is done, so an interrupted run loses at most one chunk's unfinished work)."""
CHAIN_CHUNK = 16
"""Items taken through answer → critique → revision together (one batch per step)."""


@dataclass(frozen=True)
class GenerationSettings:
    """Generation settings recorded in every row's provenance.

    The first attempt of every text is greedy; ``temperature`` is that of the later candidates
    and retries. ``attempts`` is how often each step of answer → critique → revision is asked
    before the item is dropped. ``language`` is the language every text must be in: ``auto``
    (the clause's own, by its function words; English when too short to tell), a code such as
    ``en``, or ``None`` for no check."""

    temperature: float = 0.7
    max_tokens: int = 96
    seed: int = 0
    attempts: int = 2
    language: str | None = "auto"


@dataclass(frozen=True)
class SynthSummary:
    """What one synthesis step did (``failed`` items stay not-done and are retried by a re-run);
    ``gates`` is the content of ``OUT.gates.json``."""

    step: str
    out: str
    written: int
    already_done: int
    skipped: int
    failed: int
    errors: tuple[str, ...]
    usage: dict
    gates: dict | None = None


def clause_language(clause: Clause, setting: str | None) -> str | None:
    """The language a clause's texts must be in (see :class:`GenerationSettings`)."""
    if setting != "auto":
        return setting
    return G.guess_language(clause.text) or "en"


def clause_kind(clause: Clause) -> str:
    """``consensus`` for a clause drafted from statements every opinion group agreed with (it
    lists them), else ``constitution`` (hand-written, or from a model interview)."""
    return "consensus" if clause.statements else "constitution"


def pair_group(clause: Clause) -> str:
    """The ``group`` of a pair made from ``clause``: the opinion group the clause's provenance
    names, else its :func:`clause_kind` (a drafted clause speaks for every group at once)."""
    return clause.group or clause_kind(clause)


def _provenance(provider: Provider, clause: Clause, settings: GenerationSettings, **extra) -> dict:
    return {
        "clause_id": clause.id,
        "clause": clause.text,
        "kind": clause_kind(clause),
        "model": provider.model_name(),
        "prompt_version": P.PROMPT_VERSION,
        "code_version": __version__,
        "seed": settings.seed,
        "temperature": settings.temperature,
        **extra,
    }


def _summary(
    step: str, out: ResumableJsonl, tally: Tally, provider: Provider, log: GateLog
) -> SynthSummary:
    return SynthSummary(
        step,
        str(out.path),
        tally.written,
        tally.already_done,
        tally.skipped,
        tally.failed,
        tuple(tally.errors),
        provider.usage.to_json(),
        log.summary(),
    )


def question_request(clause: Clause, variant: int, settings: GenerationSettings) -> ChatRequest:
    """Candidate ``variant`` (0-based) of a clause: kind ``variant mod len(QUESTION_KINDS)``,
    greedy for the first round of kinds, then sampled; seed ``seed + variant``."""
    kinds = list(P.QUESTION_KINDS)
    return ChatRequest.of(
        P.question_messages(clause.text, kinds[variant % len(kinds)]),
        max_tokens=min(settings.max_tokens, QUESTION_TOKENS),
        temperature=0.0 if variant < len(kinds) else settings.temperature,
        seed=settings.seed + variant,
    )


def parse_question(text: str, finish_reason: str = "stop") -> str:
    """The message line of a question reply (``Message: ...``), cleaned."""
    from pluralign.llm.chain import finish_text

    return finish_text(P.after_label(text, "Message"), finish_reason)


class _ClauseQuestions:
    """The candidates of one clause, gated and de-duplicated as they arrive."""

    def __init__(self, clause: Clause, language: str | None):
        self.clause = clause
        self.language = language
        self.requested = 0
        self.kept: list[tuple[int, str]] = []  # (variant, question)
        self.candidates = 0
        self.failed = False


def synth_questions(
    provider: Provider,
    clauses: Sequence[Clause],
    out: Path,
    n_per_clause: int,
    settings: GenerationSettings = GenerationSettings(),
    attempts: int = 3,
    dedup: str = "auto",
    threshold: float | None = None,
    show_progress: bool = True,
) -> SynthSummary:
    """Write up to ``n_per_clause`` gated, distinct questions per clause to ``out`` (JSONL rows
    ``key, clause_id, question, provenance``)."""
    from pluralign.llm.dedup import DEFAULT_THRESHOLD, resolve_method, unit_vectors

    method = resolve_method(dedup)  # fail early when embeddings were asked for but are absent
    thr = DEFAULT_THRESHOLD[method] if threshold is None else float(threshold)
    sink = ResumableJsonl(out)
    log = GateLog(out)
    tally = Tally()
    todo = [c for c in clauses if not sink.is_done(f"q:{c.id}")]
    tally.already_done = len(clauses) - len(todo)
    seen = {G.folded(r.get("question", "")) for _, r in iter_jsonl(sink.path)}
    examples = P.question_examples()
    budget = max(1, attempts) * n_per_clause
    states = [_ClauseQuestions(c, clause_language(c, settings.language)) for c in todo]

    def take(st: _ClauseQuestions, variant: int, text: str) -> None:
        st.candidates += 1
        key = f"q:{st.clause.id}:v{variant}"
        vecs = None
        if method == "embedding" and G.words(text):
            vecs = unit_vectors([st.clause.text, *(q for _, q in st.kept), text], method)
        similarity = float(vecs[0] @ vecs[-1]) if vecs is not None else None
        rejection = G.question_gate(
            text, st.clause.text, language=st.language, examples=examples, similarity=similarity
        )
        if rejection is None and G.folded(text) in seen:
            rejection = G.Rejection("duplicate", "the same text as an earlier question")
        if rejection is None:
            rejection = G.near_duplicate(text, (q for _, q in st.kept))
        if rejection is None and st.kept:
            if vecs is None:
                vecs = unit_vectors([st.clause.text, *(q for _, q in st.kept), text], method)
            best = float((vecs[1:-1] @ vecs[-1]).max())
            if best >= thr:
                rejection = G.Rejection("duplicate", f"cosine {best:.2f} >= {thr} to a kept one")
        if log.check("question", key, 0, text, rejection, clause_id=st.clause.id):
            st.kept.append((variant, text))
            seen.add(G.folded(text))

    def finish(st: _ClauseQuestions) -> None:
        for rank, (variant, text) in enumerate(st.kept[:n_per_clause]):
            key = f"q:{st.clause.id}:{rank}"
            if sink.is_done(key):
                continue
            kind = list(P.QUESTION_KINDS)[variant % len(P.QUESTION_KINDS)]
            sink.write(
                {
                    "key": key,
                    "clause_id": st.clause.id,
                    "question": text,
                    "provenance": _provenance(
                        provider,
                        st.clause,
                        settings,
                        dedup=method,
                        variant=variant + 1,
                        question_kind=kind,
                    ),
                }
            )
            tally.written += 1
        kept = min(len(st.kept), n_per_clause)
        sink.skip(
            f"q:{st.clause.id}",
            "clause done",
            candidates=st.candidates,
            kept=kept,
            rejected=st.candidates - len(st.kept),
        )
        if kept < n_per_clause:
            tally.skipped += n_per_clause - kept

    with progress_bar(len(states), "questions", show_progress) as advance:
        for start in range(0, len(states), CLAUSE_CHUNK):
            _question_rounds(
                provider,
                states[start : start + CLAUSE_CHUNK],
                n_per_clause,
                budget,
                settings,
                take,
                finish,
                tally,
                advance,
            )
    return _summary("questions", sink, tally, provider, log)


def _question_rounds(
    provider, states, n_per_clause, budget, settings, take, finish, tally, advance
) -> None:
    """Ask for candidates of ``states``' clauses together, round after round, until each has
    ``n_per_clause`` kept or has used its ``budget``."""
    active = list(states)
    while active:
        owners: list[tuple[_ClauseQuestions, int]] = []
        for st in active:
            ask = min(2 * (n_per_clause - len(st.kept)), budget - st.requested)
            owners += [(st, st.requested + k) for k in range(ask)]
            st.requested += ask
        results = provider.complete_many(
            [question_request(st.clause, v, settings) for st, v in owners]
        )
        for (st, v), res in zip(owners, results, strict=True):
            if isinstance(res, ProviderError):
                if not st.failed:
                    tally.fail(res)
                st.failed = True
            elif not st.failed:
                take(st, v, parse_question(res.text, res.finish_reason))
        still = []
        for st in active:
            if st.failed:
                advance()
            elif len(st.kept) >= n_per_clause or st.requested >= budget:
                finish(st)
                advance()
            else:
                still.append(st)
        active = still


def load_questions(path: Path) -> list[dict]:
    """Rows with ``clause_id`` and ``question`` (or ``prompt``) from a questions JSONL."""
    from pluralign.errors import InputError, at

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


def _pair_check(log: GateLog, it: ChainItem, seen: set) -> G.Rejection | None:
    """The pair gate plus de-duplication of (prompt, chosen, rejected), logged as step 'pair'."""
    rejection = G.pair_gate(it.prompt, it.revision or "", it.answer or "")
    ident = (G.folded(it.prompt), G.folded(it.revision or ""), G.folded(it.answer or ""))
    if rejection is None and ident in seen:
        rejection = G.Rejection("duplicate", "the same pair was already written")
    log.check("pair", it.key, 0, it.revision or "", rejection)
    if rejection is None:
        seen.add(ident)
    return rejection


def _chain_and_write(
    provider, items, settings, log, sink, tally, show_progress, description, row_of,
    chain=run_chain, steps: int = 3,
) -> None:
    seen = set()
    for _, r in iter_jsonl(sink.path):
        prompt = r.get("prompt") or r.get("scenario") or ""
        seen.add((G.folded(prompt), G.folded(r.get("chosen", "")), G.folded(r.get("rejected", ""))))
    with progress_bar(steps * len(items), description, show_progress) as advance:
        for start in range(0, len(items), CHAIN_CHUNK):
            chunk = items[start : start + CHAIN_CHUNK]
            chain(provider, chunk, settings, log, advance)
            _write_chunk(chunk, log, sink, tally, seen, row_of)


def _write_chunk(items, log, sink, tally, seen, row_of) -> None:
    for it in items:
        if it.failed is not None:
            tally.fail(it.failed)
            continue
        if it.dropped is not None:
            step, reason, detail = it.dropped
            sink.skip(it.key, f"{step} rejected: {reason}", step=step, gate=reason, detail=detail)
            tally.skipped += 1
            continue
        rejection = _pair_check(log, it, seen)
        if rejection is not None:
            sink.skip(
                it.key,
                f"pair rejected: {rejection.reason}",
                step="pair",
                gate=rejection.reason,
                detail=rejection.detail,
            )
            tally.skipped += 1
            continue
        sink.write(row_of(it))
        tally.written += 1


def synth_revisions(
    provider: Provider,
    clauses: Sequence[Clause],
    questions: Sequence[dict],
    out: Path,
    settings: GenerationSettings = GenerationSettings(),
    show_progress: bool = True,
    critique: bool = True,
) -> SynthSummary:
    """Critique → revision per question; writes preference JSONL rows ``prompt, chosen,
    rejected, weight, group, source`` plus ``key`` and ``provenance``. ``critique=False``: the
    chosen reply is the answer written with the clause as an explicit instruction instead
    (:func:`pluralign.llm.chain.run_instructed`, source ``synth:instructed``)."""
    from pluralign.errors import InputError

    by_id = {c.id: c for c in clauses}
    missing = sorted({q["clause_id"] for q in questions} - set(by_id))
    if missing:
        raise InputError(
            f"questions name clauses not in the constitution: {missing[:5]}",
            hint="pass the constitution the questions were made from",
        )
    sink = ResumableJsonl(out)
    log = GateLog(out)
    tally = Tally()
    todo = [q for q in questions if not sink.is_done(f"r:{q['key']}")]
    tally.already_done = len(questions) - len(todo)
    items = [
        ChainItem(
            f"r:{q['key']}",
            by_id[q["clause_id"]].text,
            q["question"],
            settings.seed,
            clause_language(by_id[q["clause_id"]], settings.language),
        )
        for q in todo
    ]
    qkey = {f"r:{q['key']}": q for q in todo}

    def row_of(it: ChainItem) -> dict:
        q = qkey[it.key]
        clause = by_id[q["clause_id"]]
        return {
            "key": it.key,
            "prompt": it.prompt,
            "chosen": it.revision,
            "rejected": it.answer,
            "weight": 1.0,
            "group": pair_group(clause),
            "source": "synth:critique-revision" if critique else "synth:instructed",
            "provenance": _provenance(
                provider,
                clause,
                settings,
                critique=it.critique,
                question_key=q["key"],
                attempts=dict(it.attempts),
            ),
        }

    if critique:
        _chain_and_write(
            provider, items, settings, log, sink, tally, show_progress, "critique → revision",
            row_of,
        )
    else:
        _chain_and_write(
            provider, items, settings, log, sink, tally, show_progress, "instructed answers",
            row_of, chain=run_instructed, steps=2,
        )
    return _summary("revisions", sink, tally, provider, log)


def synth_refinements(
    provider: Provider,
    clauses: Sequence[Clause],
    out: Path,
    n_per_clause: int,
    settings: GenerationSettings = GenerationSettings(),
    show_progress: bool = True,
) -> SynthSummary:
    """Self-refinement records ``scenario, rejected, chosen, critique`` (+ ``key, clause_id,
    provenance``), ``n_per_clause`` scenarios per clause."""
    sink = ResumableJsonl(out)
    log = GateLog(out)
    tally = Tally()
    items = [(c, j) for c in clauses for j in range(n_per_clause)]
    todo = [(c, j) for c, j in items if not sink.is_done(f"s:{c.id}:{j}")]
    tally.already_done = len(items) - len(todo)
    examples = P.question_examples()
    reqs = [
        ChatRequest.of(
            P.question_messages(c.text, P.SCENARIO_KIND),
            max_tokens=min(settings.max_tokens, QUESTION_TOKENS),
            temperature=0.0 if j == 0 else settings.temperature,
            seed=settings.seed + j,
        )
        for c, j in todo
    ]
    chain_items: list[ChainItem] = []
    meta: dict[str, tuple[Clause, int]] = {}
    for (c, j), res in zip(todo, provider.complete_many(reqs), strict=True):
        key = f"s:{c.id}:{j}"
        if isinstance(res, ProviderError):
            tally.fail(res)
            continue
        language = clause_language(c, settings.language)
        scenario = parse_question(res.text, res.finish_reason)
        rejection = G.question_gate(scenario, c.text, language=language, examples=examples)
        if not log.check("scenario", key, 0, scenario, rejection, clause_id=c.id):
            sink.skip(
                key,
                f"scenario rejected: {rejection.reason}",
                step="scenario",
                gate=rejection.reason,
                detail=rejection.detail,
            )
            tally.skipped += 1
            continue
        chain_items.append(ChainItem(key, c.text, scenario, settings.seed + j, language))
        meta[key] = (c, j)

    def row_of(it: ChainItem) -> dict:
        clause, j = meta[it.key]
        return {
            "key": it.key,
            "scenario": it.prompt,
            "rejected": it.answer,
            "chosen": it.revision,
            "critique": it.critique,
            "clause_id": clause.id,
            "provenance": _provenance(
                provider, clause, settings, variant=j + 1, attempts=dict(it.attempts)
            ),
        }

    _chain_and_write(
        provider, chain_items, settings, log, sink, tally, show_progress, "self-refinement", row_of
    )
    return _summary("refinements", sink, tally, provider, log)
