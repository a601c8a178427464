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


def only_assembly(store, slug: str | None, *, option: str = "--slug") -> str:
    """``slug`` when given; else the slug of the store's one assembly. With none or several the
    error names ``option`` (several: it lists them)."""
    if slug is not None:
        return slug
    from sqlalchemy import select

    from pluralign.errors import NotFoundError
    from pluralign.store import Assembly

    with store.session() as session:
        slugs = session.scalars(select(Assembly.slug).order_by(Assembly.slug).limit(21)).all()
    if len(slugs) == 1:
        return slugs[0]
    if not slugs:
        raise NotFoundError("the store has no assembly", where=option)
    listed = ", ".join(slugs[:20]) + (", ..." if len(slugs) > 20 else "")
    raise NotFoundError(
        "the store holds several assemblies; say which",
        where=option,
        hint=f"known assemblies: {listed}",
    )
