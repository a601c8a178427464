"""Clause wording is cleaned of slips, never of meaning; the statement keeps its own text."""

from __future__ import annotations

import pytest

from pluralign.sensemaking.textclean import Vocabulary, clean_text, spelling_available


@pytest.mark.skipif(not spelling_available(), reason="pyspellchecker is not installed")
def test_the_issues_example_and_what_must_stay():
    en = Vocabulary(language="en")
    text, fixes = clean_text(
        "Ai shouldbe accepting of all races, ages, religions, sexual orentations", en
    )
    assert text == "AI should be accepting of all races, ages, religions, sexual orientations."
    assert {f.reason for f in fixes} >= {"two words run together", "spelling", "AI in capitals"}
    # names, sentence starts, plurals of known words, words used twice are kept
    for keep in ("Lesees of the Land Bank.", "The timberlands matter.", "The NFL is rich."):
        assert clean_text(keep, en)[0] == keep
    seen_twice = Vocabulary(language="en", common=frozenset({"agrihood"}))
    assert clean_text("Build an agrihood.", seen_twice)[0] == "Build an agrihood."


def test_spacing_numbers_and_capitals_without_a_word_list():
    text, fixes = clean_text("13.  the city   needs parks , i think", Vocabulary(language=None))
    assert text == "The city needs parks, I think."
    assert [f.reason for f in fixes][0] == "list number"
