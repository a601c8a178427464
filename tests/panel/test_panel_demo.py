"""The demo's panel stage on a small simulated pool: quotas from shares, leximin panel."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from pluralign.panel import read_quotas


@pytest.mark.slow
def test_panel_stage_on_simulated_pool(tmp_path):
    from pluralign.panel.demo import stage_panel
    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    run = tmp_path / "run"
    sim = simulate_assembly(SimulationConfig(participants=80, statements=10, seed=4))
    write_simulation(sim, run / "simulate")
    outputs = []
    for name in ("p1", "p2"):
        ctx = SimpleNamespace(
            run_dir=run,
            out=run / name,
            seed=4,
            shared={},
            settings={"size": 10, "slack": 0.3},
            stage_dir=lambda n: run / n,
        )
        stage_panel(ctx)
        outputs.append(Path(ctx.out))
    panel = pd.read_csv(outputs[0] / "panel.csv", dtype=str)
    quotas = read_quotas(outputs[0] / "quotas.csv")
    assert len(panel) == 10
    for q in quotas.items:
        assert q.min <= (panel[q.feature] == q.value).sum() <= q.max
    report = json.loads((outputs[0] / "report.json").read_text())
    assert report["method"] == "leximin" and report["weights"]["target"] == "population"
    assert (outputs[0] / "panel.csv").read_bytes() == (outputs[1] / "panel.csv").read_bytes()
