"""The interview of the workbench, turn by turn, stored in the database.

Each turn is :func:`pluralign.constitution.interview.answer_request` (the earlier turns are
the context) and then :func:`pluralign.constitution.interview.draft_request` (the answer drafted
into one clause, through the clause gate) — the same requests as the terminal
``pluralign interview``, one turn at a time. A turn runs as a background job
(:func:`pluralign.workbench.tasks.interview`, kind ``interview``); it is stored (:func:`add_turn`)
in the same transaction that marks the job done, only when both answers arrived, so a model that
is down stores nothing and the organiser's message stays in the job's settings and the form.
Saving writes the accepted and edited clauses as a ``pluralign-constitution/1`` file with the
transcript, each clause naming its turn
(:func:`pluralign.constitution.interview.interview_constitution`).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError
from pluralign.workbench.models import (
    ACCEPT,
    DECISIONS,
    EDIT,
    PENDING,
    REJECT,
    WorkbenchConstitution,
    WorkbenchTurn,
)

MAX_MESSAGE = 2000
ANSWER_TOKENS = 160


def turns(s: Session, assembly_id: int) -> list[WorkbenchTurn]:
    return list(
        s.scalars(
            select(WorkbenchTurn)
            .where(WorkbenchTurn.assembly_id == assembly_id)
            .order_by(WorkbenchTurn.number)
        )
    )


def check_message(text: str) -> str:
    """The organiser's message, stripped, or an :class:`InputError` naming the field."""
    text = (text or "").strip()
    if not text:
        raise InputError(N_("write a message to the model first"), where="message")
    if len(text) > MAX_MESSAGE:
        raise InputError(
            N_("the message is longer than %(n)s characters", n=MAX_MESSAGE), where="message"
        )
    return text


def ask(provider, history: list[tuple[str, str]], message: str, seed: int = 0, on_step=None):
    """The model's answer to ``message`` after ``history`` and the candidate clause drafted
    from it (:class:`pluralign.constitution.interview.Candidate`). Raises the provider's error.
    ``on_step`` is called with ``"answer"`` and then ``"draft"`` before each request."""
    from pluralign.constitution.interview import answer_request, candidate_of, draft_request

    step = on_step or (lambda name: None)
    step("answer")
    answer = provider.complete(answer_request(history, message, ANSWER_TOKENS, seed)).text.strip()
    step("draft")
    reply = provider.complete(draft_request(message, answer, ANSWER_TOKENS, seed)).text
    return candidate_of(len(history) + 1, message, answer, reply)


def add_turn(s: Session, assembly_id: int, candidate, model: str) -> WorkbenchTurn:
    number = (
        s.scalar(
            select(func.max(WorkbenchTurn.number)).where(WorkbenchTurn.assembly_id == assembly_id)
        )
        or 0
    ) + 1
    turn = WorkbenchTurn(
        assembly_id=assembly_id,
        number=number,
        question=candidate.question,
        answer=candidate.answer,
        model=model,
        draft=candidate.draft,
        rejected_draft=candidate.rejected,
        gate=candidate.gate,
        decision=PENDING,
    )
    s.add(turn)
    s.flush()
    return turn


def decide(s: Session, assembly_id: int, turn_id: str, decision: str, text: str = "") -> None:
    """Accept, edit (with ``text``) or reject the clause proposed by a turn."""
    try:
        tid = int(turn_id)
    except (TypeError, ValueError):
        raise InputError(N_("the proposal's id is missing"), where="turn") from None
    turn = s.get(WorkbenchTurn, tid)
    if turn is None or turn.assembly_id != assembly_id:
        raise InputError(N_("no such proposal"), where="turn", hint=N_("reload the page"))
    if decision not in DECISIONS:
        raise InputError(N_("choose accept, edit or reject"), where="decision")
    text = (text or "").strip()
    if decision == EDIT:  # the organiser's own wording: no gate, only a length limit
        if not text:
            raise InputError(N_("write the edited clause"), where="text")
        if len(text) > MAX_MESSAGE:
            raise InputError(
                N_("the clause is longer than %(n)s characters", n=MAX_MESSAGE), where="text"
            )
    elif decision == ACCEPT and not turn.draft:
        raise InputError(N_("this turn proposed no clause: edit it to write one"), where="decision")
    turn.decision = decision
    turn.text = text if decision == EDIT else None


def clause_text(turn: WorkbenchTurn) -> str | None:
    if turn.decision == ACCEPT:
        return turn.draft
    if turn.decision == EDIT:
        return turn.text
    return None


def save_constitution(s: Session, assembly, model: str, title: str = "") -> WorkbenchConstitution:
    """Save the accepted and edited clauses as a constitution (with the transcript and each
    clause's turn); :class:`InputError` when none is accepted yet."""
    from pluralign.constitution.document import Constitution
    from pluralign.constitution.interview import (
        Candidate,
        Decision,
        interview_constitution,
        transcript_of,
    )

    rows = turns(s, assembly.id)
    candidates = [
        Candidate(t.number, t.question, t.answer, t.draft, t.rejected_draft, t.gate) for t in rows
    ]
    reviewed = [
        (c, Decision(t.decision, t.text if t.decision == EDIT else None))
        for c, t in zip(candidates, rows, strict=True)
        if t.decision in (ACCEPT, EDIT, REJECT)
    ]
    if not any(d.action != REJECT for _, d in reviewed):
        raise InputError(
            N_("accept or edit at least one proposed clause before saving"), where="decision"
        )
    transcript = transcript_of([(t.question, t.answer) for t in rows])
    clauses, provenance, _ = interview_constitution(model, transcript, candidates, reviewed, 0)
    title = (title or "").strip()[:300] or f"{assembly.topic} (model interview)"
    saved = WorkbenchConstitution(
        assembly_id=assembly.id,
        title=title,
        yaml=Constitution(title, tuple(clauses), provenance).to_yaml(),
        clauses=len(clauses),
    )
    s.add(saved)
    s.flush()
    return saved


def latest_constitution(s: Session, assembly_id: int) -> WorkbenchConstitution | None:
    return s.scalar(
        select(WorkbenchConstitution)
        .where(WorkbenchConstitution.assembly_id == assembly_id)
        .order_by(WorkbenchConstitution.id.desc())
        .limit(1)
    )
