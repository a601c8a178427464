"""Drawing: well-formed SVG with one node per ranked value and one arrow per edge."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pluralign.moralgraph.render import context_svg, graph_html
from pluralign.moralgraph.simulate import ValuesSimulationSettings, simulate
from pluralign.moralgraph.summary import summarize
from pluralign.moralgraph.types import Edge, ValuesCard

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_per_context():
    sim = simulate(ValuesSimulationSettings(participants=120, seed=2))
    graph = summarize(sim.edges, sim.cards)
    for ctx in graph.contexts:
        root = ET.fromstring(context_svg(graph, ctx))
        assert len(root.findall(f".//{SVG}circle")) == len(graph.context_page_rank[ctx])
        assert len(root.findall(f".//{SVG}path")) == len(graph.context_edges(ctx)) + 1  # + marker
        winner = graph.values[graph.winners[ctx]].title
        labels = [" ".join(t.itertext()) for t in root.iter(f"{SVG}text")]
        assert any(winner.split()[0] in label for label in labels)


def test_escaping_and_empty_graph():
    cards = [ValuesCard(1, "<script>alert(1)</script>", "a & b"), ValuesCard(2, "B")]
    graph = summarize([Edge("u", 1, 2, "c<1>", "upgrade")] * 2, cards)
    page = graph_html(graph, "T & <T>")
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "T &amp; &lt;T&gt;" in page
    assert "No edge passes" in context_svg(summarize([Edge("u", 1, 2, "c", "no_upgrade")]), "c")


def _label_boxes(svg: str):
    """(left, top, right, bottom) of every node label, with an upper bound on glyph width."""
    from pluralign.moralgraph.render import CHAR_WIDTH, FONT, LINE

    boxes = []
    for text in ET.fromstring(svg).iter(f"{SVG}text"):
        lines = [t.text or "" for t in text.iter(f"{SVG}tspan")] or [text.text or ""]
        half = max(len(line) for line in lines) * CHAR_WIDTH / 2
        x, y = float(text.get("x")), float(text.get("y"))
        boxes.append((x - half, y - FONT, x + half, y + LINE * (len(lines) - 1) + 3))
    return boxes


def test_labels_of_long_titles_never_overlap():
    """Five columns of values with long titles (the admin page draws 640 px wide)."""
    titles = [f"Attending to the person's {w} and long-term flourishing" for w in
              ("feelings", "autonomy", "safety", "dignity", "community", "future", "family")]
    cards = [ValuesCard(i, t, "d") for i, t in enumerate(titles, start=1)]
    chain = [(1, 2), (2, 3), (3, 4), (4, 5), (1, 6), (6, 7), (2, 7)]
    edges = [Edge(f"u{k}", a, b, "c", "upgrade") for a, b in chain for k in range(3)]
    svg = context_svg(summarize(edges, cards), "c", width=640)
    boxes = _label_boxes(svg)
    assert len(boxes) == 7
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[2] <= 640, a  # inside the drawing
        for b in boxes[i + 1:]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, (a, b)
