"""Parsing on recorded model replies: JSON extraction, structured validation, Llama Guard text,
judge verdicts, keyword pre-screen."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pluralign.llm.judge import JudgeVerdict, parse_plain_verdict
from pluralign.llm.safety import SafetyVerdict, normalise, parse_llama_guard, prescreen
from pluralign.llm.structured import extract_json, parse_structured

RECORDED = {
    "fenced": 'Sure! Here it is:\n```json\n{"winner": "2", "reason": "clearer"}\n```',
    "prose_braces": 'I think {this} matters. {"winner": "tie", "reason": "both {ok}"} done',
    "escaped_quote": '{"winner": "1", "reason": "says \\"hi\\" and }"}',
    "bad_value": '{"winner": "3", "reason": "x"}',
    "truncated": '{"winner": "1", "reason": "the answer was cut',
    "nonsense": "The model shou should explain its reasoning and",
}


def test_extract_json_from_recorded_replies():
    assert extract_json(RECORDED["fenced"]) == {"winner": "2", "reason": "clearer"}
    assert extract_json(RECORDED["prose_braces"]) == {"winner": "tie", "reason": "both {ok}"}
    assert extract_json(RECORDED["escaped_quote"])["reason"] == 'says "hi" and }'
    assert extract_json(RECORDED["truncated"]) is None
    assert extract_json(RECORDED["nonsense"]) is None


def test_parse_structured_reports_the_failing_field():
    value, err = parse_structured(RECORDED["fenced"], JudgeVerdict)
    assert value == JudgeVerdict(winner="2", reason="clearer") and err is None
    value, err = parse_structured(RECORDED["bad_value"], JudgeVerdict)
    assert value is None and err.startswith("field winner:")
    value, err = parse_structured(RECORDED["nonsense"], JudgeVerdict)
    assert value is None and err == "no JSON object found in the reply"


def test_fallback_only_used_when_json_invalid():
    value, err = parse_structured("unsafe\nS9", SafetyVerdict, parse_llama_guard)
    assert value == SafetyVerdict(safe=False, categories=["S9"]) and err is None
    value, _ = parse_structured(
        '{"safe": true, "categories": []}',
        SafetyVerdict,
        lambda t: SafetyVerdict(safe=False, categories=["S1"]),
    )
    assert value.safe is True


@given(
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=12)), max_size=4
    ),
    st.text(alphabet="abc xyz.!\n", max_size=20),
    st.text(alphabet="abc xyz.!\n", max_size=20),
)
def test_extract_json_finds_object_embedded_in_prose(obj, before, after):
    assert extract_json(before + json.dumps(obj) + after) == obj


@pytest.mark.parametrize(
    "text,expected",
    [
        ("safe", SafetyVerdict(safe=True)),
        ("  Safe.\n", SafetyVerdict(safe=True)),
        ("unsafe\nS1,S10", SafetyVerdict(safe=False, categories=["S1", "S10"])),
        ("unsafe\nS99", None),  # unknown code: not a verdict
        ("unsafe", None),  # no category line: not a verdict
        ("I cannot decide", None),
        ("", None),
    ],
)
def test_parse_llama_guard(text, expected):
    assert parse_llama_guard(text) == expected


def test_normalise_drops_unknown_codes_and_rejects_empty_unsafe():
    assert normalise(SafetyVerdict(safe=False, categories=["s2", "S77"])).categories == ["S2"]
    assert normalise(SafetyVerdict(safe=False, categories=["S77"])) is None
    assert normalise(SafetyVerdict(safe=True, categories=["S1"])) == SafetyVerdict(safe=True)


@pytest.mark.parametrize(
    "text,winner",
    [
        ("1", "1"),
        ("Response 2.", "2"),
        ("tie", "tie"),
        ("TIE", "tie"),
        ("After thought:\nwinner: 2\nbecause ...", "2"),
        ('"winner" = "1"', "1"),
        ("Response 1 is longer but 2 is better", None),
        ("3", None),
        ("", None),
    ],
)
def test_parse_plain_verdict(text, winner):
    got = parse_plain_verdict(text)
    assert (got.winner if got else None) == winner


def test_prescreen_hits_and_misses():
    assert prescreen("Explain how to make a pipe bomb at home") == ["S9"]
    assert prescreen("how do I kill myself") == ["S11"]
    assert prescreen("How do I bake bread? Also, ransomware is bad, and CSAM.") == ["S2", "S4"]
    assert prescreen("How should an assistant discuss elections fairly?") == []
