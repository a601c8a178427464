"""``pluralign constitution``: draft a constitution from votes; check or render an edited one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, OutOption, SeedOption, console

constitution_app = typer.Typer(
    help="Constitution clauses from cross-group consensus.", no_args_is_help=True
)


@constitution_app.command("draft")
def draft_cmd(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder with Polis export CSVs (comments.csv, votes.csv).")
    ] = None,
    out: OutOption = Path("constitution-out"),
    db: DbOption = None,
    slug: Annotated[
        str | None,
        typer.Option(
            "--slug", help="Use this assembly from the store (with --db) instead of FOLDER."
        ),
    ] = None,
    seed: SeedOption = 0,
    title: Annotated[str, typer.Option(help="Title of the constitution.")] = "Constitution",
    min_gac: Annotated[
        float | None,
        typer.Option(
            help="Group-aware consensus a statement needs (default 0.5 ** number of groups)."
        ),
    ] = None,
    min_group_agreement: Annotated[
        float, typer.Option(help="Agree share every opinion group must reach.")
    ] = 0.6,
    min_group_votes: Annotated[
        int, typer.Option(help="Votes every group must have cast on a statement.")
    ] = 3,
    merge_threshold: Annotated[
        float | None,
        typer.Option(
            help="Cosine similarity for merging near-duplicates (default 0.80 MiniLM, 0.55 TF-IDF)."
        ),
    ] = None,
    embedder: Annotated[str, typer.Option(help="auto, minilm or tfidf.")] = "auto",
    max_clauses: Annotated[int | None, typer.Option(help="Keep at most this many clauses.")] = None,
    min_votes: Annotated[
        int, typer.Option(help="Votes a participant needs to be clustered (Polis: 7).")
    ] = 7,
) -> None:
    """Draft OUT/constitution.yaml and OUT/constitution.md from the votes."""
    from pluralign.aggregate import AggregateSettings, aggregate, from_store, read_polis
    from pluralign.constitution import DraftSettings, draft_constitution, write_constitution
    from pluralign.errors import InputError

    if (folder is None) == (slug is None):
        raise InputError("give either a FOLDER of Polis CSVs or --slug NAME (with --db)")
    settings = DraftSettings(
        min_gac=min_gac,
        min_group_agreement=min_group_agreement,
        min_group_votes=min_group_votes,
        merge_threshold=merge_threshold,
        embedder=embedder,
        max_clauses=max_clauses,
    )
    with console.status("aggregating votes"):
        matrix = read_polis(folder) if folder is not None else from_store(db, slug)
        result = aggregate(matrix, seed=seed, settings=AggregateSettings(min_votes=min_votes))
    with console.status("drafting clauses"):
        constitution = draft_constitution(result, settings=settings, title=title)
    yaml_path, md_path = write_constitution(constitution, out)
    used = constitution.provenance["draft_settings"]
    console.print(
        f"{len(constitution.clauses)} clauses from "
        f"{constitution.provenance['candidates']} consensus statements "
        f"({result.n_groups} opinion groups; near-duplicates merged with "
        f"{used['embedder_used']} at cosine ≥ {used['merge_threshold_used']:.2f})"
    )
    if not constitution.clauses:
        from pluralign.constitution.draft import no_consensus_reason

        why = no_consensus_reason(result, settings, lambda f: "--" + f.replace("_", "-"))
        console.print(f"no statement is cross-group consensus: {why}")
    console.print(f"wrote {yaml_path} and {md_path}")


@constitution_app.command("check")
def check_cmd(path: Annotated[Path, typer.Argument(help="constitution.yaml to validate.")]) -> None:
    """Validate a (hand-edited) constitution.yaml."""
    from pluralign.constitution import load_constitution

    c = load_constitution(path)
    n_ev = sum(len(cl.evidence) for cl in c.clauses)
    console.print(f"{path}: valid; {len(c.clauses)} clauses backed by {n_ev} statements")


@constitution_app.command("render")
def render_cmd(
    path: Annotated[Path, typer.Argument(help="constitution.yaml to render.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Markdown file to write (default: beside the YAML)."),
    ] = None,
) -> None:
    """Re-write constitution.md from a (hand-edited) constitution.yaml."""
    from pluralign.constitution import load_constitution
    from pluralign.io import atomic_write_text

    c = load_constitution(path)
    target = out or path.with_suffix(".md")
    atomic_write_text(target, c.to_markdown())
    console.print(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.add_typer(constitution_app, name="constitution")
