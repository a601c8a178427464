"""Drawing a moral graph: SVG per context (values sized by PageRank, upgrade edges as arrows) and
a standalone HTML page that switches between contexts without JavaScript (CSS ``:target``).

Layout: a value's column is the length of the longest chain of upgrades leading to it (wiser values
further right; cycles are cut at ``n`` steps), rows within a column by decreasing PageRank. Node
area grows with PageRank; edge width with wiser likelihood; hovering shows the counts (SVG
``<title>``). Only presentation attributes are used in the SVG, so it also renders under a strict
Content-Security-Policy; the page's ``<style>`` is only needed for the standalone file.
"""

from __future__ import annotations

import hashlib
import math
from html import escape

from pluralign.moralgraph.summary import MoralGraph

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")  # Okabe-Ito


def _levels(nodes: list, edges: list[tuple]) -> dict:
    level = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):
        changed = False
        for u, v in edges:
            if level[u] + 1 > level[v] and level[u] + 1 < len(nodes):
                level[v] = level[u] + 1
                changed = True
        if not changed:
            break
    return level


def _short(text: str, n: int = 26) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


FONT = 12
CHAR_WIDTH = 0.62 * FONT  # an upper bound of a sans-serif character's advance at this size
LINE = 14


def label_lines(text: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """``text`` wrapped at word boundaries into at most ``max_lines`` lines of ``max_chars``
    characters; what does not fit ends in "…" (a word longer than a line is cut)."""
    max_chars = max(max_chars, 4)
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        if len(line) > max_chars:
            words.insert(0, line[max_chars - 1:])
            line = line[: max_chars - 1] + "-"
        while words and len(line) + 1 + len(words[0]) <= max_chars:
            line += " " + words.pop(0)
        lines.append(line)
    if words:
        lines[-1] = _short(lines[-1] + " " + " ".join(words), max_chars)
    return lines or [""]


def context_svg(graph: MoralGraph, context: str | None = None, *, width: int = 900,
                row: int = 100, empty: str = "No edge passes the thresholds yet.") -> str:
    """SVG of one context's graph (``None``: the graph pooled over contexts); ``empty`` is the
    text shown when no edge passes the thresholds (the web app passes it translated)."""
    if context is None:
        ranks, edges = graph.page_rank, graph.edges
    else:
        ranks, edges = graph.context_page_rank.get(context, {}), graph.context_edges(context)
    if not ranks:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40" role="img">'
                '<text x="10" y="25" font-family="sans-serif" font-size="14">'
                f'{escape(empty)}</text></svg>')
    pairs = list(zip(edges["source"], edges["wiser"], strict=True))
    nodes = sorted(ranks, key=lambda v: -ranks[v])
    level = _levels(nodes, pairs)
    columns: dict[int, list] = {}
    for v in nodes:
        columns.setdefault(level[v], []).append(v)
    n_cols = max(columns) + 1
    dx = (width - 160) / max(n_cols - 1, 1)
    # labels are wrapped to the column spacing, so neighbouring columns' labels never overlap
    max_chars = int(min(dx - 8, 2 * 80 - 8) // CHAR_WIDTH)
    lift = 0.22 * dx * (n_cols - 1) / 2 + 10  # room above for the highest arc
    height = int(row * max(len(c) for c in columns.values()) + 40 + lift)
    top = max(ranks.values())
    pos, radius = {}, {}
    for col, members in columns.items():
        for i, v in enumerate(members):
            pos[v] = (80 + col * dx,
                      lift + 40 + i * row + (height - lift - 40 - len(members) * row) / 2)
            radius[v] = 6 + 22 * math.sqrt(ranks[v] / top)
    # marker ids must be unique per page: a hidden SVG's markers do not render in another
    uid = "arrow-" + hashlib.sha1(str(context).encode()).hexdigest()[:10]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="100%" role="img" aria-label="moral graph">',
           f'<defs><marker id="{uid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" '
           'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" '
           'fill="#555"/></marker></defs>']
    for row_ in edges.itertuples(index=False):
        (x1, y1), (x2, y2) = pos[row_.source], pos[row_.wiser]
        d = math.hypot(x2 - x1, y2 - y1) or 1.0
        span = abs(level[row_.wiser] - level[row_.source])
        off = 0.0 if span <= 1 else 0.22 * d  # longer jumps arc higher, so arcs nest
        cx, cy = (x1 + x2) / 2 + off * (y2 - y1) / d, (y1 + y2) / 2 - off * (x2 - x1) / d
        r1, r2 = radius[row_.source], radius[row_.wiser] + 2
        d1 = math.hypot(cx - x1, cy - y1) or 1.0
        d2 = math.hypot(cx - x2, cy - y2) or 1.0
        ax, ay = x1 + (cx - x1) * r1 / d1, y1 + (cy - y1) * r1 / d1
        bx, by = x2 + (cx - x2) * r2 / d2, y2 + (cy - y2) * r2 / d2
        tip = (f"{_name(graph, row_.source)} → {_name(graph, row_.wiser)}: "
               f"{row_.markedWiser} wiser, {row_.markedNotWiser} not wiser, "
               f"{row_.markedLessWise} less wise, {row_.markedUnsure} unsure; "
               f"likelihood {row_.wiserLikelihood:.2f}, entropy {row_.entropy:.2f}")
        out.append(f'<path d="M{ax:.1f},{ay:.1f} Q{cx:.1f},{cy:.1f} {bx:.1f},{by:.1f}" '
                   f'fill="none" stroke="#555" stroke-opacity="0.7" '
                   f'stroke-width="{1 + 3 * max(row_.wiserLikelihood, 0):.2f}" '
                   f'marker-end="url(#{uid})"><title>{escape(tip)}</title></path>')
    for i, v in enumerate(nodes):
        x, y = pos[v]
        card = graph.values.get(v)
        tip = f"{_name(graph, v)} (PageRank {ranks[v]:.4f})"
        if card and card.description:
            tip += f"\n{card.description}"
        if card and card.policies:
            tip += "\n" + "\n".join(f"• {p}" for p in card.policies)
        colour = PALETTE[0] if i else PALETTE[1]
        lines = label_lines(_name(graph, v), max_chars)
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if k == 0 else LINE}">{escape(line)}</tspan>'
            for k, line in enumerate(lines))
        out.append(f'<g><title>{escape(tip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" '
                   f'r="{radius[v]:.1f}" fill="{colour}" fill-opacity="0.85"/>'
                   f'<text x="{x:.1f}" y="{y + radius[v] + LINE:.1f}" text-anchor="middle" '
                   f'font-family="sans-serif" font-size="{FONT}" stroke="#fff" '
                   f'stroke-width="3" paint-order="stroke">{spans}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _name(graph: MoralGraph, value) -> str:
    card = graph.values.get(value)
    return card.title if card and card.title else str(value)


def graph_html(graph: MoralGraph, title: str = "Moral graph") -> str:
    """A self-contained page: one section per context (and the pooled graph), a menu to switch."""
    sections = [("all", "All contexts", None)] + [
        (f"c{i}", c, c) for i, c in enumerate(graph.contexts)]
    menu = " · ".join(f'<a href="#{sid}">{escape(label)}</a>' for sid, label, _ in sections)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
             "</title><style>body{font-family:sans-serif;max-width:960px;margin:auto;padding:1em}"
             "section{display:none}section:target{display:block}"
             "section#all{display:block}section:target~section#all{display:none}"
             "nav a{margin:0 .2em}</style></head><body>"
             f"<h1>{escape(title)}</h1><p>{graph.n_edges} votes, {len(graph.edges)} edges "
             f"pooled. Node size: PageRank; arrow: towards the value judged wiser.</p>"
             f"<nav>{menu}</nav>"]
    for sid, label, ctx in sections[1:] + sections[:1]:
        winner = graph.winners.get(ctx) if ctx else None
        note = f"<p>Winning value: <b>{escape(_name(graph, winner))}</b></p>" if winner else ""
        parts.append(f"<section id='{sid}'><h2>{escape(label)}</h2>{note}"
                     f"{context_svg(graph, ctx)}</section>")
    parts.append("</body></html>")
    return "".join(parts)
