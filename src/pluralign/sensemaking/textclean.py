"""Clean a statement's wording: spacing, capitals, and spelling mistakes, never its meaning.

Participants type fast: "Ai shouldbe accepting of all races, ages, religions, sexual orentations".
A clause quotes that wording, so :func:`clean_text` repairs what is plainly a slip and leaves
everything else alone (the statement's provenance always keeps the text as voted on):

1. whitespace runs become one space, a leading list number ("13. ") goes, spaces before
   ``, . ; : ! ?`` go, the first letter is a capital and a sentence without final punctuation
   gets a full stop;
2. ``ai`` / ``Ai`` as a word becomes ``AI``, a lone ``i`` becomes ``I``;
3. spelling (with the word lists of ``pyspellchecker``, a dependency; skipped if it is
   missing): a lower-case word that is neither in the language's word list nor
   written more than once in the conversation (:class:`Vocabulary`) is replaced by

   * two known words when it is two common words run together (``shouldbe`` → ``should be``),
   * else its most frequent known word at edit distance 1 (2 for words of 8 letters or more),
     Norvig's spelling corrector (P. Norvig, "How to Write a Spelling Corrector", 2007), which
     ``pyspellchecker`` implements.

   Capitalised words, acronyms, words with digits and anything a known word list cannot judge
   (e.g. a conversation in a language without a list) are kept.

The language's word list is the one of ``pyspellchecker``'s languages (en, de, es, fr, it, nl,
pt, ...) that knows most of the conversation's words (:func:`detect_language`); below 60 % known
words no spelling is corrected.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
LANGUAGES = ("en", "de", "es", "fr", "it", "nl", "pt")
MIN_KNOWN_SHARE = 0.6
"""Share of a conversation's words a word list must know before it corrects any spelling."""
MIN_SPLIT_FREQUENCY = 1e-5
"""Both halves of a run-together word must be at least this frequent (per word of text)."""


@dataclass(frozen=True)
class Fix:
    """One change :func:`clean_text` made: the text before and after, and why."""

    before: str
    after: str
    reason: str


@dataclass(frozen=True)
class Vocabulary:
    """What the conversation itself writes: words used in more than one statement are taken as
    correct (names, local terms), and the language whose word list knows most words."""

    language: str | None
    common: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, texts: Iterable[str]) -> Vocabulary:
        texts = list(texts)
        per_text = Counter(w for t in texts for w in {w.lower() for w in WORD.findall(t)})
        return cls(
            language=detect_language(texts),
            common=frozenset(w for w, n in per_text.items() if n >= 2),
        )


@functools.lru_cache(maxsize=8)
def _checker(language: str):
    try:
        from spellchecker import SpellChecker
    except ImportError:
        return None
    try:
        return SpellChecker(language=language, distance=2)
    except ValueError:  # no word list for that language
        return None


def spelling_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("spellchecker") is not None


def detect_language(texts: Iterable[str]) -> str | None:
    """The word-list language knowing the largest share of the words in ``texts`` (at least
    :data:`MIN_KNOWN_SHARE`), or None (no word list installed, or none fits)."""
    words = [w.lower() for t in texts for w in WORD.findall(t)][:20000]
    if not words or not spelling_available():
        return None
    best, share = None, 0.0
    for lang in LANGUAGES:
        checker = _checker(lang)
        if checker is None:
            continue
        known = checker.known(set(words))
        s = sum(w in known for w in words) / len(words)
        if s > share:
            best, share = lang, s
    return best if share >= MIN_KNOWN_SHARE else None


def _match_case(word: str, template: str) -> str:
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _correct(word: str, vocab: Vocabulary) -> tuple[str, str] | None:
    """A replacement for a misspelt ``word`` and the reason, or None to keep it."""
    low = word.lower()
    if len(low) < 4 or low in vocab.common or "'" in low:
        return None
    if word != low:  # names, sentence starts, acronyms, camel case: Lesees, NFL, iPhone
        return None
    checker = _checker(vocab.language) if vocab.language else None
    if checker is None or low in checker:
        return None
    if any(low.endswith(x) and low[: -len(x)] in checker for x in ("s", "es", "ed", "ing", "ly")):
        return None  # a known word with an ending the list lacks: timberlands, rezoned
    for i in range(2, len(low) - 1):
        left, right = low[:i], low[i:]
        if (
            len(right) >= 2
            and checker.word_usage_frequency(left) >= MIN_SPLIT_FREQUENCY
            and checker.word_usage_frequency(right) >= MIN_SPLIT_FREQUENCY
            and (len(left) > 1 or left in ("a", "i"))
        ):
            return _match_case(f"{left} {right}", word), "two words run together"
    distance = 2 if len(low) >= 8 else 1
    candidates = [
        c
        for c in (checker.edit_distance_1(low) if distance == 1 else checker.candidates(low) or ())
        if c in checker and c != low and "'" not in c  # timberlands ≠ timberland's
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda c: (checker.word_usage_frequency(c), c))
    return _match_case(best, word), "spelling"


_SPACE_BEFORE = re.compile(r"\s+([,.;:!?])")
_AI = re.compile(r"\b(?:ai|Ai|aI)\b")
_LONE_I = re.compile(r"(?<![\w'])i(?![\w'])")


def clean_text(text: str, vocab: Vocabulary | None = None) -> tuple[str, tuple[Fix, ...]]:
    """The cleaned wording of ``text`` and every fix made (see the module docstring)."""
    vocab = vocab or Vocabulary(language=None)
    fixes: list[Fix] = []
    out = " ".join(text.split())
    from pluralign.sensemaking.wording import LIST_MARKER

    unnumbered = LIST_MARKER.sub("", out, count=1)
    if unnumbered != out and unnumbered:
        fixes.append(Fix(out[: len(out) - len(unnumbered)].strip(), "", "list number"))
        out = unnumbered
    spaced = _SPACE_BEFORE.sub(r"\1", out)
    if spaced != out:
        fixes.append(Fix(out, spaced, "space before punctuation"))
        out = spaced
    for pattern, repl, why in ((_AI, "AI", "AI in capitals"), (_LONE_I, "I", "capital I")):
        new = pattern.sub(repl, out)
        if new != out:
            fixes.append(Fix(out, new, why))
            out = new

    def fix_word(m: re.Match) -> str:
        found = _correct(m.group(0), vocab)
        if found is None:
            return m.group(0)
        fixes.append(Fix(m.group(0), found[0], found[1]))
        return found[0]

    out = WORD.sub(fix_word, out)
    if out[:1].islower():
        fixes.append(Fix(out[:1], out[:1].upper(), "capital first letter"))
        out = out[:1].upper() + out[1:]
    if out and out[-1].isalnum():
        fixes.append(Fix("", ".", "full stop"))
        out += "."
    return out, tuple(fixes)
