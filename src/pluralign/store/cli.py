"""``pluralign db``: create/migrate the store and list what it holds."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import func, select

from pluralign.clikit import DbOption, console

db_app = typer.Typer(
    help="The assembly store (SQLite by default, PostgreSQL by URL).", no_args_is_help=True
)


@db_app.command("upgrade")
def upgrade_cmd(db: DbOption = None) -> None:
    """Create the database or migrate it to the latest schema."""
    from pluralign.store import open_store

    store = open_store(db)
    console.print(f"store ready: {store.engine.url.render_as_string(hide_password=True)}")


@db_app.command("list")
def list_cmd(db: DbOption = None) -> None:
    """List the assemblies with their participant, statement and vote counts."""
    from pluralign.store import Assembly, Participant, Statement, Vote, open_store

    store = open_store(db)
    table = Table("slug", "topic", "state", "participants", "statements", "votes")
    with store.session() as s:
        for a in s.scalars(select(Assembly).order_by(Assembly.id)):

            def count(model, assembly_id=a.id):
                return s.scalar(
                    select(func.count()).select_from(model).where(model.assembly_id == assembly_id)
                )

            table.add_row(
                a.slug,
                a.topic[:50],
                a.state,
                str(count(Participant)),
                str(count(Statement)),
                str(count(Vote)),
            )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
