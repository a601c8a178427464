"""Options and helpers shared by the stage CLIs (kept tiny so every command reads the same)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="PLURALIGN_DATABASE_URL",
        help="Database URL (postgresql://...) or SQLite file path. Default: ./pluralign.db.",
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same output.")]
OutOption = Annotated[Path, typer.Option("--out", help="Output folder (created if missing).")]
