"""Answer → critique → revision for many items at once, each step gated and retried.

The steps of Constitutional AI's supervised stage (Bai et al. 2022, arXiv:2212.08073, §3.1):
the model answers the user; it critiques its answer against the clause; it revises. Here each
step runs for *all* pending items in one :meth:`~pluralign.llm.provider.Provider.complete_many`
call (a batching provider generates them together), and every output passes its quality gate
(:mod:`pluralign.llm.gates`) before the next step sees it:

- attempt 0 is greedy (temperature 0: the model's most likely text, the best a small model
  writes); a rejected output is asked again up to ``attempts - 1`` times, sampled at
  ``settings.temperature`` with a new seed;
- an item whose step stays rejected after its attempts is dropped with that step's last reason;
  a request that fails after the provider's retries marks the item *failed* (not done: a re-run
  retries it).

Seeds: the item's seed plus the step's offset (:data:`STEP_SEEDS`) plus ``ATTEMPT_SEED ×
attempt``. Each step has its own seed so that a model which barely reads its context (the tiny
test model) does not draw the same text for the answer and the revision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pluralign.errors import ProviderError
from pluralign.llm import gates as G
from pluralign.llm import prompts as P
from pluralign.llm.gatelog import GateLog
from pluralign.llm.provider import Provider
from pluralign.llm.types import ChatRequest

STEP_SEEDS = {"answer": 0, "critique": 1_000_003, "revision": 2_000_006, "instructed": 3_000_009}
"""Offset added to an item's seed for each step of answer → critique → revision.

With one seed for all three, a model that barely reads its context (a tiny or weak model) draws
the same random stream for the answer and for the revision and writes the same text. The offsets
are large so that item ``j``'s steps never reuse item ``j + 1``'s seeds (self-refinement seeds
item ``j`` with ``seed + j``). Seeds are part of each request, hence of its cache key: a warm
re-run still answers every step from the cache."""
ATTEMPT_SEED = 10_007
"""Added to a step's seed per retry (attempt ``a`` uses ``+ a × ATTEMPT_SEED``)."""
CRITIQUE_TOKENS = 48
"""Most tokens of a critique (one short point); answers and revisions get ``max_tokens``."""


def step_seed(seed: int, step: str, attempt: int = 0) -> int:
    """The seed of one step (``answer``, ``critique``, ``revision``, ``instructed``) of an item
    seeded ``seed``."""
    return int(seed) + STEP_SEEDS[step] + ATTEMPT_SEED * int(attempt)


@dataclass
class ChainItem:
    """One prompt on its way to a (chosen, rejected) pair."""

    key: str
    clause: str
    prompt: str
    seed: int
    language: str | None = "en"
    answer: str | None = None
    point: str | None = None
    critique: str | None = None
    revision: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    dropped: tuple[str, str, str] | None = None  # (step, reason, detail)
    failed: ProviderError | None = None

    @property
    def alive(self) -> bool:
        return self.dropped is None and self.failed is None


def finish_text(text: str, finish_reason: str) -> str:
    """Strip, cut a loop, and cut a text stopped by the token limit back to a full sentence."""
    t = G.cut_repetition(G.clean_text(text))
    return G.trim_unfinished(t) if finish_reason == "length" else t


def _run_step(
    provider: Provider,
    items: Sequence[ChainItem],
    step: str,
    build: Callable[[ChainItem], list[tuple[str, str]]],
    parse: Callable[[str, str], str],
    gate: Callable[[ChainItem, str], G.Rejection | None],
    store: Callable[[ChainItem, str], None],
    settings,
    log: GateLog,
    max_tokens: int,
    advance: Callable[[int], None],
) -> None:
    pending = [it for it in items if it.alive]
    last: dict[str, G.Rejection] = {}
    for attempt in range(max(1, settings.attempts)):
        if not pending:
            break
        reqs = [
            ChatRequest.of(
                build(it),
                max_tokens=max_tokens,
                temperature=0.0 if attempt == 0 else settings.temperature,
                seed=step_seed(it.seed, step, attempt),
            )
            for it in pending
        ]
        results = provider.complete_many(reqs)
        again = []
        for it, res in zip(pending, results, strict=True):
            if isinstance(res, ProviderError):
                it.failed = res
                advance(1)
                continue
            text = parse(res.text, res.finish_reason)
            rejection = gate(it, text)
            if log.check(step, it.key, attempt, text, rejection):
                store(it, text)
                it.attempts[step] = attempt + 1
                advance(1)
            else:
                last[it.key] = rejection
                again.append(it)
        pending = again
    for it in pending:
        r = last[it.key]
        it.dropped = (step, r.reason, r.detail)
        advance(1)


def _answer_step(provider: Provider, items: Sequence[ChainItem], settings, log: GateLog,
                 advance: Callable[[int], None]) -> None:
    """The first step of every chain: the model's plain answer to each item's prompt."""

    def set_answer(it: ChainItem, text: str) -> None:
        it.answer = text

    _run_step(
        provider,
        items,
        "answer",
        lambda it: [("system", P.SHORT_ANSWER_SYSTEM), ("user", it.prompt)],
        finish_text,
        lambda it, t: G.answer_gate(t, it.prompt, language=it.language),
        set_answer,
        settings,
        log,
        settings.max_tokens,
        advance,
    )


def run_chain(
    provider: Provider,
    items: Sequence[ChainItem],
    settings,
    log: GateLog,
    advance: Callable[[int], None] = lambda n=1: None,
) -> None:
    """Fill ``answer``, ``critique`` and ``revision`` of every item (or drop/fail it)."""

    def set_point(it: ChainItem, text: str) -> None:
        it.point = text.rstrip(".")
        it.critique = P.critique_text(it.point)

    def set_revision(it: ChainItem, text: str) -> None:
        it.revision = text

    critique_examples = P.critique_examples()
    _answer_step(provider, items, settings, log, advance)
    _run_step(
        provider,
        items,
        "critique",
        lambda it: P.critique_messages(it.clause, it.prompt, it.answer or ""),
        lambda text, reason: finish_text(P.after_label(text, "Missing"), reason),
        lambda it, t: G.critique_gate(
            t,
            it.answer or "",
            language=it.language,
            examples=critique_examples,
            min_words=3,
            prompt=it.prompt,
        ),
        set_point,
        settings,
        log,
        min(settings.max_tokens, CRITIQUE_TOKENS),
        advance,
    )
    _run_step(
        provider,
        items,
        "revision",
        lambda it: P.revision_messages(it.clause, it.prompt, it.point or ""),
        finish_text,
        lambda it, t: G.revision_gate(
            t, it.answer or "", it.point or "", it.prompt, clause=it.clause, language=it.language
        ),
        set_revision,
        settings,
        log,
        settings.max_tokens,
        advance,
    )


def run_instructed(
    provider: Provider,
    items: Sequence[ChainItem],
    settings,
    log: GateLog,
    advance: Callable[[int], None] = lambda n=1: None,
) -> None:
    """Fill ``answer`` (the plain answer) and ``revision`` (the answer written with the clause
    put before the user's message, as an explicit instruction) of every item: the first stage of
    a curriculum, without critique (context distillation, Askell et al. 2021, arXiv:2112.00861;
    Bai et al. 2022 add critique and revision). The instructed answer passes the revision gate
    with the clause as the point it must take up."""

    def set_instructed(it: ChainItem, text: str) -> None:
        it.revision = text

    _answer_step(provider, items, settings, log, advance)
    _run_step(
        provider,
        items,
        "instructed",
        lambda it: P.instructed_messages(it.clause, it.prompt),
        finish_text,
        lambda it, t: G.revision_gate(
            t, it.answer or "", it.clause, it.prompt, clause=it.clause, language=it.language
        ),
        set_instructed,
        settings,
        log,
        settings.max_tokens,
        advance,
    )
