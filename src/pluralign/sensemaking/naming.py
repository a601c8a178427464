"""Names for topics: by the LLM when one is given, else by keywords.

**Keywords** are class-based TF-IDF (M. Grootendorst, "BERTopic: Neural topic modeling with a
class-based TF-IDF procedure", arXiv:2203.05794, 2022): all statements of a topic form one
document; a term's weight in topic c is ``tf(t, c) · log(1 + A / f(t))`` with ``A`` the mean
number of words per topic and ``f(t)`` the term's frequency over all topics. The top three
terms (words and two-word phrases; stop words, and terms used in more than half of the topics,
left out) name the topic, e.g. "parking, downtown, roads". The stop words are scikit-learn's
English list, and in a German conversation (German function words outnumber English ones
two to one) also :data:`GERMAN_STOP_WORDS`, so that austria-climate's topics are named by
"Radwege, Öffis" rather than "und, die, sollen".

**LLM names** (:meth:`pluralign.sensemaking.writer.Writer.topic_names`) are asked from the
topic's most central statements; a reply that is not a name of two to six words, or that
repeats another topic's name, falls back to the keywords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pluralign.sensemaking.topics import Topic, TopicModel, with_names

GERMAN_STOP_WORDS = frozenset(
    """
    aber alle allem allen aller alles als also am an ander andere anderen anderer anderes auch
    auf aus bei beim bin bis bist bitte da dabei dadurch dafür dagegen daher damit dann daran
    darauf darf darin darum das dass davon dazu dem den denen denn der deren des deshalb dessen
    bereits die dies diese diesem diesen dieser dieses doch dort du durch dürfen eigene eigenen
    ein eine einem einen
    einer eines einige einigen einmal er es etwa etwas euch euer für gegen gehört genau gerade
    gibt haben habe hat hatte hätte hier hin ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im
    immer in indem ins ist ja je jede jedem jeden jeder jedes jetzt kann kein keine keinem keinen
    keiner können könnte man mehr mein meine meinem meinen meiner mich mir mit muss müssen musste
    müsste nach nicht nichts noch nun nur ob oder ohne schon sehr sein seine seinem seinen seiner
    seit selbst sich sie sind so sollen sollte sollten soll soweit sowie statt um und uns unser
    unsere unserem unseren unter viel viele vom von vor wann war waren warum was weil weiter
    welche welchem welchen welcher wenig wenn wer werden wie wieder wir wird wo wollen wurde
    würde würden zu zum zur zwar zwischen über
    """.split()  # noqa: SIM905 - a word list reads better as text
)
"""German function words (articles, pronouns, prepositions, conjunctions, auxiliary and modal
verbs, common adverbs), written for the keyword names."""

N_KEYWORDS = 3
CENTRAL = 8
"""Statements (the most central) the LLM sees to name a topic."""


def keywords(documents: Sequence[str], top: int = N_KEYWORDS) -> list[tuple[str, ...]]:
    """Class-based TF-IDF keywords of each document (one document per topic)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if not documents:
        return []
    try:
        vec = CountVectorizer(
            ngram_range=(1, 2),
            stop_words=sorted(stop_words(documents)),
            min_df=1,
            token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b",
        )
        counts = vec.fit_transform(documents).toarray().astype(float)
    except ValueError:  # nothing but stop words
        return [() for _ in documents]
    terms = np.asarray(vec.get_feature_names_out())
    if len(documents) > 2:
        spread = (counts > 0).sum(axis=0) / len(documents)
        counts[:, spread > 0.5] = 0.0
    tf = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    avg = counts.sum() / len(documents)
    idf = np.log(1.0 + avg / np.maximum(counts.sum(axis=0), 1e-12))
    weight = tf * idf
    out = []
    for row in weight:
        chosen: list[str] = []
        for j in np.lexsort((terms, -row)):
            if row[j] <= 0 or len(chosen) == top:
                break
            term = str(terms[j])
            # a bigram's words already named, or a word inside a chosen bigram: skip
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        out.append(tuple(chosen))
    return out


def stop_words(documents: Sequence[str]) -> frozenset[str]:
    """The stop words of :func:`keywords`: English, plus German when German function words
    outnumber English ones two to one in ``documents``."""
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = [w.lower() for d in documents for w in re.findall(r"[^\W\d_]+", d)]
    german = sum(w in GERMAN_STOP_WORDS for w in words)
    english = sum(w in ENGLISH_STOP_WORDS for w in words)
    if german > 2 * english:
        return frozenset(ENGLISH_STOP_WORDS) | GERMAN_STOP_WORDS
    return frozenset(ENGLISH_STOP_WORDS)


def _all(model: TopicModel) -> list[Topic]:
    return [x for t in model.topics for x in (t, *t.subtopics)]


def name_topics(model: TopicModel, texts: Mapping[int, str], writer=None) -> TopicModel:
    """``model`` with every topic and subtopic named (see the module docstring)."""
    topics = _all(model)
    docs = [" ".join(texts.get(s, "") for s in t.statements) for t in topics]
    kws = keywords(docs)
    names = {
        t.id: (", ".join(k) if k else t.id, k, "keywords") for t, k in zip(topics, kws, strict=True)
    }
    if writer is not None and topics:
        asked = writer.topic_names(
            [[texts[s] for s in t.statements[:CENTRAL] if s in texts] for t in topics]
        )
        used: set[str] = set()
        for t, k, name in zip(topics, kws, asked, strict=True):
            if name and name.lower() not in used:
                names[t.id] = (name, k, "llm")
                used.add(name.lower())
    return with_names(model, names)
