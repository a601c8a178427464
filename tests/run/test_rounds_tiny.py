"""Two rounds of ``pluralign demo --quick --rounds 2`` on the tiny model (docs/rounds.md): the
process is killed during round 2's training and run again; round 2's data is written by round 1's
model, its training starts from round 1's weights, both rounds are evaluated on the same held-out
pairs, ``rounds.json`` lists them, the report draws the curve, and ``min_improvement`` stops early.

One run (about a minute on 2 cores) serves every test of the module."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import REPO

pytest.importorskip("trl")

ROUND_ONE = ("simulate", "store", "summary", "panel", "aggregate", "constitution", "data",
             "model", "train", "evaluate", "moral_graph")


def _tensor(folder: Path, name: str = "model.layers.0.mlp.gate_proj.weight"):
    from safetensors.torch import load_file

    return load_file(str(Path(folder) / "model.safetensors"))[name]


def _kill_during_round_two_training(out: Path) -> int:
    """Start the demo in a subprocess; SIGKILL it once round 2's training has written a whole
    checkpoint (its trainer_state.json is written last). Returns the exit code."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pluralign", "demo", "--quick", "--rounds", "2", "--out",
         str(out)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    checkpoints = out / "round-2" / "train" / "checkpoints"
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if any(checkpoints.glob("checkpoint-*/trainer_state.json")):
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-3000:]
    return proc.returncode


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from pluralign.run.demo import run_demo

    out = tmp_path_factory.mktemp("rounds") / "demo"
    _kill_during_round_two_training(out)
    killed = json.loads((out / "rounds.json").read_text())
    first_manifests = {n: (out / n / "manifest.json").stat().st_mtime_ns for n in ROUND_ONE}
    starts: dict[str, object] = {}
    with pytest.MonkeyPatch.context() as mp:
        import pluralign.train as train_pkg

        real = train_pkg.train_preferences

        def recording(data, model_dir, config, out_dir, **kw):
            starts[Path(out_dir).relative_to(out).as_posix()] = _tensor(model_dir).clone()
            return real(data, model_dir, config, out_dir, **kw)

        mp.setattr(train_pkg, "train_preferences", recording)
        result = run_demo(out, quick=True, rounds=2)
    return SimpleNamespace(out=out, killed=killed, first_manifests=first_manifests,
                           starts=starts, result=result,
                           rounds=json.loads((out / "rounds.json").read_text()))


@pytest.mark.slow
def test_a_round_killed_during_training_resumes_and_round_one_is_untouched(run):
    assert run.killed["completed"] == 1 and [r["round"] for r in run.killed["rounds"]] == [1]
    status = {o.name: o.status for o in run.result.outcomes}
    assert all(status[n] == "skipped" for n in ROUND_ONE), status
    assert [status[f"round-2/{n}"] for n in ("model", "synth", "data")] == ["skipped"] * 3
    assert status["round-2/train"] == status["round-2/evaluate"] == "ran"
    assert {n: (run.out / n / "manifest.json").stat().st_mtime_ns
            for n in ROUND_ONE} == run.first_manifests
    summary = json.loads((run.out / "round-2" / "train" / "summary.json").read_text())
    assert summary["resumed"] is True and summary["steps"] == 30
    assert list(run.starts) == ["round-2/train"]  # round 1's training did not run again
    # the skipped round-2 stages' results are read back from their folders, equal to what
    # their run gives
    from pluralign.data.settings import RoundDataSettings
    from pluralign.data.stage import ROUND, RoundDataInputs
    from pluralign.llm.stage import SynthResult
    from pluralign.models.settings import TunedModelSettings
    from pluralign.models.stage import TUNED, TunedModelInputs

    results = run.result.results
    assert results["round-2/model"] == TUNED.run(
        TunedModelInputs(run.out / "train" / "model", "train"), TunedModelSettings(round=2), 0)
    assert results["round-2/data"] == ROUND.run(
        RoundDataInputs(run.out / "data", run.out / "round-2" / "synth" / "pairs.jsonl"),
        RoundDataSettings(round=2), 0)
    assert results["round-2/synth"] == SynthResult.read(run.out / "round-2" / "synth")
    assert results["round-2/synth"].usage["generator_sha256"]


@pytest.mark.slow
def test_round_two_is_synthesised_by_round_one_model(run):
    from pluralign.models import model_info

    first, second = run.rounds["rounds"]
    assert second["generator"] == first["model"] == str((run.out / "train" / "model").resolve())
    usage = json.loads((run.out / "round-2" / "synth" / "usage.json").read_text())
    assert usage["requests"] > 0  # the tiny model's texts fail the gates, but it was asked
    sha = model_info(run.out / "train" / "model")["sha256"]
    assert usage["generator_sha256"] == sha
    assert (run.out / "llm-cache" / f"model-{sha[:16]}").is_dir()
    assert first["generator"] is None  # round 1 of the demo: the simulated panel's choices


@pytest.mark.slow
def test_round_two_trains_from_round_one_weights(run):
    import torch

    start = run.starts["round-2/train"]
    assert torch.equal(start, _tensor(run.out / "train" / "model"))
    base = json.loads((run.out / "model" / "model.json").read_text())["path"]
    assert not torch.equal(start, _tensor(base))
    manifest = json.loads((run.out / "round-2" / "train" / "train_manifest.json").read_text())
    assert manifest["base_model"] == str((run.out / "train" / "model").resolve())
    assert not torch.equal(_tensor(run.out / "round-2" / "train" / "model"), start)


@pytest.mark.slow
def test_both_rounds_are_evaluated_on_the_same_held_out_pairs(run):
    from pluralign.io import sha256_file

    held = [run.out / "data" / "heldout.jsonl", run.out / "round-2" / "data" / "heldout.jsonl"]
    assert sha256_file(held[0]) == sha256_file(held[1])
    train2 = [json.loads(x) for x in (run.out / "round-2" / "data" / "train.jsonl").open()]
    prompts = {json.loads(x)["prompt"] for x in held[0].open()}
    assert train2 and not {p["prompt"] for p in train2} & prompts
    first, second = run.rounds["rounds"]
    # the same base model on the same pairs: the same "before"
    assert first["metrics"]["accuracy_before"] == second["metrics"]["accuracy_before"]
    metrics = json.loads((run.out / "round-2" / "evaluate" / "metrics.json").read_text())
    all_pairs = next(o for o in metrics["overall"] if o["subset"] == "all")
    assert all_pairs["after"] == second["metrics"]["accuracy"]
    assert all_pairs["n"] == second["pairs"]["heldout"] == first["pairs"]["heldout"]


@pytest.mark.slow
def test_rounds_json_lists_each_round(run):
    data = run.rounds
    assert data["format"] == "pluralign.rounds/1" and data["count"] == 2
    assert data["completed"] == 2 and data["stopped"] is None
    first, second = data["rounds"]
    assert [first["dir"], second["dir"]] == [".", "round-2"]
    assert second["base"] == first["model"]
    assert second["model"] == str((run.out / "round-2" / "train" / "model").resolve())
    assert first["base"] == json.loads((run.out / "model" / "model.json").read_text())["path"]
    assert second["metrics"]["gain"] == pytest.approx(
        second["metrics"]["accuracy"]["estimate"] - first["metrics"]["accuracy"]["estimate"])
    assert first["metrics"]["gain"] == pytest.approx(
        first["metrics"]["accuracy"]["estimate"] - first["metrics"]["accuracy_before"]["estimate"])
    assert second["steps"] == ["questions", "answers", "critique", "revision"]
    train_lines = sum(1 for _ in (run.out / "round-2" / "data" / "train.jsonl").open())
    assert second["pairs"]["train"] == train_lines and second["seconds"] > 0


@pytest.mark.slow
def test_min_improvement_stops_after_a_round_that_did_not_gain_enough(run):
    from pluralign.run.config import RoundsSettings
    from pluralign.run.demo import demo_config
    from pluralign.run.pipeline import run_pipeline

    cfg = demo_config(run.out, quick=True, rounds=3)
    # a gain over the base of at most 0.5 (accuracy <= 1, before = 0.5) never exceeds 0.6
    stop = cfg.model_copy(update={"rounds": RoundsSettings(count=3, min_improvement=0.6)})
    try:
        result = run_pipeline(stop)
        data = json.loads((run.out / "rounds.json").read_text())
        assert data["completed"] == 1 and data["stopped"]["after_round"] == 1
        assert "min_improvement = 0.6" in data["stopped"]["reason"]
        names = [o.name for o in result.outcomes]
        assert "round-2/train" not in names and names[-1] == "report"
        assert not (run.out / "round-3").exists()
    finally:  # leave the module's run as the other tests expect it
        run_pipeline(demo_config(run.out, quick=True, rounds=2))


@pytest.mark.slow
def test_the_report_draws_the_rounds_and_shows_the_last_round(run):
    html = (run.out / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="rounds"'):]
    section = section[: section.index("</section>")]
    assert "data:image/png;base64," in section and "rounds.json" in section
    assert "train/model" in section  # round 2's data was written by round 1's model
    # the per-group section reads the last round's evaluation
    assert "round-2/evaluate/metrics.json" in html
