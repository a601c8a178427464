"""The simulation as a run stage: ``run(inputs, settings, seed) -> SimulateResult``.

A seeded synthetic assembly (:func:`~pluralign.simulate.simulate_assembly`): the Polis CSVs,
``pool.csv``, ``population.json`` and ``truth.json`` (:func:`~pluralign.simulate.write_simulation`,
byte-identical for the same seed). The result holds those files' bytes, so ``read`` gives back
what ``write`` wrote and later stages read them by name from the stage's folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.contract import FilesResult, StageSpec
from pluralign.simulate.settings import SimulateSettings


@dataclass(frozen=True)
class SimulateInputs:
    """A custom statement bank (YAML like the built-in one); None: the built-in bank."""

    bank: Path | None = None


@dataclass(frozen=True)
class SimulateResult(FilesResult):
    """The simulation's files (name -> bytes)."""

    @property
    def truth(self) -> dict[str, Any]:
        """``truth.json``: the latent groups, consensus and divisive statements."""
        return json.loads(self.files["truth.json"])

    def counts(self) -> dict[str, int]:
        """What ``pluralign simulate`` prints: the participants (the pool; the moderator is not
        counted), the statements (accepted or not), the vote events (history included) and the
        true consensus and divisive statements."""
        import csv
        import io

        def rows(name: str) -> int:
            text = self.files[name].decode("utf-8")
            return max(sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1, 0)

        truth = self.truth
        return {"participants": len(truth["participants"]), "statements": rows("comments.csv"),
                "vote events": rows("votes.csv"), "consensus": len(truth["consensus"]),
                "divisive": len(truth["divisive"])}


def run(inputs: SimulateInputs, settings: SimulateSettings, seed: int) -> SimulateResult:
    """Simulate the assembly (volunteer pool, latent groups, statements and votes)."""
    import tempfile

    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    sim = simulate_assembly(SimulationSettings(
        **settings.to_dict(), seed=seed,
        bank_path=str(inputs.bank) if inputs.bank is not None else None))
    with tempfile.TemporaryDirectory(prefix="pluralign-simulate-") as tmp:
        paths = write_simulation(sim, tmp)
        return SimulateResult.of_folder(tmp, [p.name for p in paths])


STAGE = StageSpec("simulate", SimulateSettings, run, SimulateResult)
