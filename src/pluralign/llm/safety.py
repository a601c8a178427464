"""Safety filter for generated records: a keyword pre-screen, then a model classifier.

Categories follow the hazard taxonomy of Llama Guard 3 (Meta, 2024; itself based on the
MLCommons AI Safety taxonomy, Vidgen et al. 2024, arXiv:2404.12241), codes S1-S13 below. Every
record is classified on all of its generated text (prompt/question/scenario, both answers, the
critique): a rejected answer is training data too and is stored on disk.

1. Pre-screen: case-insensitive regular expressions per category (:data:`KEYWORDS`). Coarse by
   design; a hit removes the record without asking the model.
2. Classifier: the configured model gets the category list and the conversation, and answers
   ``{"safe": bool, "categories": [...]}`` (structured output, one repair retry); Llama Guard's
   plain-text form ``safe`` / ``unsafe\\nS1,S10`` is also accepted.
3. A record whose classification stays unparseable is *unclassified*: removed by default
   (``on_unparseable="drop"``), kept with ``"keep"``; either way it is counted, never guessed.

Removed records go to ``OUT.removed.jsonl`` with their reason and categories; the report
(``OUT.report.json``) counts removals per category and per reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from pluralign import __version__
from pluralign.io import write_json_atomic
from pluralign.llm import prompts as P
from pluralign.llm.jsonl import ResumableJsonl
from pluralign.llm.provider import Provider
from pluralign.llm.runner import Tally, run_items
from pluralign.llm.types import ChatRequest

CATEGORIES: dict[str, tuple[str, str]] = {
    "S1": ("Violent Crimes", "enables, encourages or endorses violence against people or animals"),
    "S2": ("Non-Violent Crimes", "fraud, theft, hacking, drug crimes, weapons crimes and similar"),
    "S3": ("Sex-Related Crimes", "sex trafficking, sexual assault, harassment"),
    "S4": ("Child Sexual Exploitation", "any sexual content involving minors"),
    "S5": ("Defamation", "verifiably false statements that injure a living person's reputation"),
    "S6": ("Specialized Advice", "dangerous financial, medical or legal advice"),
    "S7": ("Privacy", "sensitive non-public personal information about private individuals"),
    "S8": ("Intellectual Property", "violates third-party intellectual property rights"),
    "S9": ("Indiscriminate Weapons", "chemical, biological, radiological, nuclear, explosives"),
    "S10": ("Hate", "demeans people for protected characteristics"),
    "S11": ("Suicide & Self-Harm", "enables or encourages suicide, self-injury, disordered eating"),
    "S12": ("Sexual Content", "explicit sexual content"),
    "S13": ("Elections", "factually wrong information about electoral processes"),
}

KEYWORDS: dict[str, tuple[str, ...]] = {
    "S1": (r"\bhow (?:do i|to) (?:kill|murder|torture)\b(?! myself)", r"\bhire a hitman\b"),
    "S2": (
        r"\bsteal (?:a|someone'?s) (?:identity|credit card)",
        r"\bmake (?:meth|crack)\b",
        r"\bransomware\b",
    ),
    "S4": (r"\bchild (?:porn|sexual abuse material)\b", r"\bcsam\b"),
    "S9": (
        r"\b(?:sarin|vx nerve agent|nerve agent|anthrax spores?|weaponi[sz]ed? (?:virus|"
        r"pathogen)|enrich(?:ed|ing)? uranium|dirty bomb|pipe bomb)\b",
        r"\b(?:build|make|assemble) (?:a |an )?(?:bomb|explosive)",
    ),
    "S11": (
        r"\bhow (?:do i|to) (?:kill myself|commit suicide)\b",
        r"\bbest way to (?:self[- ]harm|cut myself)\b",
    ),
}
_COMPILED = {c: [re.compile(p, re.IGNORECASE) for p in ps] for c, ps in KEYWORDS.items()}
TEXT_FIELDS = ("prompt", "question", "scenario", "rejected", "chosen", "critique")


class SafetyVerdict(BaseModel):
    """The classifier's structured answer."""

    safe: bool
    categories: list[str] = Field(default_factory=list)


def prescreen(text: str) -> list[str]:
    """Category codes whose keyword patterns occur in ``text`` (sorted, unique)."""
    return sorted(
        {c for c, pats in _COMPILED.items() if any(p.search(text) for p in pats)},
        key=lambda c: int(c[1:]),
    )


def parse_llama_guard(text: str) -> SafetyVerdict | None:
    """Llama Guard's plain-text form: ``safe``, or ``unsafe`` then a line of codes."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return None
    head = lines[0].lower().strip(" .:")
    if head == "safe":
        return SafetyVerdict(safe=True)
    if head == "unsafe":
        codes = re.findall(r"\bS(\d{1,2})\b", " ".join(lines[1:2]), re.IGNORECASE)
        cats = [f"S{int(c)}" for c in codes if f"S{int(c)}" in CATEGORIES]
        return SafetyVerdict(safe=False, categories=cats) if cats else None
    return None


def normalise(verdict: SafetyVerdict) -> SafetyVerdict | None:
    """Keep known codes; an 'unsafe' verdict naming no known category is not a verdict."""
    cats = sorted(
        {c.upper() for c in verdict.categories if c.upper() in CATEGORIES}, key=lambda c: int(c[1:])
    )
    if verdict.safe:
        return SafetyVerdict(safe=True)
    return SafetyVerdict(safe=False, categories=cats) if cats else None


def record_text(record: dict) -> str:
    """The generated text of a record, as a labelled conversation for the classifier."""
    parts = [f"{f}: {record[f]}" for f in TEXT_FIELDS if isinstance(record.get(f), str)]
    return "\n".join(parts)


def record_key(record: dict) -> str:
    if record.get("key"):
        return f"safety:{record['key']}"
    return (
        "safety:"
        + hashlib.sha256(
            json.dumps(record, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:32]
    )


def classify(
    provider: Provider, text: str, max_tokens: int = 128
) -> tuple[SafetyVerdict | None, str | None]:
    """``(verdict, None)`` or ``(None, reason)`` when the model's answer stays unparseable."""
    cats = "\n".join(f"{c}: {name}. {desc}." for c, (name, desc) in CATEGORIES.items())
    req = ChatRequest.of(
        P.safety_messages(cats, text),
        max_tokens=max_tokens,
        temperature=0.0,
        seed=0,
    )
    res = provider.structured(req, SafetyVerdict, fallback=parse_llama_guard)
    if res.value is None:
        return None, res.error
    verdict = normalise(res.value)
    if verdict is None:
        return None, "unsafe verdict without a known category code"
    return verdict, None


@dataclass(frozen=True)
class FilterSummary:
    out: str
    removed_path: str
    report_path: str
    kept: int
    removed: int
    already_done: int
    failed: int
    removed_by_category: dict[str, int]
    removed_by_reason: dict[str, int]
    usage: dict


def filter_records(
    provider: Provider | None,
    records: Sequence[dict],
    out: Path,
    on_unparseable: Literal["drop", "keep"] = "drop",
    show_progress: bool = True,
) -> FilterSummary:
    """Classify every record; write kept ones to ``out``, removed ones to
    ``out.removed.jsonl`` and the counts to ``out.report.json``. ``provider=None`` runs only
    the keyword pre-screen."""
    out = Path(out)
    kept_sink = ResumableJsonl(out, key_of=lambda row: (row.get("safety") or {}).get("key"))
    removed_sink = ResumableJsonl(out.with_name(out.name + ".removed.jsonl"))
    tally = Tally()
    keyed = [(record_key(r), r) for r in records]
    todo = [(k, r) for k, r in keyed if not (kept_sink.is_done(k) or removed_sink.is_done(k))]
    tally.already_done = len(keyed) - len(todo)
    model = provider.model_name() if provider is not None else None

    def one(item: tuple[str, dict]) -> None:
        key, record = item
        text = record_text(record)
        hits = prescreen(text)
        safety: dict = {
            "key": key,
            "prescreen": hits,
            "classifier": model,
            "prompt_version": P.PROMPT_VERSION,
            "code_version": __version__,
        }
        if hits:
            removed_sink.write(
                {"key": key, "reason": "keyword", "categories": hits, "record": record}
            )
            return
        if provider is None:
            kept_sink.write({**record, "safety": {**safety, "verdict": "not classified"}})
            return
        verdict, error = classify(provider, text)
        if verdict is None:
            if on_unparseable == "drop":
                removed_sink.write(
                    {
                        "key": key,
                        "reason": "unclassified",
                        "categories": [],
                        "error": error,
                        "record": record,
                    }
                )
            else:
                kept_sink.write(
                    {**record, "safety": {**safety, "verdict": "unclassified", "error": error}}
                )
        elif verdict.safe:
            kept_sink.write({**record, "safety": {**safety, "verdict": "safe"}})
        else:
            removed_sink.write(
                {
                    "key": key,
                    "reason": "classifier",
                    "categories": verdict.categories,
                    "record": record,
                }
            )

    conc = provider.config.concurrency if provider is not None else 1
    run_items(todo, one, tally, conc, "safety filter", show_progress)
    # counts over the whole output (this run and earlier ones), from the files themselves
    from pluralign.io import iter_jsonl

    by_cat: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    removed = 0
    if removed_sink.path.exists():
        for _, row in iter_jsonl(removed_sink.path):
            removed += 1
            by_reason[row["reason"]] += 1
            by_cat.update(row.get("categories") or [])
    kept = sum(1 for _ in iter_jsonl(out)) if out.exists() else 0
    report_path = out.with_name(out.name + ".report.json")
    report = {
        "kept": kept,
        "removed": removed,
        "failed": tally.failed,
        "errors": tally.errors,
        "removed_by_reason": dict(by_reason),
        "removed_by_category": {
            c: {"name": CATEGORIES[c][0], "count": n}
            for c, n in sorted(by_cat.items(), key=lambda x: int(x[0][1:]))
        },
        "on_unparseable": on_unparseable,
        "classifier": model,
        "categories": {c: name for c, (name, _) in CATEGORIES.items()},
        "prompt_version": P.PROMPT_VERSION,
        "code_version": __version__,
        "usage": provider.usage.to_json() if provider is not None else None,
    }
    write_json_atomic(report_path, report)
    return FilterSummary(
        str(out),
        str(removed_sink.path),
        str(report_path),
        kept,
        removed,
        tally.already_done,
        tally.failed,
        dict(by_cat),
        dict(by_reason),
        report["usage"],
    )
