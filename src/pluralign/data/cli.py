"""``pluralign import`` / ``pluralign export``: interchange formats in and out of the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, console

import_app = typer.Typer(help="Load data from other tools into the store.", no_args_is_help=True)
export_app = typer.Typer(help="Write store data in other tools' formats.", no_args_is_help=True)


@import_app.command("polis")
def import_polis_cmd(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder with comments.csv and votes.csv "
            "(participants-votes.csv, summary.csv optional)."
        ),
    ],
    db: DbOption = None,
    slug: Annotated[
        str | None,
        typer.Option("--slug", help="Name of the new assembly (default: the folder's name)."),
    ] = None,
) -> None:
    """Import a Polis conversation export as a new assembly (all or nothing)."""
    from pluralign.data.polis_store import load_polis_export, simulated_participants
    from pluralign.formats.polis_read import read_polis
    from pluralign.store import open_store

    with console.status(f"reading {directory}"):
        export = read_polis(directory)
    name = slug or directory.resolve().name
    store = open_store(db)
    try:
        with console.status(f"storing {len(export.votes)} votes"):
            load_polis_export(store, export, name, participants=simulated_participants(directory))
    finally:
        store.dispose()
    console.print(
        f"imported '{name}': {len(export.participants)} participants, "
        f"{len(export.comments)} statements, {len(export.votes)} vote events"
    )


@export_app.command("polis")
def export_polis_cmd(
    directory: Annotated[Path, typer.Argument(help="Output folder (created if missing).")],
    slug: Annotated[
        str | None,
        typer.Option("--slug", help="The assembly to export (default: the store's only one)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Export an assembly as Polis CSVs (comments, votes, participants-votes, summary)."""
    from pluralign.data.polis_store import export_polis
    from pluralign.store import open_store
    from pluralign.store.queries import only_assembly

    store = open_store(db)
    try:
        slug = only_assembly(store, slug)
        export = export_polis(store, slug, directory)
    finally:
        store.dispose()
    console.print(
        f"exported '{slug}' to {directory}: {len(export.comments)} statements, "
        f"{len(export.votes)} vote events"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
