"""The simulation, the run's store and its summary as contract stages: each result reads back
what it wrote, and the stages give what the engine and the store give."""

from __future__ import annotations

import json

import pytest

from pluralign.data.store_stage import (
    STORE,
    SUMMARY,
    StoreInputs,
    StoreResult,
    StoreSettings,
    SummaryInputs,
    SummaryResult,
    SummarySettings,
)
from pluralign.errors import InputError
from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation
from pluralign.simulate.settings import SimulateSettings
from pluralign.simulate.stage import STAGE, SimulateInputs, SimulateResult


def test_simulation_files_are_the_engines_and_read_back(tmp_path):
    settings = SimulateSettings(participants=40, statements=12, vote_rate=0.6)
    result = STAGE.run(SimulateInputs(), settings, 5)
    sim = simulate_assembly(SimulationSettings(participants=40, statements=12, vote_rate=0.6,
                                               seed=5))
    write_simulation(sim, tmp_path / "e")
    assert {"comments.csv", "votes.csv", "pool.csv", "population.json",
            "truth.json"} <= set(result.files)
    for name, data in result.files.items():
        assert (tmp_path / "e" / name).read_bytes() == data, name
    result.write(tmp_path / "s")
    assert SimulateResult.read(tmp_path / "s") == result
    assert result.truth == json.loads((tmp_path / "e" / "truth.json").read_text())
    # what `pluralign simulate` prints, read from the files: the engine's own counts
    assert result.counts() == {
        "participants": len(sim.people), "statements": len(sim.statements),
        "vote events": len(sim.votes), "consensus": len(sim.truth["consensus"]),
        "divisive": len(sim.truth["divisive"])}


def test_the_engine_takes_the_stages_defaults():
    cfg, s = SimulationSettings(), SimulateSettings()
    assert (cfg.participants, cfg.statements, cfg.vote_rate) == (
        s.participants, s.statements, s.vote_rate)
    with pytest.raises(InputError, match="field 'inputs.simulate.vote_rate'"):
        SimulateSettings(vote_rate=0)


def test_store_and_summary_read_back(tmp_path):
    sim = STAGE.run(SimulateInputs(), SimulateSettings(participants=30, statements=10), 2)
    sim.write(tmp_path / "simulate")
    store = STORE.run(StoreInputs(tmp_path / "simulate", tmp_path / "run.db"), StoreSettings(),
                      2)
    assert store == StoreResult(str(tmp_path / "run.db"), "demo")
    store.write(tmp_path / "store")
    assert StoreResult.read(tmp_path / "store") == store
    summary = SUMMARY.run(SummaryInputs(store, sim.truth), SummarySettings(), 2)
    assert summary.summary["participants"] == 30 + 1  # and the moderator (participant 0)
    assert summary.summary["true_consensus"] == len(sim.truth["consensus"])
    assert sum(g["pool"] for g in summary.summary["group_shares"].values()) == \
        pytest.approx(1, abs=1e-3)
    summary.write(tmp_path / "summary")
    assert SummaryResult.read(tmp_path / "summary") == summary
    again = STORE.run(StoreInputs(tmp_path / "simulate", tmp_path / "run.db"), StoreSettings(), 2)
    assert SUMMARY.run(SummaryInputs(again, sim.truth), SummarySettings(), 2) == summary  # fresh
