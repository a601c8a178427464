"""Edge readers and the ``pluralign moralgraph`` commands, as a user runs them."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from pluralign.errors import InputError
from pluralign.moralgraph.dftjson import check_document, read_graph_json
from pluralign.moralgraph.io import read_edges

ROWS = [
    ("u1", 1, 2, "distress", "upgrade", "s"),
    ("u2", 1, 2, "distress", "upgrade", ""),
    ("u3", 2, 3, "distress", "upgrade", ""),
    ("u4", 2, 3, "distress", "upgrade", ""),
    ("u5", 2, 3, "distress", "not_sure", ""),
]


def write_csv(path, header="user,from,to,context,relationship,story", rows=ROWS):
    lines = [header] + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path, rows=ROWS):
    keys = ("user", "from", "to", "context", "relationship", "story")
    path.write_text("\n".join(json.dumps(dict(zip(keys, r, strict=True))) for r in rows) + "\n")
    return path


def test_formats_read_the_same(tmp_path):
    csv = read_edges(write_csv(tmp_path / "e.csv"))
    jsonl = read_edges(write_jsonl(tmp_path / "e.jsonl"))
    keys = ("user", "from", "to", "context", "relationship", "story")
    (tmp_path / "e.json").write_text(json.dumps([dict(zip(keys, r, strict=True)) for r in ROWS]))
    arr = read_edges(tmp_path / "e.json")
    for frame in (csv, jsonl, arr):
        assert list(frame["from_id"]) == [1, 1, 2, 2, 2]  # integer-looking ids become ints
        assert list(frame["relationship"])[-1] == "not_sure"
        assert list(frame["participant"]) == ["u1", "u2", "u3", "u4", "u5"]


def test_aliases_and_string_ids(tmp_path):
    path = write_csv(tmp_path / "e.csv", "participant,fromId,toId,contextId,type,story",
                     [("u1", "care", "presence", "c", "upgrade", "")])
    frame = read_edges(path)
    assert list(frame["from_id"]) == ["care"] and list(frame["story"]) == [""]


@pytest.mark.parametrize("suffix, content, match", [
    (".csv", "user,from,to,context,relationship\nu1,1,2,c,upgrade\nu2,1,2,c,wiser\n",
     r"line 3, column 'relationship'.*'wiser'"),
    (".csv", "user,from,to,context,relationship\nu1,1,2,,upgrade\n", r"line 2, column 'context'"),
    (".csv", "user,from,to,relationship\nu1,1,2,upgrade\n", "missing field.*context"),
    (".csv", "user,from,to,context,relationship\nu1,4,4,c,upgrade\n", r"line 2, column 'to'"),
    (".jsonl", '{"user":"u","from":1,"to":2,"context":"c","relationship":"upgrade"}\n\n{bad\n',
     "line 3"),
    (".jsonl", '{"user":"u","from":1,"to":2,"context":"c","relationship":"upgrade"}\n'
               '{"user":"u","from":1,"to":2,"context":"c","relationship":"nope"}\n',
     r"line 2, column 'relationship'"),
    (".json", '[{"user":"u","from":1,"to":2,"context":"c","relationship":"upgrade"},'
              '{"user":"","from":1,"to":2,"context":"c","relationship":"upgrade"}]',
     r"edge \[1\], field 'user'"),
    (".json", '{"a": 1}', "JSON array"),
    (".txt", "x", "unknown edge file type"),
])
def test_errors_name_line_and_field(tmp_path, suffix, content, match):
    path = tmp_path / f"e{suffix}"
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        read_edges(path)


def test_cli_summarize_end_to_end(tmp_path, capsys):
    edges = write_csv(tmp_path / "e.csv")
    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps([{"id": i, "title": f"V{i}", "description": "", "policies": []}
                                 for i in (1, 2, 3)]))
    out = tmp_path / "out" / "graph.json"
    res = run_cli("moralgraph", "summarize", edges, "--values", cards, "--out", out)
    assert res.returncode == 0, res.stderr
    assert "distress" in res.stdout and "V3" in res.stdout
    doc = read_graph_json(out)
    assert check_document(doc) == []
    # 1→2: W=2, I=2 ; 2→3: W=2, U=1, I=3 → both included; chain 1→2→3
    assert {(e.source, e.wiser) for e in doc.edges} == {(1, 2), (2, 3)}
    assert doc.winners() == {"distress": 3}
    prov = doc.pluralign["provenance"]
    assert len(prov["inputs"][str(edges)]) == 64 and prov["settings"]["damping"] == 0.85
    code, stdout, _ = cli(capsys, "moralgraph", "check", out)
    assert code == 0 and "consistent" in stdout


def cli(capsys, *args):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from pluralign.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_thresholds_and_all_edges(tmp_path, capsys):
    edges = write_csv(tmp_path / "e.csv")
    out = tmp_path / "g.json"
    code, _, err = cli(capsys, "moralgraph", "summarize", edges, "--out", out,
                       "--min-marked-wiser", "3", "--all-edges")
    assert code == 0, err
    data = json.loads(out.read_text())
    assert data["edges"] == [] and len(data["allEdges"]) == 4


def test_cli_errors_are_clean(tmp_path, capsys):
    bad = tmp_path / "e.csv"
    bad.write_text("user,from,to,context,relationship\nu1,1,2,c,maybe\n")
    out = tmp_path / "g.json"
    res = run_cli("moralgraph", "summarize", bad, "--out", out)  # once as a real process
    assert res.returncode == 1 and "line 2" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()
    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps([{"id": 1, "title": "only one"}]))
    ok = write_csv(tmp_path / "ok.csv")
    code, _, err = cli(capsys, "moralgraph", "summarize", ok, "--values", cards, "--out", out)
    assert code == 1 and "column 'from': value 2 is not among the values cards of cards.json" in err
    code, _, err = cli(capsys, "moralgraph", "summarize", ok, "--damping", "2", "--out", out)
    assert code == 1 and "damping" in err
    assert not out.exists()
    tampered = tmp_path / "t.json"
    tampered.write_text(json.dumps({"values": [], "edges": [{
        "sourceValueId": 1, "wiserValueId": 2, "contexts": [],
        "counts": {"markedWiser": 2, "markedNotWiser": 0, "markedLessWise": 0,
                   "markedUnsure": 0, "impressions": 2},
        "summary": {"wiserLikelihood": 0.5, "entropy": 1.0}}]}))
    code, _, err = cli(capsys, "moralgraph", "check", tampered)
    assert code == 1 and "wiserLikelihood" in err


def test_cli_simulate_then_summarize(tmp_path, capsys):
    edges, cards, out = tmp_path / "e.jsonl", tmp_path / "c.json", tmp_path / "g.json"
    code, _, err = cli(capsys, "moralgraph", "simulate", "--out", edges, "--cards-out", cards,
                       "--participants", "120", "--seed", "4")
    assert code == 0, err
    code, stdout, err = cli(capsys, "moralgraph", "summarize", edges, "--values", cards,
                            "--out", out)
    assert code == 0, err
    assert "Grounded Agency" in stdout
