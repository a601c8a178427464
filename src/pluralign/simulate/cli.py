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
    from pluralign.simulate.stage import STAGE, SimulateInputs

    settings = from_options(_S, participants=participants, statements=statements,
                            vote_rate=vote_rate)
    with console.status("simulating the assembly"):
        result = STAGE.run(SimulateInputs(bank=bank), settings, seed)
        result.write(out)
    counts = result.counts()
    table = Table(*counts, title=f"simulated assembly → {out}")
    table.add_row(*map(str, counts.values()))
    console.print(table)
    console.print("wrote " + ", ".join(result.files))


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_cmd)
