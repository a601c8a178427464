"""`pluralign constitution draft/check/render` end to end on a real Polis conversation."""

from __future__ import annotations

import yaml

from pluralign.cli import main


def run_main(*args) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_draft_check_edit_render(polis_dir, tmp_path, capsys):
    out = tmp_path / "c"
    code = run_main(
        "constitution",
        "draft",
        polis_dir / "brexit-consensus",
        "--out",
        out,
        "--embedder",
        "tfidf",
        "--title",
        "Brexit common ground",
        "--offline",
    )
    assert code == 0, capsys.readouterr().err
    data = yaml.safe_load((out / "constitution.yaml").read_text())
    assert data["title"] == "Brexit common ground" and len(data["clauses"]) >= 5
    lead = [cl for cl in data["clauses"] if cl["statements"][0]["id"] == 14]
    assert len(lead) == 1  # the highest-GAC statement leads its clause
    assert set(lead[0]["statements"][0]["groups"]) == {0, 1}
    assert data["topics"] and all(cl["topic"] in data["topics"] for cl in data["clauses"])
    assert "not reworded" in data["clauses"][0]["provenance"]["wording"]["by"]
    assert "Brexit common ground" in (out / "constitution.md").read_text()

    # a user rewords a clause, checks and re-renders it
    data["clauses"][0]["text"] = "Give the Irish border the attention it needs."
    (out / "constitution.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_main("constitution", "check", out / "constitution.yaml") == 0
    assert "valid" in capsys.readouterr().out
    assert run_main("constitution", "render", out / "constitution.yaml") == 0
    assert "Give the Irish border the attention" in (out / "constitution.md").read_text()

    # a broken edit is reported with its line and field, and nothing is rewritten
    before = (out / "constitution.md").read_text()
    data["clauses"][1]["statements"][0]["gac"] = 3
    (out / "constitution.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert run_main("constitution", "render", out / "constitution.yaml") == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "clauses[1].statements[0].gac" in err and "line" in err
    assert (out / "constitution.md").read_text() == before


def test_draft_needs_a_source(tmp_path, capsys):
    assert run_main("constitution", "draft", "--out", tmp_path / "x") == 1
    assert "either a FOLDER" in capsys.readouterr().err
    assert run_main("constitution", "check", tmp_path / "missing.yaml") == 1
    assert "file not found" in capsys.readouterr().err
