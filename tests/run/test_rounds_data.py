"""A later round's data stage (docs/rounds.md): round 1's held-out pairs copied unchanged, the
round's synthesis plus round 1's pairs from people (never its synthesised ones), no held-out
prompt trained on, weights of mean 1; a round with nothing to train on is a clear error."""

from __future__ import annotations

import pytest

from pluralign.data.preferences import PreferencePair, read_jsonl, write_jsonl
from pluralign.data.settings import RoundDataSettings
from pluralign.data.stage import ROUND, DataResult
from pluralign.errors import InputError
from pluralign.io import sha256_file
from pluralign.run.gather import round_data_inputs
from pluralign.run.runner import StageContext, spec_stage


def _pair(prompt, source, weight=1.0):
    return PreferencePair(prompt, f"yes to {prompt}", f"no to {prompt}", weight, "g", source)


def _run(tmp_path, synth_pairs, keep_people=True, synth=True):
    run = tmp_path / "run"
    write_jsonl(run / "data" / "train.jsonl", [
        _pair("people 1", "sim", 0.5), _pair("people 2", "sim", 1.5),
        _pair("old synth", "synth:critique-revision")])
    write_jsonl(run / "data" / "heldout.jsonl", [_pair("held 1", "sim"), _pair("held 2", "sim")])
    write_jsonl(run / "round-2" / "synth" / "pairs.jsonl", synth_pairs)
    out = run / "round-2" / "data"
    out.mkdir(parents=True)
    stage = spec_stage(ROUND, RoundDataSettings(round=2, keep_people=keep_people),
                       round_data_inputs, wiring={"synth": synth}, name="round-2/data",
                       folders={"synth": "round-2/synth"})
    result = stage.run(StageContext(stage.name, run, out, 0, dict(stage.settings), {},
                                    dict(stage.folders)))
    assert DataResult.read(out) == result  # what a resumed round reads back
    return run, out


def test_the_round_trains_on_its_synthesis_and_the_people_never_on_held_out_prompts(tmp_path):
    run, out = _run(tmp_path, [_pair("new 1", "synth:instructed", 1.0),
                               _pair("held 1", "synth:instructed", 1.0)])
    for name in ("heldout.jsonl", "heldout.jsonl.provenance.json"):  # round 1's, unchanged
        assert sha256_file(out / name) == sha256_file(run / "data" / name)
    train = read_jsonl(out / "train.jsonl").pairs
    assert sorted(p.prompt for p in train) == ["new 1", "people 1", "people 2"]
    weights = {p.prompt: p.weight for p in train}
    assert sum(weights.values()) == pytest.approx(3.0)  # mean 1
    assert weights["people 2"] == pytest.approx(3 * weights["people 1"])  # ratios kept
    assert set(read_jsonl(out / "train.jsonl").provenance["inputs"]) == {"synth", "people"}


def test_without_the_people_only_the_round_synthesis_is_trained_on(tmp_path):
    _, out = _run(tmp_path, [_pair("new 1", "synth:instructed")], keep_people=False)
    assert [p.prompt for p in read_jsonl(out / "train.jsonl").pairs] == ["new 1"]


def test_a_round_with_nothing_to_train_on_says_so(tmp_path):
    with pytest.raises(InputError) as exc:
        _run(tmp_path, [_pair("held 2", "synth:instructed")], keep_people=False)
    assert "round 2 has no training pairs" in exc.value.message
    assert "rounds.keep_people" in exc.value.message


def test_a_round_without_synthesis_trains_on_the_people_only(tmp_path):
    _, out = _run(tmp_path, [_pair("new 1", "synth:instructed")], synth=False)
    train = read_jsonl(out / "train.jsonl")
    assert sorted(p.prompt for p in train.pairs) == ["people 1", "people 2"]
    assert set(train.provenance["inputs"]) == {"people"}
    assert train.provenance["settings"] == {"round": 2, "keep_people": True}


def test_the_round_settings_are_checked_and_pipeline_yaml_takes_their_default():
    from pluralign.run.config import RoundsSettings

    assert RoundsSettings().keep_people is RoundDataSettings().keep_people
    with pytest.raises(InputError, match="field 'rounds.round'"):
        RoundDataSettings(round=1)
