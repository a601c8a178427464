"""Settings of the simulation stage: ``pipeline.yaml``'s ``inputs.simulate`` and ``pluralign
simulate``'s options take theirs from :class:`SimulateSettings`. The simulator's full set,
:class:`~pluralign.simulate.SimulationSettings`, is this class plus what only the simulator takes
(one simulation settings class: the assembly's size is declared once, here)."""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting


@dataclass(frozen=True)
class SimulateSettings(Settings):
    """How large the simulated assembly is and how much it votes."""

    section = "inputs.simulate"

    participants: int = setting(
        200, "Volunteers in the simulated pool (all take part in the conversation).", ge=1)
    statements: int = setting(60, "Statements in the simulated conversation.", ge=2)
    vote_rate: float = setting(
        0.5, "Mean share of the visible statements each participant votes on.", gt=0, le=1)
