"""Drawing: well-formed SVG with one node per ranked value and one arrow per edge."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pluralign.moralgraph.model import Edge, ValuesCard
from pluralign.moralgraph.render import context_svg, graph_html
from pluralign.moralgraph.simulate import SimulationConfig, simulate
from pluralign.moralgraph.summary import summarize

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_per_context():
    sim = simulate(SimulationConfig(participants=120, seed=2))
    graph = summarize(sim.edges, sim.cards)
    for ctx in graph.contexts:
        root = ET.fromstring(context_svg(graph, ctx))
        assert len(root.findall(f".//{SVG}circle")) == len(graph.context_page_rank[ctx])
        assert len(root.findall(f".//{SVG}path")) == len(graph.context_edges(ctx)) + 1  # + marker
        winner = graph.values[graph.winners[ctx]].title
        assert any(winner[:20] in (t.text or "") for t in root.iter(f"{SVG}text"))


def test_escaping_and_empty_graph():
    cards = [ValuesCard(1, "<script>alert(1)</script>", "a & b"), ValuesCard(2, "B")]
    graph = summarize([Edge("u", 1, 2, "c<1>", "upgrade")] * 2, cards)
    page = graph_html(graph, "T & <T>")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "T &amp; &lt;T&gt;" in page
    assert "No edge passes" in context_svg(summarize([Edge("u", 1, 2, "c", "no_upgrade")]), "c")
