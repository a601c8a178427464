"""Preference pair schema: JSONL round trip, provenance sidecar/header, errors with line numbers,
Hugging Face datasets conversion."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.data.preferences import (
    PreferencePair,
    make_provenance,
    read_jsonl,
    sidecar_path,
    to_hf_dataset,
    write_jsonl,
)
from pluralign.errors import InputError

PAIRS = [
    PreferencePair("Hi?", "Hello!", "Go away.", 1.5, "g1", "sim", {"participant": "7"}),
    PreferencePair("Ünïcode ✓", "ja", "nein", 0.5, "g2", "prism", {}),
]


def test_round_trip_with_sidecar(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, PAIRS, make_provenance("test", inputs={}, seed=3, settings={"a": 1}))
    back = read_jsonl(path)
    assert back.pairs == tuple(PAIRS)
    assert back.provenance["seed"] == 3 and back.provenance["rows"] == 2
    assert back.provenance["groups"] == {"g1": 1, "g2": 1}
    lines = path.read_text(encoding="utf-8").splitlines()
    assert list(json.loads(lines[0])) == [
        "prompt",
        "chosen",
        "rejected",
        "weight",
        "group",
        "source",
        "provenance",
    ]
    assert sidecar_path(path).name == "p.jsonl.provenance.json"


def test_provenance_hashes_inputs(tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("x")
    prov = make_provenance("k", inputs={"src": src}, seed=1, settings={})
    assert prov["inputs"]["src"]["sha256"] == (
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
    )
    assert prov["version"] and prov["kind"] == "k"


def test_header_line_and_defaults(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"__provenance__": {"by": "llm"}}\n\n'
        '{"prompt": "p", "chosen": "a", "rejected": "b", "model": "x"}\n'
    )
    got = read_jsonl(path)
    assert got.provenance == {"by": "llm"}
    (pair,) = got.pairs
    assert (pair.weight, pair.group, pair.source) == (1.0, "", "")
    assert pair.provenance == {"model": "x"}  # unknown keys land in provenance


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"prompt": "", "chosen": "a", "rejected": "b"}', "'prompt'"),
        ('{"prompt": "p", "chosen": "a", "rejected": "a"}', "same text"),
        ('{"prompt": "p", "chosen": "a", "rejected": "b", "weight": -1}', "'weight'"),
        ('{"prompt": "p", "chosen": "a", "rejected": "b", "weight": "2"}', "'weight'"),
        ('{"prompt": "p", "chosen": "a", "rejected": "b", "weight": NaN}', "'weight'"),
        ('{"prompt": "p", "chosen": "a", "rejected": "b", "group": [1]}', "'group'"),
        ('{"prompt": "p", "chosen": "a", "rejected": "b", "provenance": 3}', "'provenance'"),
        ('{"__provenance__": {}}', "first line"),
    ],
)
def test_errors_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    good = '{"prompt": "p", "chosen": "a", "rejected": "b"}'
    path.write_text(f"{good}\n\n{line}\n")
    with pytest.raises(InputError) as err:
        read_jsonl(path)
    assert f"{path}, line 3" in str(err.value)
    assert message in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_jsonl(tmp_path / "nope.jsonl")


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.jsonl"
    path.write_text("old\n")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_jsonl(path, PAIRS)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]


def test_hf_dataset_round_trip(tmp_path):
    from pluralign.data.preferences import PreferenceSet, from_hf_dataset

    ds = to_hf_dataset(PreferenceSet(tuple(PAIRS), {"seed": 1}))
    assert ds.column_names == [
        "prompt",
        "chosen",
        "rejected",
        "weight",
        "group",
        "source",
        "provenance",
    ]
    assert ds[0]["weight"] == 1.5 and json.loads(ds[0]["provenance"]) == {"participant": "7"}
    assert json.loads(ds.info.description) == {"seed": 1}
    assert from_hf_dataset(ds) == tuple(PAIRS)


texts = st.text(min_size=1, max_size=30).filter(lambda t: t.strip())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            lambda p, c, r, w, g, s: PreferencePair(
                p, c, r + "\u2060" if r == c else r, w, g, s, {"participant": g}
            ),
            texts,
            texts,
            texts,
            st.floats(0, 1e6, allow_nan=False),
            st.text(max_size=8),
            st.sampled_from(["sim", "prism", "llm", ""]),
        ),
        max_size=20,
    )
)
def test_jsonl_round_trip_property(tmp_path_factory, pairs):
    path = tmp_path_factory.mktemp("rt") / "p.jsonl"
    write_jsonl(path, pairs)
    assert read_jsonl(path).pairs == tuple(pairs)
