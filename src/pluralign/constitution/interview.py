"""Model interview: ask a model how it should behave, draft its answers into candidate clauses,
let a person accept, edit or reject each, and write a constitution with the transcript as
provenance (after LuthiTune's co-created constitutions, Luthi et al. 2024, and Anthropic's
*Collective Constitutional AI*, 2024).

The interview is one multi-turn conversation: a system prompt, then each scripted question with
the model's answer kept in the context. Each answer is then drafted, in a separate request, into
one clause starting "The assistant should". Review decisions come from a terminal prompt or a
decisions file (YAML list: ``accept``, ``reject``, or ``{edit: "new text"}``), so a scripted
review is reproducible and testable.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pluralign import __version__
from pluralign.constitution.document import Clause, Constitution
from pluralign.errors import InputError, at
from pluralign.io import atomic_write_text
from pluralign.llm import prompts as P
from pluralign.llm.provider import Provider
from pluralign.llm.types import ChatRequest


@dataclass(frozen=True)
class Candidate:
    """A clause drafted from one interview answer."""

    turn: int
    question: str
    answer: str
    draft: str
    rejected: str = ""  #: a draft the clause gate refused (then ``draft`` is empty)
    gate: str | None = None  #: the gate's reason code for ``rejected``


@dataclass(frozen=True)
class Decision:
    action: str  # "accept" | "edit" | "reject"
    text: str | None = None


@dataclass(frozen=True)
class InterviewResult:
    path: str
    accepted: int
    edited: int
    rejected: int
    empty_drafts: int
    usage: dict


def answer_request(
    history: Sequence[tuple[str, str]], question: str, max_tokens: int = 256, seed: int = 0
) -> ChatRequest:
    """The request for the model's answer to ``question`` after the earlier turns ``history``
    (``(question, answer)`` pairs): the interview's system prompt, then every turn in order."""
    messages: list[tuple[str, str]] = [("system", P.INTERVIEW_SYSTEM)]
    for q, a in history:
        messages += [("user", q), ("assistant", a)]
    messages.append(("user", question))
    return ChatRequest.of(messages, max_tokens=max_tokens, temperature=0.0, seed=seed)


def draft_request(question: str, answer: str, max_tokens: int = 256, seed: int = 0) -> ChatRequest:
    """The separate request drafting one turn's answer into one clause."""
    return ChatRequest.of(
        P.draft_clause_messages(question, answer),
        max_tokens=min(max_tokens, 80),
        temperature=0.0,
        seed=seed,
    )


def candidate_of(turn: int, question: str, answer: str, reply: str) -> Candidate:
    """The candidate clause of a draft ``reply``, through the clause gate."""
    from pluralign.llm.gates import clause_draft, clause_gate

    draft = clause_draft(reply)
    rejection = clause_gate(draft) if draft else None
    if rejection is not None:
        return Candidate(turn, question, answer, "", rejected=draft, gate=rejection.reason)
    return Candidate(turn, question, answer, draft)


def interview(
    provider: Provider, questions: Sequence[str], max_tokens: int = 256, seed: int = 0
) -> tuple[list[dict], list[Candidate]]:
    """Run the interview; returns the transcript (list of ``{role, content}``) and candidates."""
    history: list[tuple[str, str]] = []
    for q in questions:
        answer = provider.complete(answer_request(history, q, max_tokens, seed)).text.strip()
        history.append((q, answer))
    drafts = provider.complete_many(draft_request(q, a, max_tokens, seed) for q, a in history)
    candidates = []
    for turn, ((q, a), res) in enumerate(zip(history, drafts, strict=True), 1):
        if isinstance(res, Exception):
            raise res
        candidates.append(candidate_of(turn, q, a, res.text))
    return transcript_of(history), candidates


def transcript_of(history: Sequence[tuple[str, str]]) -> list[dict]:
    """The transcript (``{role, content}`` messages, system prompt first) of the turns."""
    transcript = [{"role": "system", "content": P.INTERVIEW_SYSTEM}]
    for q, a in history:
        transcript += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return transcript


def read_decisions(path: Path) -> list[Decision]:
    """Decisions file: a YAML list of ``accept`` | ``reject`` | ``{edit: text}``."""
    from pluralign.io import read_yaml

    data = read_yaml(Path(path), what="decisions file")
    if not isinstance(data, list):
        raise InputError("expected a YAML list of decisions", where=str(path))
    out = []
    for i, item in enumerate(data, 1):
        if item in ("accept", "reject"):
            out.append(Decision(item))
        elif isinstance(item, dict) and isinstance(item.get("edit"), str) and item["edit"].strip():
            out.append(Decision("edit", item["edit"].strip()))
        else:
            raise InputError(
                f"decision {i} must be 'accept', 'reject' or {{edit: text}}",
                where=at(path, column=f"[{i}]"),
            )
    return out


def review(
    candidates: Sequence[Candidate], decide: Callable[[Candidate], Decision]
) -> list[tuple[Candidate, Decision]]:
    """Ask ``decide`` about every candidate with a non-empty draft, in order."""
    return [(c, decide(c)) for c in candidates if c.draft]


def terminal_decider(
    console, read: Callable[[str], str] = input
) -> Callable[[Candidate], Decision]:
    """Show a candidate and read ``a``/``e``/``r`` (and the edited text) from the terminal."""

    def decide(c: Candidate) -> Decision:
        console.rule(f"candidate {c.turn}")
        console.print(f"[bold]Q:[/] {c.question}", highlight=False)
        console.print(f"[bold]A:[/] {c.answer}", highlight=False)
        console.print(f"[bold]clause:[/] {c.draft}", highlight=False)
        while True:
            try:
                choice = read("[a]ccept / [e]dit / [r]eject? ").strip().lower()
            except EOFError as exc:
                raise InputError(
                    "input ended before every candidate was reviewed",
                    hint="answer a, e or r for each candidate, or use --decisions FILE",
                ) from exc
            if choice in ("a", "accept"):
                return Decision("accept")
            if choice in ("r", "reject"):
                return Decision("reject")
            if choice in ("e", "edit"):
                try:
                    text = read("new clause text: ").strip()
                except EOFError as exc:
                    raise InputError("input ended while editing a clause") from exc
                if text:
                    return Decision("edit", text)
            console.print("please answer a, e or r")

    return decide


def decisions_decider(
    decisions: Sequence[Decision], source: str
) -> Callable[[Candidate], Decision]:
    it = iter(decisions)

    def decide(c: Candidate) -> Decision:
        try:
            return next(it)
        except StopIteration:
            raise InputError(
                f"no decision for candidate {c.turn}: the file has {len(decisions)} decisions",
                where=source,
            ) from None

    return decide


def interview_constitution(
    model: str,
    transcript: list[dict],
    candidates: Sequence[Candidate],
    reviewed: Sequence[tuple[Candidate, Decision]],
    seed: int,
) -> tuple[list[Clause], dict, dict[str, int]]:
    """The accepted/edited clauses (ids ``i1``, ``i2`` ...; each names its turn, question,
    answer, draft and decision), the constitution's provenance (``model`` answered; the
    transcript) and the decision counts."""
    clauses = []
    counts = {"accept": 0, "edit": 0, "reject": 0}
    for c, d in reviewed:
        counts[d.action] += 1
        if d.action == "reject":
            continue
        clauses.append(
            Clause(
                id=f"i{len(clauses) + 1}",
                text=d.text if d.action == "edit" else c.draft,
                note={
                    "source": "interview",
                    "turn": c.turn,
                    "question": c.question,
                    "answer": c.answer,
                    "draft": c.draft,
                    "decision": d.action,
                },
            )
        )
    provenance = {
        "source": "model interview",
        "model": model,
        "prompt_version": P.PROMPT_VERSION,
        "code_version": __version__,
        "seed": seed,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "review": {
            "accepted": counts["accept"],
            "edited": counts["edit"],
            "rejected": counts["reject"],
            "empty_drafts": sum(1 for c in candidates if not c.draft),
            "rejected_drafts": [
                {"turn": c.turn, "draft": c.rejected, "reason": c.gate}
                for c in candidates
                if c.gate
            ],
        },
        "transcript": transcript,
    }
    return clauses, provenance, counts


def write_interview_constitution(
    path: Path,
    provider: Provider,
    transcript: list[dict],
    candidates: Sequence[Candidate],
    reviewed: Sequence[tuple[Candidate, Decision]],
    title: str,
    seed: int,
) -> InterviewResult:
    """Write accepted/edited clauses (ids ``i1``, ``i2`` ...) with the transcript: a
    ``constitution.yaml`` whose clauses have no votes behind them and carry their interview
    turn as their own provenance."""
    clauses, provenance, counts = interview_constitution(
        provider.model_name(), transcript, candidates, reviewed, seed
    )
    atomic_write_text(path, Constitution(title, tuple(clauses), provenance).to_yaml())
    return InterviewResult(
        str(path),
        counts["accept"],
        counts["edit"],
        counts["reject"],
        provenance["review"]["empty_drafts"],
        provider.usage.to_json(),
    )
