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


def test_a_one_person_group_no_longer_blocks_every_statement(tmp_path):
    """Simulator seed 3 at 60 participants (120 statements): the clustering finds five groups,
    one of them a single person, who cannot cast the 3 votes a statement needs from every group.
    With min_group_coverage 0 (the rule before) nothing is consensus; with the default (0.5)
    that group takes no part and the others' consensus is found again (docs/sensemaking.md
    §6)."""
    from dataclasses import replace

    import numpy as np

    from pluralign.aggregate.consensus import ConsensusRule
    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    sim = simulate_assembly(SimulationSettings(participants=60, statements=120, seed=3))
    write_simulation(sim, tmp_path)
    result = aggregate(read_polis(tmp_path), seed=0)
    assert np.bincount(result.groups[result.groups >= 0]).min() == 1  # the premise
    assert len(result.consensus_columns(replace(ConsensusRule(), min_group_coverage=0))) == 0
    found = result.consensus_columns()
    assert len(found) >= 5
    truth = set(sim.truth["consensus"])
    assert sum(int(result.matrix.statements[j]) in truth for j in found) >= 0.7 * len(found)
