"""The demo end to end through the real CLI: panel → … → weighted DPO → evaluation → report.

Asserts the claim of the demo: on held-out prompts where the panel broadly agrees (the
simulator's consensus statements), the trained model's preference accuracy beats the untrained
one in every group — every opinion group, latent group and demographic group."""

from __future__ import annotations

import json
import re

import pytest

from conftest import run_cli

pytest.importorskip("trl")

SECTIONS = ("Run", "Panel composition", "Selection probabilities", "Opinion map",
            "Consensus statements", "Constitution", "Moral graph", "Training",
            "Per-group accuracy", )


def _statuses(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"│ (\w+)\s+│ (ran|skipped)\s+│", stdout))


@pytest.mark.slow
def test_demo_end_to_end_trains_towards_consensus_in_every_group(tmp_path):
    out = tmp_path / "demo"
    first = run_cli("demo", "--out", out, "--seed", "0")
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.strip().splitlines()[-1].endswith("report.html")
    assert set(_statuses(first.stdout).values()) == {"ran"}

    metrics = json.loads((out / "evaluate" / "metrics.json").read_text())
    consensus = [g for g in metrics["groups"] if g["subset"] == "consensus"]
    groupings = {g["grouping"] for g in consensus}
    assert {"group", "latent", "demographic:age_band", "demographic:gender"} <= groupings
    for g in consensus:
        assert g["after"]["estimate"] > g["before"]["estimate"], g
    assert any(o["subset"] == "divisive" for o in metrics["overall"])  # shown, side by side
    pairs = [json.loads(line) for line in (out / "data" / "train.jsonl").open()]
    weights = [p["weight"] for p in pairs]
    assert len(set(weights)) > 1 and abs(sum(weights) / len(weights) - 1) < 1e-6  # soft weights
    panel = (out / "panel" / "report.json").read_text()
    assert json.loads(panel)["method"] == "leximin"

    html = (out / "report.html").read_text()
    for title in SECTIONS:
        assert title in html, title
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)  # self-contained
    assert "data:image/png;base64," in html

    again = run_cli("demo", "--out", out, "--seed", "0")
    assert again.returncode == 0, again.stderr[-3000:]
    assert set(_statuses(again.stdout).values()) == {"skipped"}

    before_train = json.loads((out / "train" / "manifest.json").read_text())["started"]
    rerun = run_cli("demo", "--out", out, "--seed", "0", "--from", "train")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    status = _statuses(rerun.stdout)
    order = list(status)
    cut = order.index("train")
    assert all(status[n] == "skipped" for n in order[:cut])
    assert all(status[n] == "ran" for n in order[cut:])
    assert json.loads((out / "train" / "manifest.json").read_text())["started"] >= before_train
    assert json.loads((out / "evaluate" / "metrics.json").read_text())["groups"] == \
        metrics["groups"]  # same seed, same result
