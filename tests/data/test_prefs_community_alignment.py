"""Community Alignment importer on hand-written fixtures in the dataset's published schema
(CSV and the same columns as JSON Lines), and its errors naming file, line and column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pluralign.data.community_alignment import import_community_alignment, read_rows
from pluralign.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "community_alignment"
CSV = FIXTURES / "community_alignment.csv"


def test_best_vs_rest_pairs_with_history_groups_and_weights():
    pairs = import_community_alignment(CSV)
    # c1/u1: 3 + 3, c1/u2: 3 + 3, c2/u3: 3 (turn 2 has no choice), c3/u1: 1 (a duplicate text
    # and an empty candidate are no pairs)
    assert len(pairs) == 16
    first = pairs[0]
    assert first.prompt == "How should a family split the housework?"
    assert first.chosen == "Everyone does an equal share, whatever their age."
    assert first.weight == pytest.approx(1 / 3) and first.source == "community_alignment"
    assert first.group == "United States"
    prov = first.provenance
    assert prov["participant"] == "u1" and prov["conversation_id"] == "c1" and prov["turn"] == 0
    assert (prov["chosen_response"], prov["rejected_response"]) == ("a", "b")
    assert prov["feedback"] == "Fairness matters to me."
    assert prov["demographics"]["political"] == "Left" and prov["demographics"]["language"] == "en"
    assert prov["pregenerated_first_prompt"] is True
    assert {p.rejected for p in pairs[:3]} >= {
        "Hire help if you can afford it.\nThen nobody argues."
    }
    second = pairs[3]
    assert second.prompt == (
        "User: How should a family split the housework?\n"
        "Assistant: Everyone does an equal share, whatever their age.\n"
        "User: And if one partner works longer hours?"
    )
    assert second.chosen == "Talk it through every week." and second.provenance["turn"] == 1
    # many annotators per prompt: u2 chose otherwise on the same candidates
    u2 = [p for p in pairs if p.provenance["participant"] == "u2"]
    assert u2[0].chosen == "Parents decide; children help when they can." and u2[0].group == "India"
    french = [p for p in pairs if p.provenance["language"] == "fr"]
    assert len(french) == 3 and french[0].chosen == "Cela dépend de la ville."
    assert "ethnicity" not in french[0].provenance["demographics"]  # empty values left out
    c3 = [p for p in pairs if p.provenance["conversation_id"] == "c3"]
    assert [(p.chosen, p.rejected, p.weight) for p in c3] == [("Yes.", "No.", 1.0)]
    # every annotator choice weighs 1 in total
    choices: dict[tuple, float] = {}
    for p in pairs:
        key = (p.provenance["participant"], p.provenance["conversation_id"], p.provenance["turn"])
        choices[key] = choices.get(key, 0.0) + p.weight
    assert all(v == pytest.approx(1.0) for v in choices.values()) and len(choices) == 6


def test_options_and_the_jsonl_form():
    assert len(import_community_alignment(CSV, languages=["fr"])) == 3
    assert len(import_community_alignment(CSV, pregenerated_only=True)) == 13
    assert len(import_community_alignment(CSV, max_turn=0)) == 10
    no_history = import_community_alignment(CSV, history=False)
    assert no_history[3].prompt == "And if one partner works longer hours?"
    by_politics = import_community_alignment(CSV, group_by="political")
    assert [p.group for p in by_politics[:1]] == ["Left"]
    with pytest.raises(InputError, match="unknown annotator feature"):
        import_community_alignment(CSV, group_by="height")
    from_jsonl = import_community_alignment(FIXTURES / "community_alignment.jsonl")
    assert [p.to_dict() for p in from_jsonl] == [
        p.to_dict() for p in import_community_alignment(CSV)
    ]


def test_record_lines_count_quoted_newlines():
    lines = [line for line, _ in read_rows(CSV)]
    assert lines == [2, 4, 6, 7]  # the first two records hold a response with a line break


def _edited(tmp_path, edit) -> Path:
    with CSV.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows, fields = list(reader), reader.fieldnames
    edit(rows)
    out = tmp_path / "ca.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return out


@pytest.mark.parametrize(
    ("edit", "message", "where"),
    [
        (
            lambda rows: rows[1].update(first_turn_preferred_response="e"),
            "not one of a, b, c, d",
            "line 4, column 'first_turn_preferred_response'",
        ),
        (
            lambda rows: rows[2].update(first_turn_response_d=""),
            "preferred response 'd' is empty",
            "line 6, column 'first_turn_response_d'",
        ),
        (lambda rows: rows[3].update(annotator_id=""), "missing 'annotator_id'", "line 7"),
        (
            lambda rows: rows[0].update(is_pregenerated_first_prompt="maybe"),
            "expected true or false",
            "line 2, column 'is_pregenerated_first_prompt'",
        ),
    ],
)
def test_bad_rows_name_file_line_and_column(tmp_path, edit, message, where):
    path = _edited(tmp_path, edit)
    with pytest.raises(InputError, match=message) as exc:
        import_community_alignment(path)
    assert f"ca.csv, {where}" in str(exc.value)


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="not found"):
        import_community_alignment(tmp_path / "none.csv")
    other = tmp_path / "other.csv"
    other.write_text("prompt,chosen\nx,y\n")
    with pytest.raises(InputError, match="no column 'conversation_id'") as exc:
        import_community_alignment(other)
    assert "other.csv, line 1" in str(exc.value)
    extra = tmp_path / "extra.csv"
    header = CSV.read_text(encoding="utf-8").splitlines()[0]
    extra.write_text(header + "\n" + ",".join(["x"] * (header.count(",") + 3)) + "\n")
    with pytest.raises(InputError, match="more fields than the header") as exc:
        import_community_alignment(extra)
    assert "extra.csv, line 2" in str(exc.value)
    bad_json = tmp_path / "ca.jsonl"
    bad_json.write_text(
        json.dumps(
            {
                "conversation_id": "c",
                "annotator_id": "u",
                "first_turn_prompt": "p",
                "first_turn_preferred_response": "x",
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match="not one of a, b, c, d") as exc:
        import_community_alignment(bad_json)
    assert "ca.jsonl, line 1" in str(exc.value)


def test_cli_import(tmp_path, capsys):
    from cli_inproc import run_inproc

    out = tmp_path / "ca.jsonl"
    code, stdout, err = run_inproc(
        capsys,
        "data",
        "import-community-alignment",
        CSV,
        "--out",
        out,
        "--group-by",
        "language",
        "--language",
        "en",
    )
    assert code == 0, err
    assert "13 pairs from 2 annotators" in stdout
    from pluralign.data.preferences import read_jsonl

    prefs = read_jsonl(out)
    assert {p.group for p in prefs.pairs} == {"en"}
    assert "CC BY 4.0" in prefs.provenance["license"]
    code, _, err = run_inproc(
        capsys, "data", "import-community-alignment", tmp_path / "no.csv", "--out", out
    )
    assert code == 1 and "not found" in err and "Traceback" not in err
