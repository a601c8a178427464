"""``pluralign aggregate``: opinion groups, consensus and bridging from Polis CSVs or the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.aggregate.settings import AggregateSettings
from pluralign.clikit import DbOption, OutOption, SeedOption, console
from pluralign.contract import default, from_options, help_of

_S = AggregateSettings


def aggregate_cmd(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder with Polis export CSVs (comments.csv, votes.csv).")
    ] = None,
    out: OutOption = Path("aggregate-out"),
    db: DbOption = None,
    slug: Annotated[
        str | None,
        typer.Option(
            "--slug", help="Aggregate this assembly from the store (with --db) instead of FOLDER."
        ),
    ] = None,
    seed: SeedOption = 0,
    min_votes: Annotated[int, typer.Option(help=help_of(_S, "min_votes"))] = default(
        _S, "min_votes"),
    max_groups: Annotated[int, typer.Option(help=help_of(_S, "max_groups"))] = default(
        _S, "max_groups"),
    in_conv: Annotated[str, typer.Option("--in-conv", help=help_of(_S, "in_conv"))] = default(
        _S, "in_conv"),
    strict_moderation: Annotated[
        bool, typer.Option(help="Leave out unmoderated statements too (Polis CSVs).")
    ] = False,
) -> None:
    """Find opinion groups, representative statements, consensus and bridging scores.

    Writes OUT/groups.csv, OUT/statements.csv, OUT/summary.json and OUT/opinion_map.png.
    """
    from pluralign.aggregate import from_store, read_polis
    from pluralign.aggregate.stage import AggregateInputs, run
    from pluralign.errors import InputError

    if (folder is None) == (slug is None):
        raise InputError(
            "give either a FOLDER of Polis CSVs or --slug NAME (with --db)",
            hint="pluralign aggregate DIR --out OUT  or  "
            "pluralign aggregate --db URL --slug NAME --out OUT",
        )
    settings = from_options(AggregateSettings, min_votes=min_votes, max_groups=max_groups,
                            in_conv=in_conv)
    with console.status("reading votes"):
        matrix = (
            read_polis(folder, strict_moderation=strict_moderation)
            if folder is not None
            else from_store(db, slug)
        )
    with console.status(f"aggregating {matrix.n_votes} votes"):
        result = run(AggregateInputs(matrix, str(folder.name if folder else slug)), settings, seed)
        result.write(out)
    sizes = ", ".join(str(x) for x in result.summary()["group_sizes"])
    console.print(
        f"{matrix.shape[0]} participants, {matrix.shape[1]} statements, "
        f"{matrix.n_votes} votes → {result.n_groups} opinion groups ({sizes})"
    )
    if result.consensus:
        console.print(f"consensus statements (by group-aware consensus): {result.consensus}")
    else:
        from pluralign.aggregate.consensus import nearest_miss

        st = result.stats
        miss = nearest_miss(
            st.agree, st.seen, result.gac, matrix.statements, settings.consensus,
            result.half_counts, st.disagree,
        )
        why = miss.message(lambda f: "constitution draft --" + f.replace("_", "-")) if miss else ""
        console.print(f"no statement is cross-group consensus; {why}")
    console.print(f"wrote {out}/groups.csv, statements.csv, summary.json, opinion_map.png, "
                  "result.npz")


def register(app: typer.Typer) -> None:
    app.command("aggregate")(aggregate_cmd)
