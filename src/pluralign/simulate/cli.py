"""``pluralign simulate``: write a seeded synthetic assembly to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import OutOption, SeedOption, console


def simulate_cmd(
    out: OutOption,
    participants: Annotated[
        int, typer.Option("--participants", "-n", help="Volunteers in the pool (all take part).")
    ] = 200,
    statements: Annotated[
        int, typer.Option("--statements", "-m", help="Statements in the conversation.")
    ] = 60,
    seed: SeedOption = 0,
    vote_rate: Annotated[
        float,
        typer.Option(
            "--vote-rate", help="Mean share of visible statements each participant votes on."
        ),
    ] = 0.5,
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

    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    config = SimulationConfig(
        participants=participants,
        statements=statements,
        seed=seed,
        vote_rate=vote_rate,
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
