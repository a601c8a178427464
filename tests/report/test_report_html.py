"""`pluralign report`: sections appear only when their inputs exist; the HTML is self-contained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from report_html import read_page

from conftest import run_cli
from pluralign.errors import InputError
from pluralign.evaluate import evaluate_margins
from pluralign.report import build_sections, render_report, write_report

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    for uri in re.findall(r'src="([^"]+)"', html):
        assert uri.startswith("data:image/png;base64,")


def full_run(run: Path) -> Path:
    (run / "simulate").mkdir(parents=True)
    (run / "simulate" / "pool.csv").write_text(
        "id,gender\n" + "".join(f"{i},{'f' if i % 2 else 'm'}\n" for i in range(20))
    )
    (run / "panel").mkdir()
    (run / "panel" / "panel.csv").write_text("id,gender\n1,f\n2,m\n3,f\n4,m\n")
    (run / "panel" / "probabilities.csv").write_text(
        "id,probability\n" + "".join(f"{i},0.2\n" for i in range(20))
    )
    (run / "panel" / "quotas.csv").write_text("feature,value,min,max\ngender,f,1,3\ngender,m,1,3\n")
    (run / "panel" / "report.json").write_text(json.dumps({"min_probability": 0.2, "gini": 0.0}))
    (run / "aggregate").mkdir()
    (run / "aggregate" / "opinion_map.png").write_bytes(PNG_1PX)
    (run / "aggregate" / "groups.csv").write_text("participant,group\n1,0\n2,1\n")
    (run / "aggregate" / "statements.csv").write_text(
        'id,text,gac\n1,"Say you are an AI <script>alert(1)</script>",0.9\n2,Cite sources,0.5\n'
    )
    (run / "aggregate" / "summary.json").write_text(json.dumps({"groups": 2}))
    (run / "constitution").mkdir()
    (run / "constitution" / "constitution.yaml").write_text(
        "provenance: {seed: 4}\n"
        "clauses:\n  - text: The assistant says it is an AI.\n    statements: [1]\n    gac: 0.9\n"
        "  - text: It shows sources.\n    statements:\n      - {id: 2, agree: 9, gac: 0.5,"
        " groups: {0: {agree: 4, disagree: 1, pass: 0}, 1: {agree: 5, disagree: 0, pass: 2}}}\n"
    )
    (run / "train").mkdir()
    (run / "train" / "curve.jsonl").write_text(
        "".join(json.dumps({"step": s, "loss": 1 / s}) + "\n" for s in range(1, 6))
    )
    (run / "train" / "manifest.json").write_text(json.dumps({"stage": "train", "seed": 0}))
    (run / "evaluate").mkdir()
    rows = [
        {"weight": 1, "group": g, "provenance": {"kind": k}}
        for g, k in [("a", "consensus"), ("b", "consensus"), ("a", "divisive"), ("b", "divisive")]
    ]
    res = evaluate_margins(rows, np.zeros(4), [1.0, 1.0, 1.0, -1.0], n_boot=20)
    (run / "evaluate" / "metrics.json").write_text(res.to_json())
    (run / "evaluate" / "judge.json").write_text(
        json.dumps(
            {
                "overall": {"n": 10, "wins_b": 7, "win_rate_b": 0.7, "ci_low": 0.4},
                "per_clause": {"c1": {"text": "Say you are an AI.", "n": 10, "win_rate_b": 0.7}},
                "model_a": "base",
                "model_b": "trained",
            }
        )
    )
    (run / "moralgraph").mkdir()
    (run / "moralgraph" / "graph.json").write_text(
        json.dumps(
            {
                "values": [
                    {"id": "v1", "title": "Honesty", "pageRank": 0.3},
                    {"id": "v2", "title": "Candour", "pageRank": 0.7},
                ],
                "edges": [
                    {
                        "sourceValueId": "v1",
                        "wiserValueId": "v2",
                        "contexts": ["when asked"],
                        "summary": {"wiserLikelihood": 0.8},
                    }
                ],
                "pluralign": {"contexts": [{"id": "when asked", "winner": "v2"}]},
            }
        )
    )
    (run / "moralgraph" / "clauses.json").write_text(
        json.dumps(
            [{"context": "when asked", "text": "When asked, the assistant is guided by Candour"}]
        )
    )
    return run


def test_full_report(tmp_path):
    run = full_run(tmp_path / "run")
    ids = [s.id for s in build_sections(run)]
    assert ids == [
        "summary",
        "evaluation",
        "judge",
        "panel",
        "probabilities",
        "opinions",
        "consensus",
        "constitution",
        "moral-graph",
        "training",
        "run",
        "files",
        "glossary",
    ]
    html = render_report(run)
    assert_self_contained(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # input text is escaped
    assert "The assistant says it is an AI." in html
    page = read_page(html)
    votes = [t for t in page.tables if t.cls == "votes"]
    assert [c.text for c in votes[-1].rows()[-1]] == ["group 1", "5", "0", "2", "71%"]
    assert "provenance.seed" in html  # the constitution's provenance, in the appendix
    assert "Accuracy by opinion group on divisive prompts, worst first" in html
    assert "never averaged away" in html
    assert "Per clause" in html and "Say you are an AI." in html and "trained" in html
    assert "Winning value per context" in html and "guided by Candour" in html
    edges = page.table("moral-graph", "Upgrades")
    assert [[c.text for c in r] for r in edges.rows()] == [
        ["when asked"],
        ["Honesty", "Candour", "0.800"],
    ]
    assert html.count("data:image/png;base64,") >= 5


def test_partial_report_renders_only_present_sections(tmp_path):
    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    (run / "train" / "curve.jsonl").write_text(json.dumps({"step": 1, "loss": 0.7}) + "\n")
    assert [s.id for s in build_sections(run)] == ["training", "glossary"]
    html = render_report(run)
    assert_self_contained(html)
    assert 'id="training"' in html and 'id="panel"' not in html
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "none of the files" in render_report(empty)


def test_bad_inputs_name_the_file(tmp_path):
    run = tmp_path / "run"
    (run / "train").mkdir(parents=True)
    (run / "train" / "curve.jsonl").write_text('{"step": 1}\n{oops\n')
    with pytest.raises(InputError, match=r"curve.jsonl, line 2"):
        build_sections(run)
    (run / "train" / "curve.jsonl").unlink()
    (run / "evaluate").mkdir()
    (run / "evaluate" / "metrics.json").write_text("{}")
    with pytest.raises(InputError, match="metrics file"):
        build_sections(run)
    with pytest.raises(InputError, match="run folder not found"):
        build_sections(tmp_path / "missing")


def test_write_report_and_cli(tmp_path, capsys):
    run = tmp_path / "run"
    (run / "panel").mkdir(parents=True)
    (run / "panel" / "probabilities.csv").write_text("id,probability\n1,0.5\n2,0.5\n")
    path, sections = write_report(run, tmp_path / "out" / "r.html")
    assert path.is_file() and [s.id for s in sections] == ["probabilities", "glossary"]
    r = run_cli("report", run)
    assert r.returncode == 0, r.stderr
    assert (run / "report.html").is_file()
    assert str((run / "report.html").resolve()) in r.stdout.replace("\n", "")
    from pluralign.cli import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path / "missing")])
    assert exit_info.value.code == 1
    assert "run folder not found" in " ".join(capsys.readouterr().err.split())
