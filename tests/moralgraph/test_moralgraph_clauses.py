"""Winning values per context become clauses with the graph as provenance."""

from __future__ import annotations

import json

import pytest

from pluralign.moralgraph.clauses import clause_text, clauses_from_graph
from pluralign.moralgraph.simulate import ValuesSimulationSettings, simulate
from pluralign.moralgraph.summary import summarize
from pluralign.moralgraph.types import Context, Edge, ValuesCard


def E(a, b, rel, ctx):
    return Edge("u", a, b, ctx, rel)


CARDS = [ValuesCard(1, "Quick Fixes", "Fixing it fast.", ("ACTIONS",)),
         ValuesCard(2, "Presence", "Staying with feelings.", ("FEELINGS", "MOMENTS")),
         ValuesCard(3, "Agency", "", (), sources=(3, 9))]


def test_clause_per_context_with_provenance():
    edges = ([E(1, 2, "upgrade", "distress")] * 3 + [E(1, 2, "no_upgrade", "distress")]
             + [E(2, 3, "upgrade", "choice")] * 2 + [E(1, 3, "not_sure", "empty")])
    graph = summarize(edges, CARDS)
    clauses = clauses_from_graph(graph, [Context("distress", "When the user is in distress")])
    assert [c.context for c in clauses] == ["distress", "choice"]  # "empty" has no edge
    c = clauses[0]
    assert c.value_id == 2 and c.title == "Presence"
    assert c.text == ("When the user is in distress, the assistant is guided by “Presence”: "
                      "Staying with feelings. It attends to: FEELINGS; MOMENTS.")
    p = c.provenance
    assert p["pageRank"] == pytest.approx(0.075 + 0.85 * 0.075)
    assert p["runnerUp"]["id"] == 1 and p["margin"] == pytest.approx(0.85 * 0.075)
    assert p["wiserThan"] == [{"sourceValueId": 1, "markedWiser": 3, "markedNotWiser": 1,
                               "markedLessWise": 0, "markedUnsure": 0, "impressions": 4,
                               "wiserLikelihood": 0.75, "entropy": pytest.approx(1.4056390622)}]
    assert p["votesInContext"] == 4 and p["settings"]["damping"] == 0.85
    assert clauses[1].provenance["value"]["sources"] == [3, 9]
    assert clauses[1].text == "choice, the assistant is guided by “Agency”."
    json.dumps([c.as_dict() for c in clauses])  # serialisable
    assert clauses_from_graph(graph, min_margin=1.0) == []


def test_clause_text_edge_cases():
    text = clause_text("When X.", "T", "does y", [])
    assert text == "When X, the assistant is guided by “T”: does y."


def test_simulated_assembly_gives_the_true_winners():
    sim = simulate(ValuesSimulationSettings(participants=150, seed=3))
    clauses = clauses_from_graph(summarize(sim.edges, sim.cards), sim.contexts)
    assert {c.context: c.value_id for c in clauses} == {k: v[-1] for k, v in sim.truth.items()}


def test_constitution_round_trip_and_append():
    from pluralign.constitution import Constitution
    from pluralign.errors import InputError
    from pluralign.moralgraph.clauses import to_constitution

    edges = [E(1, 2, "upgrade", "distress")] * 2 + [E(2, 3, "upgrade", "choice")] * 2
    clauses = clauses_from_graph(summarize(edges, CARDS))
    c = to_constitution(clauses, provenance={"seed": 1})
    assert [cl.id for cl in c.clauses] == [x.id for x in clauses]
    assert c.clauses[0].evidence == ()
    back = Constitution.from_yaml(c.to_yaml())
    assert back == c
    assert back.provenance["moral_graph"]["clauses"][clauses[0].id]["value"]["id"] == 2
    assert "Presence" in c.to_markdown()
    base = Constitution(title="Ours", clauses=(), provenance={"source": "polis"})
    merged = to_constitution(clauses[:1], base=base)
    merged = to_constitution(clauses[1:], base=merged)
    assert merged.title == "Ours" and len(merged.clauses) == 2
    assert merged.provenance["source"] == "polis"
    assert set(merged.provenance["moral_graph"]["clauses"]) == {x.id for x in clauses}
    with pytest.raises(InputError, match="already"):
        to_constitution(clauses, base=merged)


def test_cli_constitution(tmp_path, capsys):
    from pluralign.cli import main
    from pluralign.constitution import load_constitution

    edges = tmp_path / "e.csv"
    edges.write_text("user,from,to,context,relationship\n"
                     + "".join(f"u{i},1,2,distress,upgrade\n" for i in range(3)))
    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps([{"id": c.id, "title": c.title, "description": c.description,
                                  "policies": list(c.policies)} for c in CARDS]))
    wording = tmp_path / "ctx.json"
    wording.write_text(json.dumps({"distress": "When the user is in distress"}))
    main(["moralgraph", "constitution", str(edges), "--values", str(cards), "--contexts",
          str(wording), "--out", str(tmp_path / "c")])
    assert "1 clause(s)" in capsys.readouterr().out
    c = load_constitution(tmp_path / "c" / "constitution.yaml")
    assert c.clauses[0].text.startswith("When the user is in distress, the assistant is guided "
                                        "by “Presence”")
    assert (tmp_path / "c" / "constitution.md").is_file()
    # the synthesis stage (pluralign synth ...) reads the same file
    from pluralign.constitution.document import read_clauses

    synth = read_clauses(tmp_path / "c" / "constitution.yaml")
    assert [(x.id, x.text) for x in synth] == [(x.id, x.text) for x in c.clauses]
