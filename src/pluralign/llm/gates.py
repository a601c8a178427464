"""Cheap quality gates for synthesised text: reject a bad item and say why.

A small model (the embedded SmolLM2-135M-Instruct) writes a usable question, answer, critique or
revision often, but not always: it restates the clause instead of asking about it, copies the
few-shot example, loops on one sentence, answers in the wrong language, or writes about the task
("The answer should say ...") instead of to the user. Each gate here is a pure function of the
texts (no model, no I/O, deterministic) that returns ``None`` for an acceptable text or a
:class:`Rejection` whose ``reason`` is one of the codes in :data:`REASONS`. The synthesis steps
(:mod:`pluralign.llm.synth`) record every rejection with its reason and count them per step.

Similarity here is lexical, on *content words*: lower-cased words minus function words of the
supported languages, lightly stemmed (``taxes`` → ``tax``, ``lanes`` → ``lane``). Two measures:

- coverage ``cov(a, b) = |C(a) ∩ C(b)| / |C(b)|``: the share of ``b``'s content words found in
  ``a`` (the ROUGE-1 recall of ``a`` against ``b``; Lin 2004, *ROUGE*, ACL workshop W04-1013);
- the word-sequence ratio of :class:`difflib.SequenceMatcher` (``2·M / (|a| + |b|)`` over
  matching blocks of words), which sees reordering and near-copies.

Copying a few-shot example is a word-sequence ratio ≥ 0.6 to it or a shared word 7-gram (as in
n-gram overlap contamination checks; shorter spans are common openings such as "Help me write a
petition to"). Degenerate repetition is measured by the
share of distinct word trigrams (the *distinct-n* of Li et al. 2016, arXiv:1510.03055).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

REASONS: dict[str, str] = {
    "empty": "no text",
    "too_short": "fewer words than the step needs",
    "too_long": "more words than the step allows",
    "wrong_language": "not written in the expected language",
    "repetitive": "loops on the same words",
    "meta_text": "talks about the task (statement, critique, 'the answer should') instead of "
    "to the user",
    "copies_example": "copies a few-shot example from the prompt",
    "not_a_request": "neither a question nor a request",
    "restates_clause": "restates the clause instead of asking about it",
    "vague": "has no concrete subject ('Can you tell me if this is a good idea?')",
    "echoes_prompt": "repeats the user's message instead of answering it",
    "echoes_answer": "repeats the answer instead of critiquing it",
    "same_as_answer": "(nearly) the same text as the initial answer",
    "ignores_critique": "takes up none of the critique's points",
    "drifts_from_clause": "shares fewer of the clause's words than the initial answer did",
    "not_a_clause": "not one sentence starting 'The assistant should'",
    "rejected_is_prompt": "the rejected answer is the prompt itself",
    "chosen_is_prompt": "the chosen answer is the prompt itself",
    "duplicate": "the same item was already kept",
}
"""Every rejection reason code with its meaning (docs/llm.md lists them too)."""


@dataclass(frozen=True)
class Rejection:
    """Why a text was rejected: a code of :data:`REASONS` and a short detail (a measured value)."""

    reason: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown rejection reason {self.reason!r}")


# -- words ------------------------------------------------------------------------------------
def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# function words per language: the language guess and the content-word filter both use them
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _wordset(
        "a an the and or but if of to in on at by for with from as is are was were be been being "
        "am do does did have has had this that these those it its i me my we our you your he she "
        "they them their his her not no so than then there here what which who whom whose when "
        "where why how can could should would will shall may might must about into over under "
        "also just very more most some any all each such only own same other out up down off "
        "again once too both few nor s t don doesn isn aren wasn weren i'm it's don't can't "
        "what's let us"
    ),
    "de": _wordset(
        "der die das den dem des ein eine einer eines einem einen und oder aber wenn ist sind war "
        "waren sein wird werden hat haben nicht kein keine mit von zu im in auf an für aus bei "
        "nach über unter ich du er sie es wir ihr mein dein unser euer sich auch nur noch schon "
        "sehr mehr dass als wie was wer wo warum soll sollen sollte muss müssen kann können"
    ),
    "fr": _wordset(
        "le la les un une des du de et ou mais si est sont était être a ont avoir ne pas plus "
        "pour par avec dans sur au aux ce cette ces il elle ils elles nous vous je tu on qui que "
        "quoi dont où comment pourquoi doit doivent peut peuvent son sa ses leur leurs très"
    ),
    "es": _wordset(
        "el la los las un una unos unas y o pero si es son era ser está están ha han no más "
        "para por con en sobre al del de que qué quien como cómo porque este esta estos estas "
        "yo tú él ella nosotros ellos su sus muy debe deben puede pueden se lo le les"
    ),
    "nl": _wordset(
        "de het een en of maar als is zijn was waren wordt worden heeft hebben niet geen met van "
        "te in op aan voor uit bij naar over onder ik jij hij zij wij jullie mijn ons ook nog "
        "al zeer meer dat wat wie waar waarom moet moeten kan kunnen"
    ),
    "it": _wordset(
        "il lo la i gli le un una e o ma se è sono era essere ha hanno non più per con in su "
        "al del della di che chi come perché questo questa io tu lui lei noi voi loro suo sua "
        "molto deve devono può possono si"
    ),
    "pt": _wordset(
        "o a os as um uma e ou mas se é são era ser está estão tem têm não mais para por com em "
        "sobre ao do da de que quem como porque este esta eu tu ele ela nós eles seu sua muito "
        "deve devem pode podem se"
    ),
}
_ALL_FUNCTION = frozenset().union(*FUNCTION_WORDS.values())
# words that carry no subject of their own: a question made only of these is vague
GENERIC_WORDS = _wordset(
    "tell know think say mean explain help give make get go want need like good bad best better "
    "worse right wrong true false real reality idea thing things stuff way ways issue issues "
    "problem problems point points deal matter question questions answer sure serious lie lies "
    "difference different important happen happening work works use used please yes okay ok "
    "really actually something anything everything nothing someone anyone people person "
    "opinion view views information info"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "es", "s")


def words(text: str) -> list[str]:
    """Lower-cased words (letters, with inner apostrophes) in order."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def stem(word: str) -> str:
    """A light suffix-stripping stem (``taxes`` → ``tax``, ``policies`` → ``policy``, ``voted``,
    ``votes`` and ``vote`` → ``vot``); enough for overlap counts, not a linguistic stemmer."""
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 3:
            word = word[: -len(suf)] + ("y" if suf in ("ies", "ied") else "")
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def content_words(text: str) -> set[str]:
    """Stems of the words that are not function words of any supported language."""
    return {stem(w) for w in words(text) if w not in _ALL_FUNCTION and len(w) > 2}


def coverage(a: str, b: str) -> float:
    """Share of ``b``'s content words that occur in ``a`` (1.0 when ``b`` has none)."""
    cb = content_words(b)
    return len(content_words(a) & cb) / len(cb) if cb else 1.0


def sequence_ratio(a: str, b: str) -> float:
    """difflib's ratio over the word sequences of ``a`` and ``b`` (1.0 = same words in order)."""
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def folded(text: str) -> str:
    """Lower case, single spaces, no punctuation (digits kept): the form exact duplicates
    share."""
    return " ".join(_TOKEN.findall(text.lower()))


def guess_language(text: str) -> str | None:
    """The supported language whose function words occur most in ``text``; ``None`` when fewer
    than two function words of any language occur (too short to tell)."""
    ws = words(text)
    counts = {lang: sum(w in fw for w in ws) for lang, fw in FUNCTION_WORDS.items()}
    best = max(counts, key=lambda k: counts[k])
    if counts[best] < 2:
        return None
    ties = [k for k, v in counts.items() if v == counts[best]]
    return best if len(ties) == 1 else None


def distinct_trigrams(text: str) -> float:
    """Distinct token trigrams / all trigrams (1.0 for texts of fewer than 3 tokens); a token
    with a digit counts as ``#``, so a run of dates or numbers is a repetition too."""
    ws = ["#" if any(ch.isdigit() for ch in t) else t for t in _TOKEN.findall(text.lower())]
    grams = [tuple(ws[i : i + 3]) for i in range(len(ws) - 2)]
    return len(set(grams)) / len(grams) if grams else 1.0


REPETITIVE_TRIGRAMS = 0.6
"""A text of at least 12 tokens whose share of distinct trigrams is below this loops."""


def is_repetitive(text: str) -> bool:
    """Degenerate repetition: at least 12 tokens and fewer than 60 % distinct token trigrams
    (:func:`distinct_trigrams`). The gates reject such text; evaluation flags such answers."""
    return len(_TOKEN.findall(text)) >= 12 and distinct_trigrams(text) < REPETITIVE_TRIGRAMS


COPY_NGRAM = 7
"""A text sharing a span of this many words with a few-shot example copies it (shorter spans
are common openings such as "Help me write a petition to")."""


def shares_ngram(text: str, others: Iterable[str], n: int = COPY_NGRAM) -> bool:
    """Whether ``text`` and any of ``others`` share a word ``n``-gram."""
    ws = words(text)
    mine = {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}
    if not mine:
        return False
    for other in others:
        wo = words(other)
        if any(tuple(wo[i : i + n]) in mine for i in range(len(wo) - n + 1)):
            return True
    return False


# -- cleaning ---------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """Strip whitespace and one pair of wrapping quotes."""
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        t = t[1:-1].strip()
    return t


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def cut_repetition(text: str) -> str:
    """Drop a sentence that repeats an earlier one, and everything after it (a small model
    that starts looping does not recover)."""
    parts = _SENTENCE_END.split(text.strip())
    seen: set[str] = set()
    kept: list[str] = []
    for part in parts:
        f = folded(part)
        if f and f in seen:
            break
        seen.add(f)
        kept.append(part)
    return " ".join(kept).strip() if len(kept) < len(parts) else text.strip()


def trim_unfinished(text: str) -> str:
    """Cut a text that stopped at the token limit back to its last finished sentence (kept
    whole when no sentence ends in it)."""
    t = text.rstrip()
    if not t or t[-1] in ".!?\"')”":
        return t
    m = max(t.rfind(". "), t.rfind("! "), t.rfind("? "), t.rfind(".\n"), t.rfind("?\n"))
    return t[: m + 1] if m > 0 else t


# -- gates ------------------------------------------------------------------------------------
_META = re.compile(
    r"(?i)\b(?:the|this|that) (?:statement|critique|principle|clause|original answer|new answer|"
    r"rewritten answer|revised answer|answer above)\b(?! of\b)|^\s*(?:new|revised|rewritten|better|"
    r"improved) answer\s*:|^\s*the answer (?:is that|says|does|should|leaves|ignores|only)\b|"
    r"\bit should (?:say|mention|include|explain|add|acknowledge)\b|"
    r"\b(?:critique|statement|topic|kind of message|message|principle)\s*:"
)
_QUESTION_META = re.compile(
    r"(?i)\b(?:statement|topic|kind of message|principle|clause)\s*:|\bthe (?:statement|"
    r"principle|clause)\b|\bthis (?:statement|principle|clause)\b"
)
REQUEST_WORDS = _wordset(
    "write help explain tell give list describe draft suggest recommend compare summarise "
    "summarize show teach find make create plan translate outline please can could would will "
    "should shall is are was were do does did have has how what why when where which who whom "
    "whose i'm i've i'd i"
)


Examples = Mapping[str, str] | Sequence[str]
"""Few-shot examples: each example's text, mapped to the text of its subject (the example's
statement and message); a plain sequence makes each example its own subject."""


def common_gate(
    text: str,
    *,
    min_words: int,
    max_words: int | None = None,
    language: str | None = "en",
    examples: Examples = (),
    own: str = "",
) -> Rejection | None:
    """Checks every step shares: length, language, repetition, copying a few-shot example (see
    :func:`copied_example`; ``own`` is the text the step may take words from)."""
    ws = words(text)
    if not ws:
        return Rejection("empty")
    if len(ws) < min_words:
        return Rejection("too_short", f"{len(ws)} words < {min_words}")
    if max_words is not None and len(ws) > max_words:
        return Rejection("too_long", f"{len(ws)} words > {max_words}")
    if language:
        letters = [ch for ch in text if ch.isalpha()]
        latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
        if letters and latin / len(letters) < 0.7:
            return Rejection("wrong_language", "mostly non-Latin script")
        guess = guess_language(text)
        if guess is not None and guess != language:
            return Rejection("wrong_language", f"looks like {guess}, expected {language}")
    if is_repetitive(text):
        return Rejection("repetitive", f"distinct trigrams {distinct_trigrams(text):.2f} < 0.60")
    copied = copied_example(text, examples, own)
    if copied is not None:
        return copied
    return None


def copied_example(text: str, examples: Examples, own: str = "") -> Rejection | None:
    """``text`` copies an example when it has the example's form (word-sequence ratio ≥ 0.6, or
    a shared 7-word span) *and* carries over its subject: a content word of the example's subject
    that ``own`` (the clause, the answer: what the text is about) does not have. Taking the
    example's form for another subject is what a few-shot prompt asks for ("Help me write a
    petition to keep our public parks open late in summer." after "... our library open on
    Sundays."); taking its subject is the copy."""
    if not examples:
        return None
    subjects = examples if isinstance(examples, Mapping) else {e: e for e in examples}
    mine, allowed = content_words(text), content_words(own)
    for example, subject in subjects.items():
        ratio = sequence_ratio(text, example)
        if ratio < 0.6 and not shares_ngram(text, [example], COPY_NGRAM):
            continue
        carried = (mine & content_words(subject)) - allowed
        if carried:
            return Rejection(
                "copies_example",
                f"form of an example (word-sequence ratio {ratio:.2f} or a shared "
                f"{COPY_NGRAM}-word span) and its subject: {sorted(carried)[:4]}",
            )
    return None


def question_gate(
    question: str,
    clause: str,
    *,
    language: str | None = "en",
    examples: Examples = (),
    similarity: float | None = None,
    max_words: int = 60,
) -> Rejection | None:
    """A question must be something a user would send: a question or request (``?`` or a
    request word first), in the expected language, with a concrete subject, not the clause
    restated (both-way content coverage ≥ 0.75, word-sequence ratio ≥ 0.8, or, when the caller
    measured it, embedding cosine ``similarity`` ≥ 0.9), not a copy of a few-shot example, and
    not about the task itself."""
    r = common_gate(
        question,
        min_words=3,
        max_words=max_words,
        language=language,
        examples=examples,
        own=clause,
    )
    if r:
        return r
    if _QUESTION_META.search(question):
        return Rejection("meta_text", "mentions the prompt's labels or the statement")
    ws = words(question)
    if "?" not in question and ws[0] not in REQUEST_WORDS:
        return Rejection("not_a_request", f"no '?' and starts with {ws[0]!r}")
    c_clause, c_question = coverage(question, clause), coverage(clause, question)
    ratio = sequence_ratio(question, clause)
    if (c_clause >= 0.75 and c_question >= 0.75) or ratio >= 0.8:
        return Rejection(
            "restates_clause",
            f"covers {c_clause:.2f} of the clause, {c_question:.2f} from it, ratio {ratio:.2f}",
        )
    if similarity is not None and similarity >= 0.9:
        return Rejection("restates_clause", f"embedding cosine {similarity:.2f} >= 0.90")
    if not (content_words(question) - {stem(w) for w in GENERIC_WORDS}):
        return Rejection("vague", "only generic words")
    return None


def answer_gate(
    answer: str, prompt: str, *, language: str | None = "en", min_words: int = 3
) -> Rejection | None:
    """An answer must answer: long enough, in the expected language, not looping, and not the
    user's message repeated (word-sequence ratio ≥ 0.8, or the message's words making up ≥ 80 %
    of a short answer)."""
    r = common_gate(answer, min_words=min_words, language=language)
    if r:
        return r
    ratio = sequence_ratio(answer, prompt)
    if ratio >= 0.8 or folded(answer) == folded(prompt):
        return Rejection("echoes_prompt", f"word-sequence ratio {ratio:.2f}")
    if echoes_message(answer, prompt):
        return Rejection("echoes_prompt", "contains the user's whole message")
    if len(words(answer)) <= 2 * len(words(prompt)) and coverage(prompt, answer) >= 0.8:
        return Rejection("echoes_prompt", "made of the message's own words")
    return None


def critique_gate(
    critique: str,
    answer: str,
    *,
    language: str | None = "en",
    examples: Examples = (),
    min_words: int = 5,
    prompt: str = "",
) -> Rejection | None:
    """A critique must say something about the answer rather than repeat it (word-sequence ratio
    to the answer < 0.6, and at least one content word that is in neither the answer nor the
    user's ``prompt``: a point the answer leaves out cannot be made of the answer's own words),
    be long enough, in the expected language, and not copy an example."""
    r = common_gate(
        critique,
        min_words=min_words,
        language=language,
        examples=examples,
        own=f"{answer} {prompt}",
    )
    if r:
        return r
    ratio = sequence_ratio(critique, answer)
    if ratio >= 0.6:
        return Rejection("echoes_answer", f"word-sequence ratio {ratio:.2f}")
    if not critique_points(critique, answer, prompt):
        # "the answer leaves out that <a sentence of the answer>": nothing is left out
        return Rejection("echoes_answer", "every content word is in the answer or the message")
    return None


def echoes_message(text: str, prompt: str, min_words: int = 5) -> bool:
    """``text`` contains the whole user's message of ``min_words`` or more words, case, spacing
    and punctuation folded (a small model sometimes ends its answer by asking the question
    back)."""
    fp = folded(prompt)
    return len(fp.split()) >= min_words and f" {fp} " in f" {folded(text)} "


def near_duplicate(text: str, kept: Iterable[str], ratio: float = 0.8) -> Rejection | None:
    """A near-copy of one of ``kept``: the same content words, or a word-sequence ratio ≥
    ``ratio`` ("What is the best way to ...?" and "What's the best way to ...?")."""
    mine = content_words(text)
    for other in kept:
        r = sequence_ratio(text, other)
        if r >= ratio or (mine and mine == content_words(other)):
            return Rejection("duplicate", f"near-copy of a kept one (word-sequence ratio {r:.2f})")
    return None


NEGATION_WORDS = _wordset(
    "not no never nor cannot can't won't don't doesn't didn't isn't aren't wasn't weren't "
    "shouldn't wouldn't couldn't mustn't shan't haven't hasn't hadn't refuse refuses refused "
    "refusing decline declines declined declining unable"
)
"""Words that negate or refuse. To the critique check they are one point, :data:`NEGATION`:
a critique saying the assistant "cannot" or "should refuse" is taken up by a revision that says
"I can't" or "I won't"."""
NEGATION = "<negation>"
_NEGATION_STEMS = frozenset(stem(w) for w in NEGATION_WORDS)


def negates(text: str) -> bool:
    """Whether ``text`` has a word of :data:`NEGATION_WORDS` ("can not" has "not")."""
    return any(w in NEGATION_WORDS for w in words(text))


def point_words(text: str) -> set[str]:
    """:func:`content_words` with every negating word as the one word :data:`NEGATION`."""
    return (content_words(text) - _NEGATION_STEMS) | ({NEGATION} if negates(text) else set())


def critique_points(critique: str, answer: str, prompt: str = "") -> set[str]:
    """The content words the critique brings in: in the critique, not in the answer or the
    user's message, and not generic; negation ("cannot", "won't", "refuse", ...) is one point,
    :data:`NEGATION`, brought in when the critique negates and neither the answer nor the
    message does (:func:`point_words`)."""
    generic = {stem(w) for w in GENERIC_WORDS} | {"answer", "assistant", "user", "mention"}
    return point_words(critique) - point_words(answer) - point_words(prompt) - generic


def revision_gate(
    revision: str,
    answer: str,
    critique: str,
    prompt: str,
    *,
    clause: str | None = None,
    language: str | None = "en",
    examples: Examples = (),
) -> Rejection | None:
    """A revision must differ from the initial answer (word-sequence ratio < 0.9), take up at
    least one point of the critique (a content word the critique brings in, when it brings any;
    a negation such as "cannot" is taken up by any negation, "can't", "won't": :func:`point_words`),
    not move away from the clause (when given: it covers at least as many of the clause's content
    words as the answer did), speak to the user rather than about the task, not repeat the
    user's message, and pass the common checks."""
    r = common_gate(
        revision,
        min_words=3,
        language=language,
        examples=examples,
        own=f"{answer} {critique} {prompt} {clause or ''}",
    )
    if r:
        return r
    ratio = sequence_ratio(revision, answer)
    if folded(revision) == folded(answer) or ratio >= 0.9:
        return Rejection("same_as_answer", f"word-sequence ratio {ratio:.2f}")
    if _META.search(revision):
        return Rejection("meta_text", "talks about the answer, critique or statement")
    if sequence_ratio(revision, prompt) >= 0.8 or echoes_message(revision, prompt):
        return Rejection("echoes_prompt", "repeats the user's message")
    points = critique_points(critique, answer, prompt)
    if points and not (points & point_words(revision)):
        return Rejection("ignores_critique", f"none of {sorted(points)[:6]}")
    if clause is not None:
        before, after = coverage(answer, clause), coverage(revision, clause)
        if after < before:
            return Rejection("drifts_from_clause", f"clause coverage {after:.2f} < {before:.2f}")
    return None


def pair_gate(prompt: str, chosen: str, rejected: str) -> Rejection | None:
    """A preference pair's answers must not be its prompt (the bug seen on a real run)."""
    fp = folded(prompt)
    if folded(rejected) == fp:
        return Rejection("rejected_is_prompt")
    if folded(chosen) == fp:
        return Rejection("chosen_is_prompt")
    if folded(chosen) == folded(rejected):
        return Rejection("same_as_answer", "chosen equals rejected")
    return None


def clause_draft(text: str) -> str:
    """The clause in a drafting reply: from its first "The assistant should" to the end of that
    sentence (the first non-empty line when the phrase is absent)."""
    m = re.search(r"(?i)the assistant should\b", text)
    if m is None:
        for line in text.strip().splitlines():
            if line.strip():
                return clean_text(line.strip())
        return ""
    rest = text[m.start() :].strip()
    end = re.search(r"[.!?](?=\s|$)", rest)
    sentence = rest[: end.end()] if end else rest.splitlines()[0]
    return clean_text(" ".join(sentence.split()))


def clause_gate(draft: str, *, language: str | None = "en") -> Rejection | None:
    """A drafted clause: one sentence of 5 to 60 words that starts "The assistant should"."""
    r = common_gate(draft, min_words=5, max_words=60, language=language)
    if r:
        return r
    if not folded(draft).startswith("the assistant should"):
        return Rejection("not_a_clause", "does not start with 'The assistant should'")
    if len([p for p in _SENTENCE_END.split(draft.strip()) if p]) > 1:
        return Rejection("not_a_clause", "more than one sentence")
    return None
