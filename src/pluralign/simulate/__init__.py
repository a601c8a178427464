"""A seeded synthetic assembly about how AI assistants should behave.

``simulate_assembly(SimulationConfig(...)) -> SimulatedAssembly`` and
``write_simulation(sim, out_dir)``; ``pluralign simulate`` on the command line. See
:mod:`pluralign.simulate.engine` for the model and ``docs/formats.md`` for the files.

Names are loaded on first use, so mounting the CLI does not import numpy and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "Population": "pluralign.simulate.population",
    "SimulatedAssembly": "pluralign.simulate.model",
    "SimulationConfig": "pluralign.simulate.model",
    "StatementBank": "pluralign.simulate.bank",
    "classify": "pluralign.simulate.bank",
    "load_bank": "pluralign.simulate.bank",
    "simulate_assembly": "pluralign.simulate.engine",
    "write_simulation": "pluralign.simulate.output",
}
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

if TYPE_CHECKING:
    from pluralign.simulate.bank import StatementBank, classify, load_bank
    from pluralign.simulate.engine import simulate_assembly
    from pluralign.simulate.model import SimulatedAssembly, SimulationConfig
    from pluralign.simulate.output import write_simulation
    from pluralign.simulate.population import Population


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pluralign.simulate' has no attribute '{name}'")
