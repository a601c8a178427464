"""``rounds:`` in pipeline.yaml and ``--rounds N``: the shorthand, the staged curriculum, and
errors that name the field (docs/rounds.md)."""

from __future__ import annotations

import pytest

from conftest import run_cli
from pluralign.errors import InputError
from pluralign.run.config import load_pipeline_config, parse_pipeline_config, with_rounds
from pluralign.run.demo import demo_config
from pluralign.run.pipeline import build_stages
from pluralign.run.rounds import round_stages, stop_reason

POLIS = {"inputs": {"polis": "p"}}
FULL = ("questions", "answers", "critique", "revision")


def _cfg(rounds):
    return parse_pipeline_config({**POLIS, "rounds": rounds})


def test_a_number_is_the_count_and_one_round_is_the_plain_pipeline():
    assert _cfg(3).rounds.count == 3
    assert parse_pipeline_config(POLIS).rounds.count == 1
    assert _cfg(3).rounds.steps_of(2) is None  # every step, as a one-round run


def test_the_curriculum_gives_each_round_its_steps_and_the_last_repeats():
    cfg = _cfg({"count": 3, "steps": [["answers", "questions"], list(FULL)],
                "min_improvement": 0.01})
    assert cfg.rounds.steps_of(1) == ("questions", "answers")  # in pipeline order
    assert cfg.rounds.steps_of(2) == FULL
    assert cfg.rounds.steps_of(3) == FULL
    assert cfg.rounds.min_improvement == 0.01


@pytest.mark.parametrize(("rounds", "field", "words"), [
    ({"count": 2, "steps": [["questions", "revision"]]}, "rounds", "'revision' needs 'critique'"),
    ({"count": 2, "steps": [["questions", "answers", "critique"]]}, "rounds",
     "'critique' needs 'revision'"),
    ({"count": 2, "steps": [["answers"]]}, "rounds", "needs 'questions'"),
    ({"count": 2, "steps": [["questions"]]}, "rounds", "needs 'answers'"),
    ({"count": 2, "steps": [["questions", "answers", "answers"]]}, "rounds", "twice"),
    ({"count": 1, "steps": [[], ["questions", "answers"]]}, "rounds", "count is 1"),
    ({"count": 2, "steps": [["questions", "critic"]]}, "rounds.steps.0.1", "questions"),
    ({"count": 0}, "rounds.count", "greater than or equal to 1"),
    ({"count": 2, "min_improvement": "a lot"}, "rounds.min_improvement", "number"),
    ({"count": 2, "rounds": 3}, "rounds.rounds", "Extra inputs"),
])
def test_bad_rounds_settings_name_the_field_and_the_line(tmp_path, rounds, field, words):
    import yaml

    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({**POLIS, "rounds": rounds}, sort_keys=False))
    with pytest.raises(InputError) as exc:
        load_pipeline_config(path)
    assert f"field '{field}'" in exc.value.message and words in exc.value.message
    assert exc.value.where.startswith(f"{path}, line ")


def test_round_one_of_a_simulated_input_has_no_synthesis(tmp_path):
    cfg = demo_config(tmp_path, quick=True)
    bad = cfg.model_copy(update={"rounds": _cfg({"count": 2, "steps": [list(FULL)]}).rounds})
    with pytest.raises(InputError) as exc:
        build_stages(bad)
    assert "field 'rounds.steps[0]'" in exc.value.message
    good = cfg.model_copy(update={"rounds": _cfg(
        {"count": 3, "steps": [[], [], ["questions", "answers"]]}).rounds})
    assert [s.name for s in round_stages(good, 2)] == [  # [] for round 2: no synthesis
        "round-2/model", "round-2/data", "round-2/train", "round-2/evaluate"]
    third = round_stages(good, 3)
    assert [s.name for s in third][:2] == ["round-3/model", "round-3/synth"]
    assert third[1].settings["steps"] == ["questions", "answers"]
    assert third[0].settings["previous"] == "round-2/train"  # trains from the previous round


def test_a_later_round_reads_its_own_folders_and_round_one_held_out_pairs(tmp_path):
    cfg = with_rounds(demo_config(tmp_path, quick=True), 2)
    stages = {s.name: s for s in round_stages(cfg, 2)}
    train, evaluate = stages["round-2/train"], stages["round-2/evaluate"]
    assert train.folders == {"data": "round-2/data", "model": "round-2/model"}
    # before = the run's base model ("model"), after = this round's
    assert evaluate.folders == {"data": "round-2/data", "train": "round-2/train"}
    assert "model" in evaluate.after and "data" in stages["round-2/data"].after


def test_round_one_of_a_polis_run_follows_the_curriculum(tmp_path):
    (tmp_path / "p").mkdir()
    cfg = parse_pipeline_config({"inputs": {"polis": str(tmp_path / "p")}, "rounds": {
        "count": 2, "steps": [["questions", "answers"]]}})
    synth = next(s for s in build_stages(cfg) if s.name == "synth")
    assert synth.settings["steps"] == ["questions", "answers"]
    plain = parse_pipeline_config({"inputs": {"polis": str(tmp_path / "p")}})
    assert "steps" not in next(s for s in build_stages(plain) if s.name == "synth").settings


def test_with_rounds_overrides_the_count_and_checks_it():
    cfg = _cfg({"count": 3, "steps": [["questions", "answers"], list(FULL), list(FULL)]})
    assert with_rounds(cfg, 5).rounds.count == 5
    assert with_rounds(cfg, None) is cfg
    with pytest.raises(InputError) as exc:
        with_rounds(cfg, 2)
    assert "--rounds 2" in exc.value.message and "count is 2" in exc.value.message


def test_early_stop_rule():
    rec = {"round": 2, "metrics": {"gain": 0.004}}
    assert stop_reason(rec, None) is None
    assert "+0.0040" in stop_reason(rec, 0.01) and "min_improvement = 0.01" in stop_reason(rec,
                                                                                      0.01)
    assert stop_reason(rec, 0.004) is not None  # "by more than the threshold" to go on
    assert stop_reason(rec, 0.0) is None
    assert stop_reason({"round": 2, "metrics": {"gain": -0.02}}, 0.0) is not None


def test_the_cli_rejects_a_bad_rounds_option_in_one_line(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text("inputs:\n  polis: p\nrounds: {count: 3, steps: [[questions, answers], "
                    "[questions, answers], [questions, answers]]}\n")
    out = run_cli("run", path, "--rounds", "2")
    assert out.returncode == 1 and "--rounds 2" in out.stderr and "Traceback" not in out.stderr
    zero = run_cli("run", path, "--rounds", "0")
    assert zero.returncode == 2 and "Traceback" not in zero.stderr


def test_run_rounds_is_the_pipeline_with_that_many_rounds(tmp_path, monkeypatch):
    import pluralign.run.pipeline as pipeline
    from pluralign.run.rounds import read_rounds

    seen = {}
    monkeypatch.setattr(pipeline, "run_pipeline",
                        lambda cfg, **kw: seen.update(cfg=cfg, **kw) or "result")
    cfg = demo_config(tmp_path, quick=True)
    assert pipeline.run_rounds(cfg, 3, from_stage="round-2/train") == "result"
    assert seen["cfg"].rounds.count == 3 and seen["from_stage"] == "round-2/train"
    assert read_rounds(tmp_path) is None
