"""The demo's moral-graph stage writes a consistent graph that recovers the simulated truth."""

from __future__ import annotations

import json
from pathlib import Path

from pluralign.moralgraph.dftjson import check_document, read_graph_json
from pluralign.run.runner import StageContext


def _demo_moral_graph_stage():
    from pluralign.run.demo import demo_config
    from pluralign.run.pipeline import build_stages

    return next(s for s in build_stages(demo_config(Path("pluralign-demo")))
                if s.name == "moral_graph")


def test_demo_stage(tmp_path):
    from pluralign.moralgraph.demo import stage_moralgraph
    entry = _demo_moral_graph_stage()
    out = tmp_path / "moral_graph"
    out.mkdir()
    ctx = StageContext(name="moral_graph", run_dir=tmp_path, out=out, seed=0,
                       settings=dict(entry.settings))
    stage_moralgraph(ctx)
    doc = read_graph_json(out / "graph.json")
    assert check_document(doc) == []
    rec = json.loads((out / "recovery.json").read_text())
    assert all(r["winner_correct"] for r in rec.values())
    clauses = json.loads((out / "clauses.json").read_text())
    assert {c["context"] for c in clauses} == set(rec)
    assert "<svg" in (out / "graph.html").read_text()


def test_report_shows_the_demo_graph(tmp_path):
    from pluralign.moralgraph.demo import stage_moralgraph
    from pluralign.report.sections import moral_graph_section
    entry = _demo_moral_graph_stage()
    out = tmp_path / "moral_graph"
    out.mkdir()
    stage_moralgraph(StageContext(name="moral_graph", run_dir=tmp_path, out=out, seed=1,
                                  settings=dict(entry.settings)))
    section = moral_graph_section(tmp_path)
    tables = [b for b in section.blocks if b["type"] == "table" and b.get("caption") == "Values"]
    assert tables[0]["columns"] == ["value", "pageRank"]
    titles = {str(v["title"]) for v in json.loads((out / "graph.json").read_text())["values"]}
    assert {row[0].text for row in tables[0]["rows"]} == titles  # names, not ids
