"""The moral graph as a run stage (the demo's): a small simulated values assembly, summarised
and drawn. ``run(inputs, settings, seed) -> MoralGraphResult``.

Its files (read by the report): ``edges.csv`` and ``cards.json`` (the simulated votes and
cards), ``graph.json`` (Democratic Fine-Tuning JSON), ``graph.html`` (drawing), ``clauses.json``
(one clause per context from its winning value) and ``recovery.json`` (Kendall's tau and winner
per context against the simulator's assumed ordering). The result holds their bytes, so
``read`` gives back what ``write`` wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pluralign.contract import FilesResult, StageSpec
from pluralign.moralgraph.settings import MoralGraphSettings

FILES = ("edges.csv", "cards.json", "graph.json", "graph.html", "clauses.json", "recovery.json")


@dataclass(frozen=True)
class MoralGraphInputs:
    """The stage simulates its own assembly: it reads nothing."""

    title: str = "Demo moral graph"
    """The drawing's title."""


@dataclass(frozen=True)
class MoralGraphResult(FilesResult):
    """The moral graph's files (name -> bytes, :data:`FILES`)."""


def run(inputs: MoralGraphInputs, settings: MoralGraphSettings, seed: int) -> MoralGraphResult:
    """Simulate values cards and upgrade votes, summarise the moral graph, draw it, make clauses."""
    import tempfile

    from pluralign import __version__
    from pluralign.io import atomic_write_text
    from pluralign.moralgraph.clauses import clauses_from_graph
    from pluralign.moralgraph.dftjson import to_document, write_graph_json
    from pluralign.moralgraph.render import graph_html
    from pluralign.moralgraph.simulate import (
        ValuesSimulationSettings,
        recovery,
        simulate,
        write_values_simulation,
    )
    from pluralign.moralgraph.summary import summarize

    sim = simulate(ValuesSimulationSettings(**settings.to_dict(), seed=seed))
    graph = summarize(sim.edges, sim.cards)
    provenance = {"simulation": {**settings.to_dict(), "seed": seed}, "codeVersion": __version__}
    clauses = clauses_from_graph(graph, sim.contexts)
    rec = {c: {"kendall_tau": r.kendall_tau, "winner": r.winner, "true_winner": r.true_winner,
               "winner_correct": r.winner_correct} for c, r in recovery(graph, sim.truth).items()}
    with tempfile.TemporaryDirectory(prefix="pluralign-moral-graph-") as tmp:
        out = Path(tmp)
        write_values_simulation(sim, out / "edges.csv", out / "cards.json")
        write_graph_json(to_document(graph, provenance=provenance), out / "graph.json")
        atomic_write_text(out / "graph.html", graph_html(graph, inputs.title))
        atomic_write_text(out / "clauses.json", json.dumps(
            [c.as_dict() for c in clauses], indent=1, ensure_ascii=False) + "\n")
        atomic_write_text(out / "recovery.json", json.dumps(rec, indent=1) + "\n")
        return MoralGraphResult.of_folder(out, FILES)


STAGE = StageSpec("moral_graph", MoralGraphSettings, run, MoralGraphResult)
