"""``pluralign simulate``: write a seeded synthetic assembly to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import OutOption, SeedOption, console
from pluralign.contract import default, help_of
from pluralign.simulate.settings import SimulateSettings as _S


def simulate_cmd(
    out: OutOption,
    participants: Annotated[int, typer.Option(
        "--participants", "-n", help=help_of(_S, "participants"))] = default(_S, "participants"),
    statements: Annotated[int, typer.Option(
        "--statements", "-m", help=help_of(_S, "statements"))] = default(_S, "statements"),
    seed: SeedOption = 0,
    vote_rate: Annotated[float, typer.Option(
        "--vote-rate", help=help_of(_S, "vote_rate"))] = default(_S, "vote_rate"),
    bank: Annotated[
        Path | None,
        typer.Option("--bank", help="A custom statement bank YAML (default: the built-in bank)."),
    ] = None,
) -> None:
    """Simulate an assembly on how AI assistants should behave.

    A self-selected volunteer pool, latent opinion groups, statements and votes. Writes Polis
    CSVs, pool.csv, population.json and truth.json into --out; the same seed gives
    byte-identical files.
    """
    from rich.table import Table

    from pluralign.contract import from_options
    from pluralign.simulate import SimulationSettings, simulate_assembly, write_simulation

    settings = from_options(_S, participants=participants, statements=statements,
                            vote_rate=vote_rate)
    config = SimulationSettings(
        participants=settings.participants,
        statements=settings.statements,
        seed=seed,
        vote_rate=settings.vote_rate,
        bank_path=str(bank) if bank else None,
    )
    with console.status("simulating the assembly"):
        sim = simulate_assembly(config)
        paths = write_simulation(sim, out)
    truth = sim.truth
    table = Table(
        "participants",
        "statements",
        "vote events",
        "consensus",
        "divisive",
        title=f"simulated assembly → {out}",
    )
    table.add_row(
        str(len(sim.people)),
        str(len(sim.statements)),
        str(len(sim.votes)),
        str(len(truth["consensus"])),
        str(len(truth["divisive"])),
    )
    console.print(table)
    console.print("wrote " + ", ".join(p.name for p in paths))


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_cmd)
