"""Keyword topic names leave out stop words: English, and German in a German conversation."""

from __future__ import annotations

from pluralign.sensemaking.naming import GERMAN_STOP_WORDS, keywords, stop_words

GERMAN = [
    "Die Radwege in der Stadt sollen sicherer werden und es soll mehr Radwege geben.",
    "Die Öffis sollen billiger sein, damit mehr Menschen mit den Öffis fahren.",
    "Es ist wichtig, dass die Heizung mit erneuerbarer Energie betrieben wird.",
]
ENGLISH = [
    "The city should build more bike lanes downtown and make the bike lanes safer.",
    "Buses should be cheaper so that more people ride the buses to work.",
    "Heating should run on renewable energy in every new building.",
]


def test_german_conversation_gets_german_stop_words():
    assert stop_words(GERMAN) >= GERMAN_STOP_WORDS
    assert not stop_words(ENGLISH) >= GERMAN_STOP_WORDS
    names = keywords(GERMAN)
    words = {w for name in names for term in name for w in term.split()}
    assert words and not words & {"die", "der", "und", "sollen", "soll", "es", "ist", "dass"}
    assert any("radwege" in term for term in names[0]), names
    assert any("öffis" in term for term in names[1]), names


def test_english_conversation_keeps_english_words():
    # "die" is a German article but not an English stop word: an English topic may use it
    names = keywords(ENGLISH)
    assert any("bike" in term for term in names[0]), names
    assert "die" not in stop_words(ENGLISH)
