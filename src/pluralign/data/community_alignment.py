"""Import the Community Alignment dataset (Meta, 2025) as preference pairs with annotator groups.

Community Alignment (L. H. Zhang, S. Milli, K. Jusko et al., *Cultivating Pluralism In
Algorithmic Monoculture: The Community Alignment Dataset*, arXiv:2507.09650; data CC BY 4.0 at
huggingface.co/datasets/facebook/community-alignment-dataset) is a multilingual (English,
French, Italian, Hindi, Portuguese), multi-turn preference dataset in which many annotators
answered the same prompts: for every turn an annotator saw four candidate responses and picked
one. It is published as CSV (``full_community_alignment.csv``, ``filtered_community_alignment.csv``)
with one row per (annotator, conversation) and these columns, read here:

``conversation_id``, ``annotator_id``, ``assigned_lang``
    identifiers and the language the annotator was assigned;
``{first,second,third,fourth}_turn_prompt``
    the user message of each turn (empty when the conversation ended earlier);
``{turn}_turn_response_{a,b,c,d}``
    the candidate responses;
``{turn}_turn_preferred_response``
    the chosen candidate's letter (``a`` … ``d``, also written ``response_a`` …);
``{turn}_turn_feedback``
    the annotator's free-text explanation (often empty);
``annotator_age``, ``annotator_gender``, ``annotator_education_level``, ``annotator_political``,
``annotator_ethnicity``, ``annotator_country``
    demographics;
``is_pregenerated_first_prompt``, ``in_balanced_subset``, ``in_balanced_subset_10``
    flags (the dataset card advises filtering user-written first prompts with the first).

Other columns (``wave``, ``{turn}_turn_responses`` …) are ignored. The same columns as JSON Lines
(one object per line, e.g. a ``datasets`` export) are read too.

Pairs: for each turn the chosen response against every other non-empty candidate with a
different text ("best-vs-rest"); each pair has weight 1/(number of such pairs), so every
annotator choice counts once whatever the number of candidates. A later turn's prompt holds the
conversation so far (``User:``/``Assistant:`` lines with the chosen responses) when
``history=True``. A turn with a prompt but no recorded choice ends the conversation there (the
full split has conversations with missing turns). The pair's ``group`` is the annotator's value of
``group_by`` (default ``country``); all demographics and the language go to
``provenance.demographics``. Rows the importer cannot read are errors naming the file, line and
column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError, at
from pluralign.io import iter_jsonl

TURNS = ("first", "second", "third", "fourth")
LETTERS = ("a", "b", "c", "d")
DEMOGRAPHICS = ("age", "gender", "education_level", "political", "ethnicity", "country")
FEATURES = (*DEMOGRAPHICS, "language")
REQUIRED = ("conversation_id", "annotator_id", "first_turn_prompt")
LICENSE = "Community Alignment (Meta 2025): CC BY 4.0"
_CHOICE = re.compile(r"^\s*(?:response[ _]?|option[ _]?)?([a-d])\s*$", re.IGNORECASE)


def _text(value: Any) -> str:
    if value is None or isinstance(value, float) and value != value:  # NaN from pandas exports
        return ""
    return str(value).strip()


def _flag(value: Any, where: str) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = _text(value).lower()
    if text in ("", "nan", "none"):
        return None
    if text in ("true", "1", "yes", "t"):
        return True
    if text in ("false", "0", "no", "f"):
        return False
    raise InputError(f"expected true or false, got {value!r:.40}", where=where)


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` of a Community Alignment CSV (the line a record starts on) or JSONL."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "Community Alignment file not found",
            where=str(path),
            hint="give the dataset's CSV (e.g. filtered_community_alignment.csv)",
        )
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        yield from iter_jsonl(path)
        return
    csv.field_size_limit(64 * 1024 * 1024)  # long model responses
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(
                f"not a Community Alignment file: no column {', '.join(map(repr, missing))}",
                where=at(path, 1),
                hint="the header needs conversation_id, annotator_id, first_turn_prompt, "
                "first_turn_response_a … and first_turn_preferred_response",
            )
        start = reader.line_num + 1
        try:
            for row in reader:
                if None in row:
                    raise InputError("more fields than the header has", where=at(path, start))
                yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputError(f"malformed CSV ({exc})", where=at(path, start)) from None


def annotator_features(row: dict[str, Any]) -> dict[str, str]:
    """The annotator's demographics and language, ``{feature: value}`` (empty ones left out)."""
    out = {k: _text(row.get(f"annotator_{k}")) for k in DEMOGRAPHICS}
    out["language"] = _text(row.get("assigned_lang"))
    return {k: v for k, v in out.items() if v and v.lower() != "nan"}


def import_community_alignment(
    path: str | Path,
    *,
    group_by: str = "country",
    languages: Sequence[str] | None = None,
    pregenerated_only: bool = False,
    history: bool = True,
    max_turn: int | None = None,
) -> list[PreferencePair]:
    """Preference pairs from a Community Alignment CSV or JSONL file (module docstring).

    ``group_by``: the annotator feature that becomes each pair's ``group`` (one of
    :data:`FEATURES`); ``languages``: keep only these ``assigned_lang`` values;
    ``pregenerated_only``: drop conversations whose first prompt the annotator wrote;
    ``max_turn``: last turn to use (0 = the first turn only)."""
    if group_by not in FEATURES:
        raise InputError(
            f"unknown annotator feature '{group_by}'", hint=f"use one of {', '.join(FEATURES)}"
        )
    path = Path(path)
    wanted = None if languages is None else {lang.lower() for lang in languages}
    out: list[PreferencePair] = []
    for line, row in read_rows(path):
        if not isinstance(row, dict):
            raise InputError("expected one conversation object per line", where=at(path, line))
        out.extend(
            _conversation(path, line, row, group_by, wanted, pregenerated_only, history, max_turn)
        )
    return out


def _conversation(path, line, row, group_by, wanted, pregenerated_only, history, max_turn):
    for key in ("conversation_id", "annotator_id"):
        if not _text(row.get(key)):
            raise InputError(f"missing '{key}'", where=at(path, line, key))
    features = annotator_features(row)
    if wanted is not None and features.get("language", "").lower() not in wanted:
        return []
    pregenerated = _flag(
        row.get("is_pregenerated_first_prompt"), at(path, line, "is_pregenerated_first_prompt")
    )
    if pregenerated_only and not pregenerated:
        return []
    provenance_base = {
        "participant": _text(row["annotator_id"]),
        "conversation_id": _text(row["conversation_id"]),
        "language": features.get("language", ""),
        "pregenerated_first_prompt": pregenerated,
        "in_balanced_subset": _flag(
            row.get("in_balanced_subset"), at(path, line, "in_balanced_subset")
        ),
        "demographics": features,
    }
    pairs: list[PreferencePair] = []
    context: list[str] = []
    for number, turn in enumerate(TURNS):
        if max_turn is not None and number > max_turn:
            break
        prompt = _text(row.get(f"{turn}_turn_prompt"))
        if not prompt:
            break
        column = f"{turn}_turn_preferred_response"
        choice = _text(row.get(column))
        if not choice:
            break  # a missing turn: the rest of the conversation has no coherent history
        match = _CHOICE.match(choice)
        if match is None:
            raise InputError(
                f"preferred response {choice!r:.40} is not one of a, b, c, d",
                where=at(path, line, column),
            )
        picked = match.group(1).lower()
        responses = {x: _text(row.get(f"{turn}_turn_response_{x}")) for x in LETTERS}
        chosen = responses[picked]
        if not chosen:
            raise InputError(
                f"the preferred response {picked!r} is empty",
                where=at(path, line, f"{turn}_turn_response_{picked}"),
            )
        rejected = [(x, r) for x, r in responses.items() if x != picked and r and r != chosen]
        full_prompt = "\n".join([*context, f"User: {prompt}"]) if history and context else prompt
        feedback = _text(row.get(f"{turn}_turn_feedback"))
        for letter, text in rejected:
            pairs.append(
                PreferencePair(
                    full_prompt,
                    chosen,
                    text,
                    1.0 / len(rejected),
                    features.get(group_by, ""),
                    "community_alignment",
                    {
                        **provenance_base,
                        "turn": number,
                        "chosen_response": picked,
                        "rejected_response": letter,
                        **({"feedback": feedback} if feedback else {}),
                    },
                )
            )
        context += [f"User: {prompt}", f"Assistant: {chosen}"]
    return pairs
