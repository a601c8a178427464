"""The demo's moral-graph stage writes a consistent graph that recovers the simulated truth, and
its result reads back what it wrote."""

from __future__ import annotations

import json
from pathlib import Path

from pluralign.moralgraph.dftjson import check_document, read_graph_json
from pluralign.moralgraph.stage import FILES, STAGE, MoralGraphInputs, MoralGraphResult


def _demo_settings():
    from pluralign.run.demo import demo_config

    return demo_config(Path("pluralign-demo")).moral_graph.settings()


def test_demo_stage(tmp_path):
    out = tmp_path / "moral_graph"
    result = STAGE.run(MoralGraphInputs(), _demo_settings(), 0)
    assert tuple(result.files) == FILES
    result.write(out)
    assert MoralGraphResult.read(out) == result
    assert STAGE.run(MoralGraphInputs(), _demo_settings(), 0) == result  # seeded
    doc = read_graph_json(out / "graph.json")
    assert check_document(doc) == []
    meta = json.loads((out / "graph.json").read_text())["pluralign"]
    assert meta["provenance"]["simulation"] == {"participants": 120, "votes_per_participant": 6,
                                                "noise": 0.2, "seed": 0}
    rec = json.loads((out / "recovery.json").read_text())
    assert all(r["winner_correct"] for r in rec.values())
    clauses = json.loads((out / "clauses.json").read_text())
    assert {c["context"] for c in clauses} == set(rec)
    assert "<svg" in (out / "graph.html").read_text()


def test_report_shows_the_demo_graph(tmp_path):
    from pluralign.report.sections import moral_graph_section

    out = tmp_path / "moral_graph"
    STAGE.run(MoralGraphInputs(), _demo_settings(), 1).write(out)
    section = moral_graph_section(tmp_path)
    tables = [b for b in section.blocks if b["type"] == "table" and b.get("caption") == "Values"]
    assert tables[0]["columns"] == ["value", "pageRank"]
    titles = {str(v["title"]) for v in json.loads((out / "graph.json").read_text())["values"]}
    assert {row[0].text for row in tables[0]["rows"]} == titles  # names, not ids
