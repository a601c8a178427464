"""Import the PRISM alignment dataset (Kirk et al. 2024) as preference pairs.

PRISM (https://huggingface.co/datasets/HannahRoseKirk/prism-alignment, CC BY 4.0 for human text,
CC BY-NC 4.0 for model responses) publishes two primary JSON Lines files, read here:

``survey.jsonl`` (one participant per line)
    ``user_id`` and demographics: ``age``, ``gender``, ``education``, ``employment_status``,
    ``marital_status``, ``english_proficiency``, ``study_locale`` (plain strings), and nested
    objects ``ethnicity``, ``religion`` (``{"simplified": ..., ...}``) and ``location``
    (``{"reside_country": ..., "reside_region": ..., ...}``).
``conversations.jsonl`` (one conversation per line)
    ``conversation_id``, ``user_id``, ``conversation_type``, ``opening_prompt`` and
    ``conversation_history``: a list of turns' messages, each with ``turn`` (0-based),
    ``role`` (``user`` or ``model``), ``content``, and for model messages ``score`` (1–100 rating),
    ``if_chosen``, ``within_turn_id``, ``model_name``.

For each turn, the user's message is the prompt; the model responses are ranked by their score.
Pairs (``pairs="best-vs-rest"``, default): the highest-scored response against every response
scored strictly lower; ``"best-vs-worst"``: against the lowest only; ``"all"``: every pair with
different scores. Ties give no pair. A later turn's prompt includes the conversation so far
(the user's messages and the chosen model responses) as ``User:``/``Assistant:`` lines when
``history=True``. The pair's ``group`` is the participant's value of ``group_by`` (default
``gender``) and all demographics go to ``provenance.demographics``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError, at
from pluralign.io import finite_number, iter_jsonl

PAIR_MODES = ("best-vs-rest", "best-vs-worst", "all")
SCALAR_FIELDS = (
    "age",
    "gender",
    "education",
    "employment_status",
    "marital_status",
    "english_proficiency",
    "study_locale",
)
NESTED_FIELDS = {
    "ethnicity": ("simplified",),
    "religion": ("simplified",),
    "location": ("reside_country", "reside_region", "special_region"),
}


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError(
            "PRISM file not found",
            where=str(path),
            hint="the folder needs survey.jsonl and conversations.jsonl",
        )
    yield from iter_jsonl(path)


def survey_demographics(row: dict[str, Any]) -> dict[str, str]:
    """Flatten one survey row's demographics to ``{feature: value}`` (missing ones left out)."""
    out: dict[str, str] = {}
    for key in SCALAR_FIELDS:
        value = row.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            out[key] = str(value)
    for key, subkeys in NESTED_FIELDS.items():
        value = row.get(key)
        if isinstance(value, dict):
            for sub in subkeys:
                v = value.get(sub)
                if isinstance(v, str) and v.strip():
                    name = key if sub == "simplified" else sub
                    out[name] = v
        elif isinstance(value, str) and value.strip():
            out[key] = value
    return out


def read_survey(path: str | Path) -> dict[str, dict[str, str]]:
    """user_id → demographics."""
    path = Path(path)
    out: dict[str, dict[str, str]] = {}
    line_of: dict[str, int] = {}
    for number, row in _jsonl(path):
        uid = row.get("user_id")
        if not isinstance(uid, str) or not uid:
            raise InputError("missing 'user_id'", where=at(path, number, "user_id"))
        if uid in line_of:
            raise InputError(
                f"user '{uid}' is already listed on line {line_of[uid]}",
                where=at(path, number, "user_id"),
                hint="each participant has one survey row",
            )
        line_of[uid] = number
        out[uid] = survey_demographics(row)
    return out


def _turn_pairs(scored: list[tuple[float, str, dict]], mode: str) -> list[tuple[dict, dict]]:
    ranked = sorted(scored, key=lambda t: -t[0])
    if len(ranked) < 2:
        return []
    if mode == "all":
        return [(a[2], b[2]) for i, a in enumerate(ranked) for b in ranked[i + 1 :] if a[0] > b[0]]
    best = ranked[0]
    if mode == "best-vs-worst":
        worst = ranked[-1]
        return [(best[2], worst[2])] if best[0] > worst[0] else []
    return [(best[2], r[2]) for r in ranked[1:] if best[0] > r[0]]


def import_prism(
    folder: str | Path,
    *,
    group_by: str = "gender",
    pairs: str = "best-vs-rest",
    history: bool = True,
    max_turn: int | None = None,
) -> list[PreferencePair]:
    """Preference pairs from a PRISM folder (``survey.jsonl`` + ``conversations.jsonl``)."""
    if pairs not in PAIR_MODES:
        raise InputError(f"unknown pair mode '{pairs}'", hint=f"use one of {', '.join(PAIR_MODES)}")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("PRISM folder not found", where=str(folder))
    survey = read_survey(folder / "survey.jsonl")
    conv_path = folder / "conversations.jsonl"
    out: list[PreferencePair] = []
    for number, conv in _jsonl(conv_path):
        where = at(conv_path, number)
        uid, cid = conv.get("user_id"), conv.get("conversation_id")
        if not isinstance(uid, str) or not isinstance(cid, str):
            raise InputError(
                "conversation needs string 'user_id' and 'conversation_id'", where=where
            )
        if uid not in survey:
            raise InputError(
                f"user '{uid}' is not in survey.jsonl", where=at(conv_path, number, "user_id")
            )
        messages = conv.get("conversation_history")
        if not isinstance(messages, list):
            raise InputError(
                "'conversation_history' must be a list",
                where=at(conv_path, number, "conversation_history"),
            )
        turns: dict[int, dict[str, Any]] = {}
        for m in messages:
            if (
                not isinstance(m, dict)
                or m.get("role") not in ("user", "model")
                or not isinstance(m.get("turn"), int)
                or not isinstance(m.get("content"), str)
            ):
                raise InputError(
                    "each message needs 'turn' (int), 'role' (user/model) and 'content'",
                    where=at(conv_path, number, "conversation_history"),
                )
            t = turns.setdefault(m["turn"], {"user": None, "models": []})
            if m["role"] == "user":
                t["user"] = m["content"]
            else:
                score = finite_number(
                    m.get("score"),
                    at(conv_path, number, "conversation_history"),
                    name=f"the model message's 'score' (turn {m['turn']})",
                )
                t["models"].append((float(score), m["content"], m))
        demographics = survey[uid]
        group = demographics.get(group_by, "")
        context: list[str] = []
        for turn in sorted(turns):
            if max_turn is not None and turn > max_turn:
                break
            t = turns[turn]
            if t["user"] is None:
                continue
            prompt = t["user"]
            if history and context:
                prompt = "\n".join([*context, f"User: {t['user']}"])
            for chosen, rejected in _turn_pairs(t["models"], pairs):
                if (
                    chosen["content"] == rejected["content"]
                    or not chosen["content"].strip()
                    or not rejected["content"].strip()
                ):
                    continue
                out.append(
                    PreferencePair(
                        prompt,
                        chosen["content"],
                        rejected["content"],
                        1.0,
                        group,
                        "prism",
                        {
                            "participant": uid,
                            "conversation_id": cid,
                            "turn": turn,
                            "conversation_type": conv.get("conversation_type"),
                            "chosen_model": chosen.get("model_name"),
                            "rejected_model": rejected.get("model_name"),
                            "chosen_score": chosen.get("score"),
                            "rejected_score": rejected.get("score"),
                            "demographics": demographics,
                        },
                    )
                )
            picked = next((m for _, _, m in t["models"] if m.get("if_chosen")), None)
            if picked is None and t["models"]:
                picked = max(t["models"], key=lambda x: x[0])[2]
            context.append(f"User: {t['user']}")
            if picked is not None:
                context.append(f"Assistant: {picked['content']}")
    return out
