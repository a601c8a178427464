"""Preference rows as the trainers read them: sources, validation, KTO unpairing."""

from __future__ import annotations

import json

import pytest

from pluralign.errors import InputError
from pluralign.train.rows import load_rows, read_rows, rows_sha256


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
    a, b = load_rows(rows), read_rows(path)
    assert a == b and a[0].weight == 2.0 and a[0].group == "g"
    data = pytest.importorskip("pluralign.data.preferences")
    pair = data.PreferencePair("Q", "A", "B", 2.0, "g", "panel")
    assert load_rows([pair]) == a
    assert load_rows(data.PreferenceSet(pairs=(pair,))) == a
    assert rows_sha256(a) == rows_sha256(load_rows([{**rows[0], "group": "other"}]))
    assert rows_sha256(a) != rows_sha256(load_rows([{**rows[0], "weight": 1}]))


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ('{"prompt": "Q", "chosen": "A"}', "missing column 'rejected'"),
        ('{"prompt": "Q", "chosen": "", "rejected": "B"}', "'chosen' must be a non-empty"),
        ('{"prompt": "Q", "chosen": "A", "rejected": "B", "weight": "heavy"}', "not a number"),
        ('{"prompt": "Q", "chosen": "A", "rejected": "B", "weight": NaN}', "finite"),
        ('["not", "an", "object"]', "JSON object"),
        ("{broken", "invalid JSON"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, line, match):
    path = tmp_path / "p.jsonl"
    path.write_text('{"prompt": "Q", "chosen": "A", "rejected": "B"}\n' + line + "\n")
    with pytest.raises(InputError, match=match) as err:
        read_rows(path)
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
