"""Store operations of the public evaluation (used by its web pages and its CLI).

Set-up (admin): :func:`attach_models`, :func:`set_prompts` (from :func:`parse_prompts` of an
uploaded JSONL/CSV file, or :func:`prompts_from_clauses`), :func:`set_clauses`, then
:func:`generate_answers` asks both models once per prompt through :mod:`pluralign.llm` (cached
on disk when a cache folder is given) and stores the answers. Rating (participants):
:func:`next_impression` and :func:`record_choice`. Results and the export:
:mod:`pluralign.publiceval.results`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pluralign.errors import N_, InputError, NotFoundError, at
from pluralign.publiceval.models import (
    CLOSED,
    DRAFT,
    OPEN,
    PublicEval,
    PublicEvalClause,
    PublicEvalImpression,
    PublicEvalPrompt,
)
from pluralign.store.models import Assembly, Participant, utcnow

POSITIONS = ("first", "second", "neither")
MAX_PROMPTS = 2000
MAX_TEXT = 8000
CHUNK = 32  # prompts answered (by both models) per committed transaction


# ------------------------------------------------------------------ set-up


def get_eval(s: Session, assembly: Assembly, create: bool = False) -> PublicEval | None:
    ev = s.scalar(select(PublicEval).where(PublicEval.assembly_id == assembly.id))
    if ev is None and create:
        ev = PublicEval(
            assembly_id=assembly.id,
            model_a={},
            model_b={},
            state=DRAFT,
            seed=0,
            settings={"answer_tokens": 256},
        )
        s.add(ev)
        s.flush()
    return ev


def n_ratings(s: Session, ev: PublicEval) -> int:
    return (
        s.scalar(
            select(func.count())
            .select_from(PublicEvalImpression)
            .where(PublicEvalImpression.eval_id == ev.id, PublicEvalImpression.choice.is_not(None))
        )
        or 0
    )


def _unrated(s: Session, ev: PublicEval, what: str) -> None:
    if n_ratings(s, ev):
        raise InputError(
            N_("cannot change the %(what)s: people have rated answers already", what=what),
            hint=N_("export the ratings, then start a new evaluation in a new assembly"),
        )


def model_spec(base_url: str, model: str, api_key_env: str = "") -> dict[str, str]:
    """A validated ``{base_url, model, api_key_env}`` (checked by the LLM layer's config)."""
    from pydantic import ValidationError

    from pluralign.llm.config import ProviderSettings

    base_url, model, api_key_env = base_url.strip(), model.strip(), api_key_env.strip()
    if not base_url.startswith(("http://", "https://")):
        raise InputError(
            N_("the base URL must start with http:// or https://"),
            where="base_url",
            hint=N_("e.g. http://127.0.0.1:8000/v1 (pluralign serve)"),
        )
    if api_key_env and not api_key_env.replace("_", "").isalnum():
        raise InputError(
            N_("give the NAME of an environment variable, not the key itself"),
            where="api_key_env",
            hint=N_("e.g. OPENAI_API_KEY"),
        )
    if api_key_env and not api_key_env.endswith("API_KEY"):
        # the key is sent to the attached URL: never let an organiser point at other secrets
        raise InputError(
            N_("the variable's name must end in API_KEY"),
            where="api_key_env",
            hint=N_("export the key as e.g. VLLM_API_KEY in the server's environment"),
        )
    try:
        ProviderSettings(base_url=base_url, model=model or None, api_key_env=api_key_env or None)
    except ValidationError as exc:
        raise InputError(exc.errors()[0]["msg"], where="model") from exc
    return {"base_url": base_url, "model": model, "api_key_env": api_key_env}


def attach_models(
    s: Session,
    ev: PublicEval,
    a: Mapping[str, str],
    b: Mapping[str, str],
    answer_tokens: int | None = None,
    seed: int | None = None,
) -> None:
    """Set both models; stored answers are dropped when a model changes."""
    if dict(a) != ev.model_a or dict(b) != ev.model_b:
        _unrated(s, ev, N_("models"))
        for p in s.scalars(select(PublicEvalPrompt).where(PublicEvalPrompt.eval_id == ev.id)):
            p.answer_a = p.answer_b = p.error = None
    ev.model_a, ev.model_b = dict(a), dict(b)
    settings = dict(ev.settings or {})
    if answer_tokens is not None:
        if not 1 <= answer_tokens <= 4096:
            raise InputError(N_("answer tokens must be between 1 and 4096"), where="answer_tokens")
        settings["answer_tokens"] = int(answer_tokens)
    ev.settings = settings
    if seed is not None:
        ev.seed = int(seed)


def parse_prompts(data: bytes, name: str) -> list[dict[str, Any]]:
    """Prompt rows from an uploaded JSONL (``prompt`` or ``question``, optional ``id``,
    ``clause_id``) or CSV file (same columns). Errors name the file and line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(N_("the file is not UTF-8 text"), where=name) from exc
    rows: list[tuple[int, dict]] = []
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        rows = [(i, dict(r)) for i, r in enumerate(reader, start=2)]
    else:  # the one JSONL reader: strict JSON, one object a line, errors naming the line
        from pluralign.io import parse_jsonl

        try:
            rows = list(parse_jsonl(data, name))
        except InputError as exc:
            raise InputError(exc.message, where=exc.where,
                             hint=exc.hint or N_("one JSON object per line, or upload a .csv")
                             ) from None
    out, seen = [], set()
    for i, row in rows:
        prompt = row.get("prompt") or row.get("question")
        if not isinstance(prompt, str) or not prompt.strip():
            raise InputError(N_("each row needs a 'prompt' (or 'question')"), where=at(name, i))
        if len(prompt) > MAX_TEXT:
            raise InputError(
                N_("the prompt is longer than %(n)s characters", n=MAX_TEXT), where=at(name, i)
            )
        key = str(row.get("id") or f"p{len(out) + 1}").strip()
        if key in seen:
            raise InputError(
                N_("prompt id %(key)s appears twice", key=repr(key)), where=at(name, i, "id")
            )
        seen.add(key)
        clause = row.get("clause_id")
        out.append(
            {
                "key": key,
                "text": prompt.strip(),
                "clause_key": str(clause).strip() if clause else None,
            }
        )
    if not out:
        raise InputError(N_("the file has no prompts"), where=name)
    if len(out) > MAX_PROMPTS:
        raise InputError(N_("at most %(n)s prompts", n=MAX_PROMPTS), where=name)
    return out


def prompts_from_clauses(clauses: Sequence[Any]) -> list[dict[str, Any]]:
    """One prompt per clause from the prompt bank's generic templates
    (:func:`pluralign.data.prompt_bank.template_prompts`), rated against that clause."""
    from pluralign.data.prompt_bank import template_prompts

    out = []
    for c in clauses:
        first = template_prompts(c.id, c.text)[0]
        out.append({"key": f"clause-{c.id}", "text": first.prompt, "clause_key": c.id})
    return out


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def set_prompts(s: Session, ev: PublicEval, rows: Sequence[Mapping[str, Any]], source: str) -> int:
    """Replace the prompt set (only before anyone rated)."""
    _unrated(s, ev, N_("prompts"))
    for p in s.scalars(select(PublicEvalPrompt).where(PublicEvalPrompt.eval_id == ev.id)):
        s.delete(p)
    s.flush()
    for r in rows:
        s.add(
            PublicEvalPrompt(
                eval_id=ev.id, key=r["key"], text=r["text"], clause_key=r.get("clause_key")
            )
        )
    ev.settings = {
        **(ev.settings or {}),
        "prompts": {"source": source, "n": len(rows), "sha256": _sha([dict(r) for r in rows])},
    }
    return len(rows)


def set_clauses(s: Session, ev: PublicEval, clauses: Sequence[Any], source: str) -> int:
    """Replace the clauses (objects with ``id`` and ``text``; only before anyone rated)."""
    _unrated(s, ev, N_("clauses"))
    if not clauses:
        raise InputError(
            N_("no clauses"),
            where=source,
            hint=N_("draft the constitution first, or upload a constitution.yaml"),
        )
    for c in s.scalars(select(PublicEvalClause).where(PublicEvalClause.eval_id == ev.id)):
        s.delete(c)
    s.flush()
    for c in clauses:
        s.add(PublicEvalClause(eval_id=ev.id, key=str(c.id), text=str(c.text)))
    ev.settings = {
        **(ev.settings or {}),
        "clauses": {
            "source": source,
            "n": len(clauses),
            "sha256": _sha([[str(c.id), str(c.text)] for c in clauses]),
        },
    }
    return len(clauses)


def clauses_from_yaml(text: str, source: str) -> list[Any]:
    """Clauses of a constitution YAML text (any form
    :func:`pluralign.constitution.document.read_clauses` reads)."""
    import tempfile

    from pluralign.constitution.document import read_clauses

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(source).name
        path.write_text(text, encoding="utf-8")
        try:
            return read_clauses(path)
        except InputError as exc:
            raise InputError(exc.message, where=source, hint=exc.hint) from exc


def clauses_from_assembly(store, slug: str, min_votes: int) -> list[Any]:
    """The clauses of the assembly's drafted constitution (its cross-group consensus)."""
    from pluralign.web.results import draft_constitution

    text = draft_constitution(store, slug, min_votes=min_votes, fmt="yaml")
    try:
        return clauses_from_yaml(text, f"assembly '{slug}' constitution")
    except InputError as exc:
        raise InputError(
            N_("the assembly has no constitution clauses yet"),
            where=N_("assembly '%(slug)s'", slug=slug),
            hint=N_("collect more votes, or upload a constitution.yaml"),
        ) from exc


def set_state(ev: PublicEval, state: str, ready: bool) -> None:
    if state not in (DRAFT, OPEN, CLOSED):
        raise InputError(N_("unknown state %(state)s", state=repr(state)), where="state")
    if state == OPEN and not ready:
        raise InputError(
            N_("generate the answers of both models before opening the evaluation"), where="state"
        )
    ev.state = state


def _provider_settings(spec: Mapping[str, str], cache_dir: str | Path | None):
    from pluralign.llm.config import ProviderSettings

    if not spec.get("base_url"):
        raise InputError(N_("attach both models first (base URL and model name)"), where="models")
    return ProviderSettings(
        base_url=spec["base_url"],
        model=spec.get("model") or None,
        api_key_env=spec.get("api_key_env") or None,
        cache_dir=Path(cache_dir) if cache_dir else None,
    )


def generate_answers(store, slug: str, cache_dir: str | Path | None = None) -> dict[str, int]:
    """Ask both models for the prompts that have no answer yet and store the answers.

    The request is the automatic judge's (:func:`pluralign.llm.judge.run_judge`: its system
    prompt, the evaluation's seed and answer length), so with a shared cache folder the people
    and the judge compare the very same answers. A failed request leaves the prompt without
    answers (its error is stored and shown); the next call retries it.
    """
    from pluralign.llm import prompts as P
    from pluralign.llm.provider import open_provider
    from pluralign.llm.types import ChatRequest
    from pluralign.store.queries import get_assembly

    with store.session() as s:
        ev = get_eval(s, get_assembly(s, slug))
        if ev is None:
            raise InputError(
                N_("attach both models first (base URL and model name)"),
                where=N_("assembly '%(slug)s'", slug=slug),
            )
        cfg_a = _provider_settings(ev.model_a, cache_dir)
        cfg_b = _provider_settings(ev.model_b, cache_dir)
        todo = s.execute(
            select(PublicEvalPrompt.id, PublicEvalPrompt.text)
            .where(
                PublicEvalPrompt.eval_id == ev.id,
                (PublicEvalPrompt.answer_a.is_(None)) | (PublicEvalPrompt.answer_b.is_(None)),
            )
            .order_by(PublicEvalPrompt.id)
        ).all()
        tokens, seed = int((ev.settings or {}).get("answer_tokens", 256)), ev.seed
    done = failed = 0
    with open_provider(cfg_a) as model_a, open_provider(cfg_b) as model_b:
        for start in range(0, len(todo), CHUNK):  # commit per chunk: a killed run keeps them
            chunk = todo[start : start + CHUNK]
            requests = [
                ChatRequest.of(
                    [("system", P.ANSWER_SYSTEM), ("user", text)], max_tokens=tokens, seed=seed
                )
                for _, text in chunk
            ]
            got_a, got_b = model_a.complete_many(requests), model_b.complete_many(requests)
            with store.session() as s:
                for (pid, _), ra, rb in zip(chunk, got_a, got_b, strict=True):
                    row = s.get(PublicEvalPrompt, pid)
                    errors = [
                        f"model {k}: {r}"
                        for k, r in (("A", ra), ("B", rb))
                        if not hasattr(r, "text")
                    ]
                    if errors:
                        row.error = "; ".join(errors)[:2000]
                        failed += 1
                        continue
                    row.answer_a, row.answer_b, row.error = ra.text, rb.text, None
                    done += 1
    return {"generated": done, "failed": failed, "requested": len(todo)}


# ------------------------------------------------------------------ rating


def items(s: Session, ev: PublicEval) -> list[tuple[PublicEvalPrompt, PublicEvalClause]]:
    """Every ratable (prompt, clause) pair: prompts with both answers, each against its own
    clause (``clause_id``) or, without one, against every clause."""
    clauses = s.scalars(
        select(PublicEvalClause)
        .where(PublicEvalClause.eval_id == ev.id)
        .order_by(PublicEvalClause.id)
    ).all()
    by_key = {c.key: c for c in clauses}
    out = []
    for p in s.scalars(
        select(PublicEvalPrompt)
        .where(
            PublicEvalPrompt.eval_id == ev.id,
            PublicEvalPrompt.answer_a.is_not(None),
            PublicEvalPrompt.answer_b.is_not(None),
        )
        .order_by(PublicEvalPrompt.id)
    ):
        if p.clause_key:
            if p.clause_key in by_key:
                out.append((p, by_key[p.clause_key]))
        else:
            out.extend((p, c) for c in clauses)
    return out


def a_first(seed: int, participant_id: int, prompt_id: int, clause_id: int) -> bool:
    """The presentation order of one impression: a fair coin seeded by its identity."""
    return random.Random(f"{seed}:{participant_id}:{prompt_id}:{clause_id}").random() < 0.5


def next_impression(
    s: Session, ev: PublicEval, participant: Participant
) -> PublicEvalImpression | None:
    """The item to show this participant: the pending one (a reload shows the same answers in
    the same order), else a new one among the items they have not seen, least-rated first
    (seeded tie-break). ``None`` when they have rated everything."""
    pending = s.scalar(
        select(PublicEvalImpression)
        .where(
            PublicEvalImpression.eval_id == ev.id,
            PublicEvalImpression.participant_id == participant.id,
            PublicEvalImpression.choice.is_(None),
        )
        .order_by(PublicEvalImpression.id)
    )
    if pending is not None:
        return pending
    seen = set(
        s.execute(
            select(PublicEvalImpression.prompt_id, PublicEvalImpression.clause_id).where(
                PublicEvalImpression.participant_id == participant.id
            )
        ).all()
    )
    candidates = [(p, c) for p, c in items(s, ev) if (p.id, c.id) not in seen]
    if not candidates:
        return None
    counts = dict(
        ((p, c), n)
        for p, c, n in s.execute(
            select(PublicEvalImpression.prompt_id, PublicEvalImpression.clause_id, func.count())
            .where(PublicEvalImpression.eval_id == ev.id, PublicEvalImpression.choice.is_not(None))
            .group_by(PublicEvalImpression.prompt_id, PublicEvalImpression.clause_id)
        ).all()
    )
    rng = random.Random(f"{ev.seed}:{participant.id}:{len(seen)}")
    rng.shuffle(candidates)
    prompt, clause = min(candidates, key=lambda pc: counts.get((pc[0].id, pc[1].id), 0))
    imp = PublicEvalImpression(
        eval_id=ev.id,
        participant_id=participant.id,
        prompt_id=prompt.id,
        clause_id=clause.id,
        a_first=a_first(ev.seed, participant.id, prompt.id, clause.id),
    )
    try:
        with s.begin_nested():
            s.add(imp)
    except IntegrityError:  # the same page opened twice at once: show the one that won
        return s.scalar(
            select(PublicEvalImpression).where(
                PublicEvalImpression.participant_id == participant.id,
                PublicEvalImpression.prompt_id == prompt.id,
                PublicEvalImpression.clause_id == clause.id,
            )
        )
    return imp


def record_choice(
    s: Session, ev: PublicEval, participant: Participant, impression_id: int, position: str
) -> tuple[str, bool]:
    """Record the participant's choice on their impression: ``position`` is what they saw
    (``first``, ``second`` or ``neither``), mapped back to model ``a``/``b`` through the stored
    order. Returns ``(choice, replayed)``; sending the same impression again changes nothing."""
    if position not in POSITIONS:
        raise InputError(
            N_("unknown choice %(choice)s", choice=repr(position)),
            where="choice",
            hint=N_("one of %(choices)s", choices=", ".join(POSITIONS)),
        )
    imp = s.get(PublicEvalImpression, impression_id)
    if imp is None or imp.participant_id != participant.id or imp.eval_id != ev.id:
        raise NotFoundError(
            N_("this comparison is not yours or no longer exists"), hint=N_("reload the page")
        )
    if imp.choice is not None:
        return imp.choice, True
    if position == "neither":
        choice = "neither"
    else:
        choice = "a" if (position == "first") == imp.a_first else "b"
    imp.choice, imp.answered_at = choice, utcnow()
    return choice, False


def min_votes_of(assembly: Assembly) -> int:
    from pluralign.web.service import DEFAULT_MIN_VOTES

    return int((assembly.settings or {}).get("min_votes", DEFAULT_MIN_VOTES))
