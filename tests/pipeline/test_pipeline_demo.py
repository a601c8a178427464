"""``pluralign demo --quick`` end to end through the real CLI: panel → … → weighted DPO →
evaluation → report, with the tiny random model (the plumbing; the default demo on the embedded
model takes minutes, too long for the suite: its figures are measured by hand, docs/evaluation.md).

Asserts the claim of the demo: on held-out prompts where the panel broadly agrees (the
simulator's consensus statements) and where it broadly rejects the statement (consensus-against),
the trained model's preference accuracy beats the untrained one in every group — every opinion
group, latent group and demographic group with at least MIN_PAIRS held-out pairs."""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import run_cli

pytest.importorskip("trl")

SECTIONS = ("Run", "Panel composition", "Selection probabilities", "Opinion map",
            "Consensus statements", "Constitution", "Moral graph", "Training",
            "Per-group accuracy", )


MIN_PAIRS = 5


def _statuses(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"│ (\w+)\s+│ (ran|skipped)\s+│", stdout))


@pytest.mark.slow
def test_demo_end_to_end_trains_towards_consensus_in_every_group(tmp_path):
    out = tmp_path / "demo"
    old_mask = os.umask(0o022)
    try:
        first = run_cli("demo", "--quick", "--out", out, "--seed", "0")
    finally:
        os.umask(old_mask)
    assert first.returncode == 0, first.stderr[-3000:]
    # every output honours the umask (022: readable by group and others), none left 0600
    private = [str(p.relative_to(out)) for p in out.rglob("*")
               if p.is_file() and p.stat().st_mode & 0o044 != 0o044]
    assert not private, private
    assert first.stdout.strip().splitlines()[-1].endswith("report.html")
    assert set(_statuses(first.stdout).values()) == {"ran"}

    metrics = json.loads((out / "evaluate" / "metrics.json").read_text())
    consensus = [g for g in metrics["groups"] if g["subset"] == "consensus"]
    groupings = {g["grouping"] for g in consensus}
    assert {"group", "latent", "demographic:age_band", "demographic:gender"} <= groupings
    # Both directions of agreement: prompts every group endorses AND prompts every group rejects.
    # Training used to learn "prefer the agreeing side" (consensus-against fell to ~0.16). Groups
    # with fewer than MIN_PAIRS held-out pairs are left out: there a single dissenter's choice
    # (e.g. 1 pair, accuracy 0 or 1) decides the estimate, and its interval is degenerate.
    for subset in ("consensus", "consensus-against"):
        rows = [g for g in metrics["groups"] if g["subset"] == subset]
        assert rows, subset
        for g in rows:
            if g["n"] >= MIN_PAIRS:
                assert g["after"]["estimate"] > g["before"]["estimate"], g
        overall = next(o for o in metrics["overall"] if o["subset"] == subset)
        assert overall["improvement"]["low"] > 0, overall  # the whole interval above "before"
    assert any(o["subset"] == "divisive" for o in metrics["overall"])  # shown, side by side
    assert any(g["subset"] == "divisive" for g in metrics["groups"])  # per group too
    pairs = [json.loads(line) for line in (out / "data" / "train.jsonl").open()]
    weights = [p["weight"] for p in pairs]
    assert len(set(weights)) > 1 and abs(sum(weights) / len(weights) - 1) < 1e-6  # soft weights
    # stance-balanced: the agreeing and the disagreeing response win with equal total weight
    side = {c: sum(p["weight"] for p in pairs if p["provenance"]["choice"] == c)
            for c in ("agree", "disagree")}
    assert abs(side["agree"] - side["disagree"]) < 1e-6 * len(pairs), side
    model = json.loads((out / "model" / "model.json").read_text())
    assert model["source"] == "tiny" and model["parameters"] > 0 and len(model["sha256"]) == 64
    generations = [json.loads(x) for x in (out / "evaluate" / "generations.jsonl").open()]
    assert len(generations) >= 20 and generations[0]["kind"] == "consensus"
    assert all({"prompt", "before", "after"} <= set(g) for g in generations)
    panel = (out / "panel" / "report.json").read_text()
    assert json.loads(panel)["method"] == "leximin"

    html = (out / "report.html").read_text()
    for title in SECTIONS:
        assert title in html, title
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)  # self-contained
    assert "data:image/png;base64," in html

    again = run_cli("demo", "--quick", "--out", out, "--seed", "0")
    assert again.returncode == 0, again.stderr[-3000:]
    assert set(_statuses(again.stdout).values()) == {"skipped"}

    before_train = json.loads((out / "train" / "manifest.json").read_text())["started"]
    rerun = run_cli("demo", "--quick", "--out", out, "--seed", "0", "--from", "train")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    status = _statuses(rerun.stdout)
    order = list(status)
    cut = order.index("train")
    assert all(status[n] == "skipped" for n in order[:cut])
    assert all(status[n] == "ran" for n in order[cut:])
    assert json.loads((out / "train" / "manifest.json").read_text())["started"] >= before_train
    assert json.loads((out / "evaluate" / "metrics.json").read_text())["groups"] == \
        metrics["groups"]  # same seed, same result
