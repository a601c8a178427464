"""A seeded synthetic assembly about how AI assistants should behave.

``simulate_assembly(SimulationSettings(...)) -> SimulatedAssembly`` and
``write_simulation(sim, out_dir)``; ``pluralign simulate`` on the command line. See
:mod:`pluralign.simulate.engine` for the model and ``docs/formats.md`` for the files.

Names are loaded on first use, so mounting the CLI does not import numpy and pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "StatementBank": "pluralign.formats.statement_bank",
    "classify": "pluralign.formats.statement_bank",
    "load_bank": "pluralign.formats.statement_bank",
    "simulate_assembly": "pluralign.simulate.engine",
    "SimulatedAssembly": "pluralign.simulate.model",
    "SimulationSettings": "pluralign.simulate.model",
    "panel_conversation": "pluralign.simulate.output",
    "write_simulation": "pluralign.simulate.output",
    "Population": "pluralign.simulate.population",
}
__all__ = [
    "Population",
    "SimulatedAssembly",
    "SimulationSettings",
    "StatementBank",
    "classify",
    "load_bank",
    "panel_conversation",
    "simulate_assembly",
    "write_simulation",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.formats.statement_bank import StatementBank, classify, load_bank
    from pluralign.simulate.engine import simulate_assembly
    from pluralign.simulate.model import SimulatedAssembly, SimulationSettings
    from pluralign.simulate.output import panel_conversation, write_simulation
    from pluralign.simulate.population import Population
