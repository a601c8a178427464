"""A seeded synthetic assembly about how AI assistants should behave.

``simulate_assembly(SimulationConfig(...)) -> SimulatedAssembly`` and
``write_simulation(sim, out_dir)``; ``pluralign simulate`` on the command line. See
:mod:`pluralign.simulate.engine` for the model and ``docs/formats.md`` for the files.
"""

from pluralign.simulate.bank import StatementBank, classify, load_bank
from pluralign.simulate.engine import simulate_assembly
from pluralign.simulate.model import SimulatedAssembly, SimulationConfig
from pluralign.simulate.output import write_simulation
from pluralign.simulate.population import Population

__all__ = [
    "Population",
    "SimulatedAssembly",
    "SimulationConfig",
    "StatementBank",
    "classify",
    "load_bank",
    "simulate_assembly",
    "write_simulation",
]
