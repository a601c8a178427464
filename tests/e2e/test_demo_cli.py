"""``pluralign demo`` stages: order, determinism and ``--from`` on the cheap early stages (the
whole demo through training and the report runs in tests/pipeline/test_pipeline_demo.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pluralign.run.demo import demo_config
from pluralign.run.pipeline import build_stages
from pluralign.run.runner import run_stages


def test_demo_runs_every_stage_in_order():
    stages = build_stages(demo_config(Path("pluralign-demo")))
    names = [s.name for s in stages]
    assert names == ["simulate", "store", "summary", "panel", "aggregate", "constitution", "data",
                     "model", "train", "evaluate", "moral_graph", "report"]
    assert set(stages[-1].after) == set(names[:-1])  # the report reads every stage


def test_early_stages_are_deterministic_and_rerun_from_a_stage(tmp_path):
    early = build_stages(demo_config(tmp_path / "a", seed=3))[:3]
    first = run_stages(early, tmp_path / "a", seed=3)
    second = run_stages(build_stages(demo_config(tmp_path / "b", seed=3))[:3], tmp_path / "b",
                        seed=3)
    for name in ("truth.json", "votes.csv", "pool.csv"):
        assert (tmp_path / "a" / "simulate" / name).read_bytes() == (
            tmp_path / "b" / "simulate" / name).read_bytes()
    assert [o.fingerprint for o in first.outcomes] == [o.fingerprint for o in second.outcomes]
    summary = json.loads((tmp_path / "a" / "summary" / "summary.json").read_text())
    assert summary["participants"] == early[0].settings["simulate"]["participants"] + 1  # + mod.
    assert summary["vote_events"] >= summary["votes_counted"] > 0
    rerun = run_stages(early, tmp_path / "a", seed=3, from_stage="store")
    assert [o.status for o in rerun.outcomes] == ["skipped", "ran", "ran"]
    assert json.loads((tmp_path / "a" / "summary" / "summary.json").read_text()) == summary
    other_seed = run_stages(early, tmp_path / "a", seed=4)
    assert [o.status for o in other_seed.outcomes] == ["ran", "ran", "ran"]


def test_demo_objective_reaches_the_train_stage(tmp_path, capsys):
    from cli_inproc import run_inproc

    def train_settings(**kw):
        stages = build_stages(demo_config(tmp_path / "d", seed=0, **kw))
        return next(s for s in stages if s.name == "train").settings["train"]

    assert train_settings()["objective"] == "weighted"  # TrainSettings default
    robust = train_settings(objective="group-robust")
    assert robust["objective"] == "group-robust"
    assert robust["max_steps"] == train_settings()["max_steps"]  # the demo's other settings stay
    code, _, err = run_inproc(capsys, "demo", "--out", tmp_path / "bad", "--objective", "robust")
    assert code == 1 and "objective" in err and "group-robust" in err
    assert not (tmp_path / "bad" / "simulate").exists()  # refused before any stage ran


def test_a_resumed_run_reads_the_aggregation_back_instead_of_computing_it(tmp_path, monkeypatch):
    from pluralign.aggregate import AggregateResult
    from pluralign.constitution.stage import ConstitutionResult
    from pluralign.panel.stage import PanelResult

    stages = build_stages(demo_config(tmp_path / "run", seed=2))
    names = [s.name for s in stages]
    early = stages[: names.index("constitution") + 1]
    first = run_stages(early, tmp_path / "run", seed=2)
    fresh = first.results["aggregate"]
    assert isinstance(fresh, AggregateResult) and fresh.pca is not None
    assert isinstance(first.results["panel"], PanelResult)
    assert "panel.csv" in first.results["panel"].files
    constitution = (tmp_path / "run" / "constitution" / "constitution.yaml").read_text()

    import pluralign.aggregate.pipeline as agg

    def refuse(*args, **kwargs):
        raise AssertionError("the aggregation ran again")

    monkeypatch.setattr(agg, "_aggregate", refuse)
    again = run_stages(early, tmp_path / "run", seed=2, from_stage="constitution")
    assert again.status("aggregate") == "skipped" and again.status("constitution") == "ran"
    read = again.results["aggregate"]
    assert read.pca is None and read.summary() == fresh.summary()
    assert (tmp_path / "run" / "constitution" / "constitution.yaml").read_text() == constitution
    # every stage's result reads back from its folder (the skipped ones' on first access)
    later = run_stages(early, tmp_path / "run", seed=2)
    assert {o.status for o in later.outcomes} == {"skipped"}
    assert isinstance(later.results["constitution"], ConstitutionResult)
    assert later.results["constitution"].constitution == again.results[
        "constitution"].constitution
    assert later.results["panel"] == first.results["panel"]
