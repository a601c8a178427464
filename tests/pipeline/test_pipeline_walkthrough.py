"""docs/walkthrough.md, run as documented: a real Polis conversation (Brexit Consensus), a made-up
volunteer pool with quotas, the tiny local model through the LLM synthesis, training and the
report; then a killed synthesis and a killed training resume without repeating LLM requests."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import REPO, run_cli

pytest.importorskip("trl")


def _statuses(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"│ (\w+)\s+│ (ran|skipped)\s+│", stdout))


def _requests(run) -> int:
    lines = (run / "llm-usage.jsonl").read_text().splitlines()
    return sum(json.loads(line)["requests"] for line in lines)


@pytest.mark.slow
def test_walkthrough_runs_and_resumes(tmp_path, polis_dir):
    work = tmp_path / "brexit"
    shutil.copytree(REPO / "examples" / "walkthrough", work)  # step 1 of the walkthrough
    shutil.copytree(polis_dir / "brexit-consensus", work / "polis")
    yaml = work / "pipeline.yaml"
    run = work / "run"

    first = run_cli("run", yaml)
    assert first.returncode == 0, first.stderr[-3000:]
    status = _statuses(first.stdout)
    assert list(status) == ["panel", "aggregate", "constitution", "model", "synth", "data",
                            "train", "evaluate", "report"]
    assert set(status.values()) == {"ran"}
    assert first.stdout.strip().splitlines()[-1].endswith("report.html")
    usage = json.loads((run / "synth" / "usage.json").read_text())
    assert usage["requests"] > 0
    # the tiny model writes noise: the quality gates check every candidate and say why they
    # reject one (docs/llm.md); what passes becomes a pair whose answers are not its prompt
    questions = usage["gates"]["question"]
    assert questions["checked"] > 0 and questions["kept"] >= usage["questions"]
    assert sum(questions["by_reason"].values()) == questions["rejected"]
    synthesised = [json.loads(x) for x in (run / "synth" / "pairs.jsonl").open()]
    assert len(synthesised) == usage["pairs"]
    assert all(p["chosen"] != p["rejected"] != p["prompt"] for p in synthesised)
    sent = _requests(run)
    panel = (run / "panel" / "panel.csv").read_text().splitlines()
    assert len(panel) == 1 + 24
    clauses = (run / "constitution" / "constitution.yaml").read_text()
    assert "Northern Ireland" in clauses  # a cross-group consensus statement of the conversation
    train = [json.loads(x) for x in (run / "data" / "train.jsonl").open()]
    held = [json.loads(x) for x in (run / "data" / "heldout.jsonl").open()]
    assert train and held and not {p["prompt"] for p in train} & {p["prompt"] for p in held}
    html = (run / "report.html").read_text()
    for title in ("Panel composition", "Opinion map", "Constitution", "Training",
                  "Per-group accuracy"):
        assert title in html

    # a run killed during the synthesis (no manifest): it runs again, sending no request
    (run / "synth" / "manifest.json").unlink()
    again = run_cli("run", yaml)
    assert again.returncode == 0, again.stderr[-3000:]
    status = _statuses(again.stdout)
    assert status.pop("synth") == "ran" and set(status.values()) == {"skipped"}
    assert json.loads((run / "synth" / "usage.json").read_text())["requests"] == 0
    assert _requests(run) == sent

    # a run killed during training, after its first checkpoint: training resumes from it
    train_dir = run / "train"
    (train_dir / "manifest.json").unlink()
    shutil.rmtree(train_dir / "model")
    checkpoints = sorted(train_dir.glob("checkpoints/checkpoint-*"),
                         key=lambda p: int(p.name.split("-")[1]))
    shutil.rmtree(checkpoints[-1])
    resumed = run_cli("run", yaml)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    status = _statuses(resumed.stdout)
    assert status["train"] == "ran" and status["synth"] == "skipped"
    summary = json.loads((train_dir / "summary.json").read_text())
    assert summary["resumed"] is True and summary["steps"] == 8
    steps = [json.loads(x)["step"] for x in (train_dir / "curve.jsonl").open()]
    assert steps == sorted(set(steps)) and steps[-1] == 8  # no step logged twice

    # --from synth: the synthesis starts clean, every answer comes from the request cache
    fresh = run_cli("run", yaml, "--from", "synth")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    status = _statuses(fresh.stdout)
    assert [status[n] for n in ("panel", "aggregate", "constitution", "model")] == ["skipped"] * 4
    assert all(status[n] == "ran" for n in ("synth", "data", "train", "evaluate", "report"))
    usage = json.loads((run / "synth" / "usage.json").read_text())
    assert usage["requests"] == 0 and usage["cache_hits"] > 0
    assert _requests(run) == sent
