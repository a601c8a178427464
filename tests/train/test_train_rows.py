"""Preference pairs as the trainers take them: one type (``PreferencePair``) and one reader of
preference JSONL (``read_jsonl``) from every source, validation, grouping, KTO unpairing."""

from __future__ import annotations

import json

import pytest

from pluralign.data.preferences import PreferencePair, PreferenceSet, to_hf_dataset
from pluralign.errors import InputError
from pluralign.train.rows import load_rows, rows_sha256


def test_rows_from_dicts_jsonl_and_prefdata_pairs(tmp_path):
    rows = [
        {
            "prompt": "Q",
            "chosen": "A",
            "rejected": "B",
            "weight": 2,
            "group": "g",
            "source": "panel",
            "provenance": {"x": 1},
        }
    ]
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n\n")
    a, b = load_rows(rows), load_rows(path)
    assert a == b and a[0].weight == 2.0 and a[0].group == "g"
    pair = PreferencePair("Q", "A", "B", 2.0, "g", "panel", {"x": 1})
    assert a == [pair]
    assert load_rows([pair]) == a
    assert load_rows(PreferenceSet(pairs=(pair,))) == a
    assert rows_sha256(a) == rows_sha256(load_rows([{**rows[0], "group": "other"}]))
    assert rows_sha256(a) != rows_sha256(load_rows([{**rows[0], "weight": 1}]))


def test_a_group_column_missing_from_a_file_names_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"__provenance__": {"kind": "test"}}\n'
        '{"prompt": "Q", "chosen": "A", "rejected": "B", "provenance": {"region": "north"}}\n\n'
        '{"prompt": "Q2", "chosen": "A", "rejected": "B"}\n'
    )
    with pytest.raises(InputError, match="no value for the group column 'region'") as err:
        load_rows(path, "region")
    assert "p.jsonl, line 4" in str(err.value)
    with pytest.raises(InputError, match="p.jsonl, line 2: no value for the group column 'group'"):
        load_rows(path, "group")
    assert [p.group for p in load_rows(path)] == ["", ""]  # without group_by no group is needed


def test_rows_from_a_hugging_face_dataset_of_pairs():
    pytest.importorskip("datasets")
    pair = PreferencePair("Q", "A", "B", 0.5, "g", "panel", {"statement_ids": [3]})
    assert load_rows(to_hf_dataset([pair])) == [pair]  # its provenance column is JSON text


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"prompt": "Q", "chosen": "A"}', "missing column 'rejected'"),
        ('{"prompt": "Q", "chosen": "", "rejected": "B"}', "'chosen' must be a non-empty"),
        ('{"prompt": "Q", "chosen": "A", "rejected": "A"}', "are the same text"),
        ('{"prompt": "Q", "chosen": "A", "rejected": "B", "weight": "heavy"}', "column 'weight'"),
        ('{"prompt": "Q", "chosen": "A", "rejected": "B", "weight": NaN}', "finite"),
        ('["not", "an", "object"]', "JSON object"),
        ("{broken", "invalid JSON"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, match):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "Q", "chosen": "A", "rejected": "B"}\n' + line + "\n")
    with pytest.raises(InputError, match=match) as err:
        load_rows(path)
    assert "p.jsonl, line 2" in str(err.value)


def test_kto_unpairing_keeps_weights_and_alternates_labels():
    pytest.importorskip("datasets")
    from pluralign.train.rows import unpaired_dataset

    rows = load_rows(
        [
            {"prompt": "Q1", "chosen": "A", "rejected": "B", "weight": 2},
            {"prompt": "Q2", "chosen": "C", "rejected": "D", "weight": 0.5},
        ]
    )
    ds = unpaired_dataset(rows, conversational=False)
    assert ds["label"] == [True, False, True, False]
    assert ds["weight"] == [2.0, 2.0, 0.5, 0.5]
    assert ds["completion"] == ["A", "B", "C", "D"]


def test_merge_duplicates_sums_weights_keeps_order_and_drops_zero():
    from pluralign.train.rows import merge_duplicates

    rows = load_rows(
        [
            {"prompt": "Q1", "chosen": "A", "rejected": "B", "weight": 1.5, "group": "x"},
            {"prompt": "Q2", "chosen": "C", "rejected": "D", "weight": 0},
            {"prompt": "Q1", "chosen": "A", "rejected": "B", "weight": 2, "group": "y"},
            {"prompt": "Q1", "chosen": "B", "rejected": "A", "weight": 1},
        ]
    )
    merged = merge_duplicates(rows)
    assert [(r.prompt, r.chosen, r.weight, r.group) for r in merged] == [
        ("Q1", "A", 3.5, "x"),
        ("Q1", "B", 1.0, ""),
    ]
