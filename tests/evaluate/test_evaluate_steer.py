"""Steerable pluralism: steering lines, views, the steered-vs-unsteered evaluation, and a
group-conditioned model that serves two conflicting groups when steered."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from pluralign.data.simprefs import simulator_views
from pluralign.data.steer import load_views, steer_prompt, steer_rows
from pluralign.errors import InputError

sys.path.insert(0, str(Path(__file__).parents[1] / "train"))

VIEWS = {"many": "Careful answers that weigh everyone's needs.", "few": "Short, blunt answers."}


def test_views_and_steered_rows(tmp_path):
    sim = simulator_views()
    assert set(sim) == {"cautious", "autonomy", "fairness", "tradition"}
    assert sim["fairness"].startswith("Fairness and inclusion: AI must not harm")
    path = tmp_path / "views.yaml"
    path.write_text("a: first view\nb: |\n  second\n  view\n")
    assert load_views(path) == {"a": "first view", "b": "second view"}
    rows = [
        {
            "prompt": "Q?",
            "chosen": "x",
            "rejected": "y",
            "group": "b",
            "provenance": {"participant": "p1"},
        }
    ]
    out = steer_rows(rows, load_views(path), "group")
    assert out[0]["prompt"] == "The person asking holds this view: second view\nQ?"
    assert out[0]["prompt"] == steer_prompt("Q?", "second view")
    assert out[0]["provenance"] == {
        "participant": "p1",
        "steered": {"grouping": "group", "group": "b"},
    }
    assert rows[0]["prompt"] == "Q?"  # the input is not changed
    with pytest.raises(InputError, match="no view for group"):
        steer_rows(rows, {"a": "x"}, "group")
    for bad, match in (("a: ''\n", "non-empty"), ("[1, 2]\n", "mapping")):
        path.write_text(bad)
        with pytest.raises(InputError, match=match):
            load_views(path)
    with pytest.raises(InputError, match="not found"):
        load_views(tmp_path / "none.yaml")


@pytest.mark.slow
def test_group_conditioned_model_serves_both_groups_when_steered(tmp_path, capsys):
    """Two groups prefer opposite replies on the same prompts. Trained on steered prompts
    (``pluralign data steer``), the model serves each group when told its view, which no
    unsteered model can do for both."""
    pytest.importorskip("trl")
    from test_train_group_robust_run import FAST, conflicting_rows
    from trainkit import tiny_model_dir

    from cli_inproc import run_inproc
    from pluralign.data.preferences import PreferencePair, write_jsonl
    from pluralign.evaluate.steer import evaluate_steering
    from pluralign.train import train_preferences

    rows = [{**r, "weight": 1.0} for r in conflicting_rows()]
    data = write_jsonl(tmp_path / "prefs.jsonl", [PreferencePair.from_dict(r) for r in rows])
    views = tmp_path / "views.json"
    views.write_text(json.dumps(VIEWS))
    code, _, err = run_inproc(
        capsys, "data", "steer", data, "--views", views, "--out", tmp_path / "steered.jsonl"
    )
    assert code == 0, err
    cfg = {**FAST, "per_device_train_batch_size": 12, "max_steps": 12}
    model = train_preferences(
        tmp_path / "steered.jsonl", tiny_model_dir(), cfg, tmp_path / "run"
    ).model_dir
    res = evaluate_steering(
        model, rows, VIEWS, "group", ref_dir=tiny_model_dir(), beta=1.0, n_boot=100
    )
    for group in ("few", "many"):
        score = res.score("all", "group", group)
        assert score.after.estimate == 1.0  # steered: every pair of the group right
    unsteered = {g: res.score("all", "group", g).before.estimate for g in ("few", "many")}
    worse = min(unsteered, key=unsteered.get)
    assert unsteered[worse] <= 0.5  # without the view the two groups cannot both be served
    assert res.score("all", "group", worse).improvement.estimate >= 0.5
    assert np.isfinite(res.score("all", "all", "all").improvement.low)
    # the same from the CLI: metrics.json with unsteered as before and steered as after
    out = tmp_path / "steer"
    code, printed, err = run_inproc(
        capsys,
        "evaluate",
        "--data",
        data,
        "--model",
        model,
        "--ref",
        tiny_model_dir(),
        "--steer",
        views,
        "--steer-by",
        "group",
        "--beta",
        1,
        "--n-boot",
        100,
        "--out",
        out,
    )
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    got = {g["group"]: (g["before"]["estimate"], g["after"]["estimate"]) for g in metrics["groups"]}
    assert got == {
        g: (
            res.score("all", "group", g).before.estimate,
            res.score("all", "group", g).after.estimate,
        )
        for g in ("few", "many")
    }
    assert metrics["provenance"]["settings"]["after"] == "steered" and "unsteered" in printed
    code, _, err = run_inproc(capsys, "evaluate", "--data", data, "--steer", views, "--out", out)
    assert code == 1 and "--steer needs --model" in err
