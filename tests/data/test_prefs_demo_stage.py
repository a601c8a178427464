"""The demo stage functions of preference data, evaluation and report, through the stage runner."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
from prefs_simfixture import pool_id, write_sim

from pluralign.data.preferences import read_jsonl
from pluralign.run.runner import Stage, run_stages


def test_stages_prefs_evaluate_report(tmp_path, monkeypatch):
    from pluralign.data.prefs_demo import stage_prefs
    from pluralign.evaluate.demo import stage_evaluate
    from pluralign.report.demo import stage_report

    run = tmp_path / "run"
    write_sim(run / "simulate", n=20)
    (run / "panel").mkdir()
    (run / "panel" / "panel.csv").write_text(
        "id,gender,probability,weight\n"
        + "".join(f"{pool_id(i)},woman,0.5,{1 + i % 2}\n" for i in range(10))
    )
    for d in ("train/model", "train/base"):
        (run / d).mkdir(parents=True)

    def preference_margins(model_dir, ref_model_dir, rows, beta=0.1):
        return np.asarray(
            [
                1.0 if "I am for" in r["chosen"] else -1.0
                for r in rows
            ]
        )

    def pair_logps(model_dir, rows, **kwargs):
        # The trained model prefers "I am for" replies; the base model has no preference.
        trained = str(model_dir).endswith("model")
        chosen = np.asarray(
            [(1.0 if "I am for" in r["chosen"] else -1.0) if trained else 0.0 for r in rows]
        )
        return chosen, np.zeros(len(rows))

    fake = types.ModuleType("pluralign.train")
    fake.preference_margins = preference_margins
    fake.pair_logps = pair_logps
    monkeypatch.setitem(sys.modules, "pluralign.train", fake)

    def noop(ctx):
        pass

    stages = [
        Stage("simulate", noop),
        Stage("panel", noop),
        Stage("data", stage_prefs, settings={"weighting": "auto"}, after=("simulate", "panel")),
        Stage("evaluate", stage_evaluate, settings={"n_boot": 50}, after=("data",)),
        Stage("report", stage_report, after=("evaluate",)),
    ]
    run_stages(stages, run, seed=1)
    train = read_jsonl(run / "data" / "train.jsonl")
    assert train.provenance["settings"]["weighting"] == "soft"
    assert {p.provenance["participant"] for p in train.pairs} == {pool_id(i) for i in range(10)}
    metrics = json.loads((run / "evaluate" / "metrics.json").read_text())
    consensus = next(g for g in metrics["overall"] if g["subset"] == "consensus")
    assert consensus["after"]["estimate"] > 0.5 and consensus["before"]["estimate"] == 0.5
    html = (run / "report.html").read_text()
    assert 'id="evaluation"' in html and 'id="panel"' in html
