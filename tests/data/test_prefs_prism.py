"""PRISM importer on hand-written fixtures in PRISM's published schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pluralign.data.prism import import_prism, read_survey
from pluralign.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "prism"


def test_best_vs_rest_pairs():
    pairs = import_prism(FIXTURES)
    # c0 turn 0: best (80) vs 35, 60, 5; c0 turn 1: a 70/70 tie → none; c1: one per turn
    assert len(pairs) == 5
    first = pairs[0]
    assert first.prompt == "Is it ever OK to lie?"
    assert first.chosen.startswith("Lying is sometimes kind")
    assert {p.rejected for p in pairs[:3]} == {
        "No, never.",
        "It depends on the situation and the harm involved.",
        "I cannot discuss ethics.",
    }
    assert first.group == "Female" and first.source == "prism"
    assert first.provenance["participant"] == "user0"
    assert first.provenance["demographics"]["reside_country"] == "United Kingdom"
    assert first.provenance["demographics"]["religion"] == "No Affiliation"
    assert (first.provenance["chosen_score"], first.provenance["rejected_score"]) == (80, 60)
    last = pairs[-1]
    assert last.prompt == (
        "User: Recipe for pancakes?\nAssistant: Mix flour, eggs and milk, "
        "then fry.\nUser: Without eggs?"
    )
    assert last.chosen == "Use a mashed banana instead of eggs." and last.group == "Male"


def test_pair_modes_and_options():
    assert len(import_prism(FIXTURES, pairs="best-vs-worst")) == 3
    assert len(import_prism(FIXTURES, pairs="all")) == 8  # 4·3/2 + 1 + 1
    no_hist = import_prism(FIXTURES, history=False)
    assert no_hist[-1].prompt == "Without eggs?"
    assert len(import_prism(FIXTURES, max_turn=0)) == 4
    by_age = import_prism(FIXTURES, group_by="age")
    assert by_age[0].group == "25-34 years old"
    with pytest.raises(InputError, match="unknown pair mode"):
        import_prism(FIXTURES, pairs="random")


def test_survey_flattening():
    survey = read_survey(FIXTURES / "survey.jsonl")
    assert set(survey) == {"user0", "user1", "user2"}
    assert survey["user2"]["gender"] == "Non-binary / third gender"
    assert "employment_status" not in survey["user2"]


def _copy(tmp_path: Path) -> Path:
    dest = tmp_path / "prism"
    shutil.copytree(FIXTURES, dest)
    return dest


def test_errors_name_file_and_line(tmp_path):
    folder = _copy(tmp_path)
    conv = folder / "conversations.jsonl"
    conv.write_text(conv.read_text() + "{broken\n")
    with pytest.raises(InputError, match=r"conversations.jsonl, line 3: invalid JSON"):
        import_prism(folder)
    conv.write_text(
        json.dumps({"conversation_id": "c9", "user_id": "ghost", "conversation_history": []}) + "\n"
    )
    with pytest.raises(InputError, match=r"line 1, column 'user_id'.*ghost"):
        import_prism(folder)
    conv.write_text(
        json.dumps(
            {
                "conversation_id": "c9",
                "user_id": "user0",
                "conversation_history": [{"turn": 0, "role": "model", "content": "x"}],
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match=r"'score' \(turn 0\) must be a number, got None"):
        import_prism(folder)
    (folder / "survey.jsonl").unlink()
    with pytest.raises(InputError, match="survey.jsonl: PRISM file not found"):
        import_prism(folder)
