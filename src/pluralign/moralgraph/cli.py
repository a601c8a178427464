"""``pluralign moralgraph``: summarise upgrade votes into a moral graph, check and simulate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import DbOption, OutOption, console
from pluralign.contract import default, from_options, help_of
from pluralign.moralgraph.settings import GraphSummarySettings, MoralGraphSettings

_M = MoralGraphSettings
_G = GraphSummarySettings

moralgraph_app = typer.Typer(
    help="Moral graph (Democratic Fine-Tuning): values cards, upgrade votes, wisest values.",
    no_args_is_help=True,
)


@moralgraph_app.command("summarize")
def summarize_cmd(
    edges: Annotated[Path, typer.Argument(help="Edge rows (user, from, to, context, relationship"
                                               "[, story]) as .csv, .json or .jsonl.")],
    out: Annotated[Path, typer.Option("--out", help="Moral-graph JSON to write.")],
    values: Annotated[Path | None, typer.Option(
        "--values", help="Values cards (JSON array or moral-graph JSON) to include.")] = None,
    min_wiser_likelihood: Annotated[float, typer.Option(
        help=help_of(_G, "min_wiser_likelihood"))] = default(_G, "min_wiser_likelihood"),
    max_entropy: Annotated[float, typer.Option(
        help=help_of(_G, "max_entropy"))] = default(_G, "max_entropy"),
    min_marked_wiser: Annotated[int, typer.Option(
        help=help_of(_G, "min_marked_wiser"))] = default(_G, "min_marked_wiser"),
    damping: Annotated[float, typer.Option(help=help_of(_G, "damping"))] = default(_G, "damping"),
    all_edges: Annotated[bool, typer.Option("--all-edges", help="Also write every pair "
                                            "before trimming (allEdges).")] = False,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Also draw the graph as a standalone HTML page.")] = None,
) -> None:
    """Summarise upgrade votes into a moral graph (Democratic Fine-Tuning JSON)."""
    from rich.table import Table

    from pluralign import __version__
    from pluralign.errors import InputError
    from pluralign.io import sha256_file
    from pluralign.moralgraph.dftjson import to_document, write_graph_json
    from pluralign.moralgraph.io import read_cards, read_edges
    from pluralign.moralgraph.summary import summarize

    config = from_options(_G, min_wiser_likelihood=min_wiser_likelihood,
                          max_entropy=max_entropy, min_marked_wiser=min_marked_wiser,
                          damping=damping)
    cards = read_cards(values) if values else None
    frame = read_edges(edges, cards, values)
    try:
        graph = summarize(frame, cards, config)
    except ValueError as exc:
        raise InputError(str(exc), where=str(values or edges),
                         hint="every 'from'/'to' id must be a card id in --values") from exc
    provenance = {
        "inputs": {str(edges): sha256_file(edges),
                   **({str(values): sha256_file(values)} if values else {})},
        "codeVersion": __version__, "settings": config.as_dict(),
    }
    write_graph_json(to_document(graph, all_edges=all_edges, provenance=provenance), out)
    if html:
        from pluralign.moralgraph.render import graph_html

        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(graph_html(graph, f"Moral graph of {edges.name}"), encoding="utf-8")
    table = Table("context", "edges", "winning value", "PageRank")
    for c, winner in graph.winners.items():
        title = ""
        if winner is not None and winner in graph.values:
            title = f" {graph.values[winner].title}"
        table.add_row(c, str(len(graph.context_edges(c))),
                      "—" if winner is None else f"{winner}{title}",
                      "" if winner is None else f"{graph.context_page_rank[c][winner]:.4f}")
    console.print(table)
    console.print(f"{graph.n_edges} votes → {len(graph.edges)} edges among "
                  f"{len(graph.page_rank)} values; wrote {out}")


@moralgraph_app.command("constitution")
def constitution_cmd(
    edges: Annotated[Path, typer.Argument(help="Edge rows (.csv, .json or .jsonl).")],
    out: OutOption,
    values: Annotated[Path | None, typer.Option(
        "--values", help="Values cards (JSON) for the clause texts.")] = None,
    contexts: Annotated[Path | None, typer.Option(
        "--contexts", help="JSON object: context id → wording used in clauses.")] = None,
    add_to: Annotated[Path | None, typer.Option(
        "--add-to", help="An existing constitution.yaml to append the clauses to.")] = None,
    min_margin: Annotated[float, typer.Option(
        help="Skip contexts whose winner leads the runner-up by less PageRank.")] = 0.0,
) -> None:
    """Winning value per context → constitution clauses (OUT/constitution.yaml and .md)."""

    from pluralign import __version__
    from pluralign.constitution import load_constitution, write_constitution
    from pluralign.errors import InputError
    from pluralign.io import sha256_file
    from pluralign.moralgraph.clauses import clauses_from_graph, to_constitution
    from pluralign.moralgraph.io import read_cards, read_edges
    from pluralign.moralgraph.summary import summarize

    cards = read_cards(values) if values else None
    try:
        graph = summarize(read_edges(edges, cards, values), cards)
    except ValueError as exc:
        raise InputError(str(exc), where=str(values or edges)) from exc
    wording = None
    if contexts:
        from pluralign.io import read_json

        wording = read_json(contexts, what="contexts file")
        if not isinstance(wording, dict):
            raise InputError("expected a JSON object of context id → wording", where=str(contexts))
    clauses = clauses_from_graph(graph, wording, min_margin=min_margin)
    base = load_constitution(add_to) if add_to else None
    constitution = to_constitution(clauses, base=base, provenance={
        "inputs": {str(edges): sha256_file(edges)}, "codeVersion": __version__,
        "settings": graph.config.as_dict()})
    paths = write_constitution(constitution, out)
    console.print(f"{len(clauses)} clause(s) from {len(graph.contexts)} context(s); wrote "
                  + ", ".join(map(str, paths)))


@moralgraph_app.command("check")
def check_cmd(
    graph: Annotated[Path, typer.Argument(help="A moral-graph JSON file.")],
    min_marked_wiser: Annotated[int, typer.Option(
        help="Threshold the file was made with.")] = default(_G, "min_marked_wiser"),
) -> None:
    """Check that a moral-graph JSON's summaries agree with its counts (published definitions)."""
    from pluralign.errors import InputError
    from pluralign.moralgraph.dftjson import check_document, read_graph_json

    doc = read_graph_json(graph)
    problems = check_document(doc, from_options(_G, min_marked_wiser=min_marked_wiser))
    if problems:
        raise InputError(f"{len(problems)} inconsistent edge(s): " + "; ".join(problems[:5]),
                         where=str(graph))
    console.print(f"{graph}: {len(doc.values)} values, {len(doc.edges)} edges, consistent")


@moralgraph_app.command("simulate")
def simulate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Edge rows to write (.csv or .jsonl).")],
    participants: Annotated[int, typer.Option(help=help_of(_M, "participants"))] = default(
        _M, "participants"),
    votes_per_participant: Annotated[int, typer.Option(
        "--votes", help=help_of(_M, "votes_per_participant"))] = default(
        _M, "votes_per_participant"),
    noise: Annotated[float, typer.Option(help=help_of(_M, "noise"))] = default(_M, "noise"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same output.")] = 0,
    cards_out: Annotated[Path | None, typer.Option(
        "--cards-out", help="Also write the values cards (JSON).")] = None,
) -> None:
    """Write simulated upgrade votes from the built-in bank of values cards."""
    from pluralign.moralgraph.simulate import (
        ValuesSimulationSettings,
        simulate,
        write_values_simulation,
    )

    shape = from_options(MoralGraphSettings, participants=participants,
                         votes_per_participant=votes_per_participant, noise=noise)
    sim = simulate(ValuesSimulationSettings(**shape.to_dict(), seed=seed))
    write_values_simulation(sim, out, cards_out)
    console.print(f"wrote {len(sim.edges)} votes on {len(sim.cards)} values to {out}")


@moralgraph_app.command("export")
def export_cmd(
    assembly: Annotated[str, typer.Option("--assembly", help="Assembly slug.")],
    out: Annotated[Path, typer.Option("--out", help="Moral-graph JSON to write.")],
    db: DbOption = None,
    all_edges: Annotated[bool, typer.Option("--all-edges", help="Also write allEdges.")] = False,
) -> None:
    """Summarise an assembly's stored values cards and upgrade votes into moral-graph JSON."""
    from pluralign import __version__
    from pluralign.moralgraph.dftjson import to_document, write_graph_json
    from pluralign.moralgraph.service import assembly_graph
    from pluralign.store import open_store
    from pluralign.store.queries import get_assembly

    store = open_store(db)
    with store.session() as s:
        a = get_assembly(s, assembly)
        graph = assembly_graph(s, a.id)
    provenance = {"assembly": assembly, "codeVersion": __version__,
                  "settings": graph.config.as_dict()}
    write_graph_json(to_document(graph, all_edges=all_edges, provenance=provenance), out)
    console.print(f"{graph.n_edges} votes → {len(graph.edges)} edges; winners: "
                  + ", ".join(f"{c}: {w}" for c, w in graph.winners.items()) + f"; wrote {out}")


@moralgraph_app.command("merge")
def merge_cmd(
    assembly: Annotated[str, typer.Option("--assembly", help="Assembly slug.")],
    db: DbOption = None,
    threshold: Annotated[float, typer.Option(help="Cosine similarity to merge at.")] = 0.8,
    across_contexts: Annotated[bool, typer.Option(
        "--across-contexts", help="Also merge cards written for different contexts.")] = False,
) -> None:
    """Merge near-duplicate values cards of an assembly (MiniLM embeddings; keeps all sources)."""
    from pluralign.moralgraph.service import merge_duplicates
    from pluralign.store import open_store
    from pluralign.store.queries import get_assembly

    store = open_store(db)
    with store.session() as s:
        a = get_assembly(s, assembly)
        merged = merge_duplicates(s, a.id, threshold, within_context=not across_contexts)
    console.print(f"merged {len(merged)} card(s)"
                  + (": " + ", ".join(f"{o} → {n}" for o, n in merged.items()) if merged else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(moralgraph_app, name="moralgraph")
