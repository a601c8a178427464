"""``pluralign db``: create/migrate the store and list what it holds."""

from __future__ import annotations

import typer

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
    from rich.table import Table
    from sqlalchemy import func, select

    from pluralign.store import Assembly, Participant, Statement, Vote, open_store

    store = open_store(db)
    with store.session() as s:
        assemblies = list(s.scalars(select(Assembly).order_by(Assembly.id)))

        def count(model, assembly_id):
            return s.scalar(
                select(func.count()).select_from(model).where(model.assembly_id == assembly_id)
            )

        models = (Participant, Statement, Vote)
        rows = [(a.slug, a.topic, a.state, *(str(count(m, a.id)) for m in models))
                for a in assemblies]
    # A slug is what the other commands take: never cut or wrapped (the topic wraps instead).
    widest = max((len(r[0]) for r in rows), default=4)
    counts = ("participants", "statements", "votes")
    states = max((len(r[2]) for r in rows), default=5)
    # 3 characters of border and padding a column, 1 at the end; the topic gets at least 10
    needed = widest + 10 + max(states, 5) + sum(map(len, counts)) + 3 * 6 + 1
    if needed > console.width:  # a table would squeeze the counts away: one block each
        for slug, topic, state, *numbers in rows:
            console.print(slug, style="bold", overflow="ignore", crop=False, soft_wrap=True)
            said = (f"{n} {name if n != '1' else name[:-1]}"
                    for n, name in zip(numbers, counts, strict=True))
            console.print("  " + ", ".join(said) + f", {state}")
            if topic:
                console.print(f"  {topic}")
        return
    table = Table(show_lines=False)
    table.add_column("slug", no_wrap=True, min_width=widest, overflow="fold")
    table.add_column("topic", overflow="fold", ratio=1)
    table.add_column("state", no_wrap=True)
    for name in counts:
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
