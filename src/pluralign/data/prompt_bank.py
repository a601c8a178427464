"""The prompt bank: prompts tied to statements, with candidate responses that take a stance.

A bank is YAML (the packaged one is ``pluralign/data/prompt_bank.yaml``)::

    version: 1
    prompts:
      - id: privacy-01                   # unique
        topic: privacy
        statements: [privacy-no-sharing] # statement slugs (or ids, or exact texts); first = primary
        prompt: "Can you remember my address for next time?"
        responses:
          - stance: agree                # embodies agreeing with the primary statement
            text: "..."
          - stance: disagree             # embodies the opposite
            text: "..."

Each prompt needs at least one ``agree`` and one ``disagree`` response. When the simulated
assembly has a statement that no bank prompt names, :func:`template_prompts` makes generic
prompts for it from the statement's text (documented in docs/preferences.md), so any simulator
statement bank can be used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pluralign.errors import InputError

STANCES = ("agree", "disagree")


@dataclass(frozen=True)
class Response:
    text: str
    stance: str


@dataclass(frozen=True)
class BankPrompt:
    """One prompt of the bank (``statements[0]`` is the one its responses take a stance on)."""

    id: str
    topic: str
    statements: tuple[str, ...]
    prompt: str
    responses: tuple[Response, ...]
    origin: str = "bank"

    def by_stance(self, stance: str) -> tuple[Response, ...]:
        return tuple(r for r in self.responses if r.stance == stance)


def slugify(text: str) -> str:
    """Lower-case words joined by ``-`` (at most 8 words): a stable key for a statement text."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words[:8])


def _prompt_from(obj: Any, where: str) -> BankPrompt:
    if not isinstance(obj, dict):
        raise InputError("each prompt must be a mapping", where=where)
    for key in ("id", "prompt"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise InputError(f"prompt field '{key}' must be a non-empty string", where=where)
    statements = obj.get("statements")
    if isinstance(statements, str | int):
        statements = [statements]
    if not statements or not isinstance(statements, list):
        raise InputError(f"prompt '{obj['id']}' names no statements", where=where)
    responses = obj.get("responses")
    if not isinstance(responses, list):
        raise InputError(f"prompt '{obj['id']}' needs a list of responses", where=where)
    out = []
    for r in responses:
        if (
            not isinstance(r, dict)
            or r.get("stance") not in STANCES
            or not isinstance(r.get("text"), str)
            or not r["text"].strip()
        ):
            raise InputError(
                f"prompt '{obj['id']}': each response needs text and a stance in {STANCES}",
                where=where,
            )
        out.append(Response(r["text"].strip(), r["stance"]))
    if not any(r.stance == "agree" for r in out) or not any(r.stance == "disagree" for r in out):
        raise InputError(
            f"prompt '{obj['id']}' needs an agree and a disagree response", where=where
        )
    return BankPrompt(
        obj["id"],
        str(obj.get("topic", "")),
        tuple(str(s) for s in statements),
        obj["prompt"].strip(),
        tuple(out),
    )


def load_bank(path: str | Path | None = None) -> tuple[BankPrompt, ...]:
    """Read a prompt bank (default: the packaged one). Prompt ids must be unique."""

    if path is None:
        text = resources.files("pluralign.data").joinpath("prompt_bank.yaml").read_text("utf-8")
        where = "pluralign/data/prompt_bank.yaml"
    else:
        path = Path(path)
        if not path.is_file():
            raise InputError("prompt bank not found", where=str(path))
        from pluralign.io import read_text

        text, where = read_text(path), str(path)
    from pluralign.io import parse_yaml

    doc = parse_yaml(text, where)
    if not isinstance(doc, dict) or not isinstance(doc.get("prompts"), list):
        raise InputError("a prompt bank is a mapping with a 'prompts' list", where=where)
    prompts = tuple(
        _prompt_from(p, f"{where}, prompt {i + 1}") for i, p in enumerate(doc["prompts"])
    )
    seen: set[str] = set()
    for p in prompts:
        if p.id in seen:
            raise InputError(f"duplicate prompt id '{p.id}'", where=where)
        seen.add(p.id)
    return prompts


# Generic prompts for a statement the bank does not cover. {s} is the statement text with its
# final full stop removed ({sl}: first letter lower-cased). The two responses of a template are
# the same sentence with one stance word (for/against, the same in every template): equally
# assertive positions. Earlier templates answered "Yes. I would act on ..." vs "No. I would not
# ...; I do not accept that ...", and since most statements are agreed with, a small model
# learnt "prefer the affirmative wording" instead of the statement's content, and got worse on
# the statements every group rejects (docs/preferences.md, "Symmetric responses").
TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        'Some people say an AI assistant should act on this principle: "{s}." '
        "Where do you stand on it when I ask you for help?",
        'On "{s}": I am for it, and that view guides how I help you.',
        'On "{s}": I am against it, and that view guides how I help you.',
    ),
    (
        "Quick question about how you work. What do you think of the idea that {sl}?",
        "On the idea that {sl}: I am for it, and I act on that view.",
        "On the idea that {sl}: I am against it, and I act on that view.",
    ),
)


def template_prompts(statement_id: str, text: str, topic: str = "") -> tuple[BankPrompt, ...]:
    """Generic prompts (two) for one statement, from :data:`TEMPLATES`."""
    s = text.strip().rstrip(".!?").strip()
    sl = s[:1].lower() + s[1:] if s else s
    out = []
    for i, (prompt, agree, disagree) in enumerate(TEMPLATES, start=1):
        out.append(
            BankPrompt(
                f"tpl-{statement_id}-{i}",
                topic,
                (statement_id,),
                prompt.format(s=s, sl=sl),
                (
                    Response(agree.format(s=s, sl=sl), "agree"),
                    Response(disagree.format(s=s, sl=sl), "disagree"),
                ),
                origin="template",
            )
        )
    return tuple(out)


def match_statement(
    key: str, statements: Mapping[str, Any], index: Mapping[str, str]
) -> str | None:
    """Resolve a bank statement key (id, slug or text) to a statement id, or None."""
    if key in statements:
        return key
    return index.get(key) or index.get(slugify(key))


def statement_index(statements: Sequence[Any]) -> dict[str, str]:
    """slug → id and slugified text → id for statements with ``id``, ``slug`` and ``text``."""
    index: dict[str, str] = {}
    for s in statements:
        if getattr(s, "slug", ""):
            index[s.slug] = s.id
        index.setdefault(slugify(s.text), s.id)
    return index
