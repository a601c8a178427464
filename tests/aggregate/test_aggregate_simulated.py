"""Recovery of the simulator's truth.json: latent groups and consensus statements.

The simulator's four latent groups overlap (soft memberships, sparse votes), so a 2-D PCA with
k-means recovers them only partly; the floors below are what we measured minus a margin, and
the point of the test is to notice regressions. Measured values are in docs/algorithms.md.
"""

from __future__ import annotations

import pytest

from pluralign.aggregate import aggregate, read_polis
from pluralign.aggregate.truth import recovery


@pytest.mark.slow
@pytest.mark.parametrize(("participants", "seed"), [(240, 0), (600, 2)])
def test_precision_recall_on_simulator_truth(tmp_path, participants, seed):
    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    sim = simulate_assembly(SimulationSettings(participants=participants, statements=60, seed=seed))
    write_simulation(sim, tmp_path)
    result = aggregate(read_polis(tmp_path), seed=0)
    rec = recovery(result, sim.truth)
    assert rec["consensus_precision"] >= 0.6
    assert rec["consensus_recall"] >= 0.7
    assert rec["group_ari"] > 0.1  # well above chance (0), far from perfect
    assert 2 <= rec["opinion_groups_found"] <= 5
