"""The demo's moral-graph stage: a small simulated values assembly, summarised and drawn.

Writes into ``RUN/moral_graph/`` (read by the report): ``edges.csv`` and ``cards.json`` (the
simulated votes and cards), ``graph.json`` (Democratic Fine-Tuning JSON), ``graph.html``
(drawing), ``clauses.json`` (one clause per context from its winning value) and ``recovery.json``
(Kendall's tau and winner per context against the simulator's assumed ordering).
"""

from __future__ import annotations

import json


def stage_moralgraph(ctx) -> None:
    """Simulate values cards and upgrade votes, summarise the moral graph, draw it, make clauses."""
    from pluralign import __version__
    from pluralign.moralgraph.clauses import clauses_from_graph
    from pluralign.moralgraph.dftjson import to_document, write_graph_json
    from pluralign.moralgraph.render import graph_html
    from pluralign.moralgraph.simulate import (
        ValuesSimulationConfig,
        recovery,
        simulate,
        write_values_simulation,
    )
    from pluralign.moralgraph.summary import summarize

    settings = ctx.settings
    sim = simulate(ValuesSimulationConfig(participants=settings["participants"],
                                    votes_per_participant=settings["votes_per_participant"],
                                    noise=settings["noise"], seed=ctx.seed))
    write_values_simulation(sim, ctx.out / "edges.csv", ctx.out / "cards.json")
    graph = summarize(sim.edges, sim.cards)
    provenance = {"simulation": dict(settings, seed=ctx.seed), "codeVersion": __version__}
    write_graph_json(to_document(graph, provenance=provenance), ctx.out / "graph.json")
    (ctx.out / "graph.html").write_text(graph_html(graph, "Demo moral graph"), encoding="utf-8")
    clauses = clauses_from_graph(graph, sim.contexts)
    (ctx.out / "clauses.json").write_text(
        json.dumps([c.as_dict() for c in clauses], indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8")
    rec = {c: {"kendall_tau": r.kendall_tau, "winner": r.winner, "true_winner": r.true_winner,
               "winner_correct": r.winner_correct} for c, r in recovery(graph, sim.truth).items()}
    (ctx.out / "recovery.json").write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
