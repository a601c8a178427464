"""`pluralign aggregate` end to end: Polis CSV folder and the store, outputs and errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from synthetic_votes import synthetic_votes

from conftest import run_cli
from pluralign.cli import main


@pytest.mark.slow
def test_aggregate_polis_folder(polis_dir, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("aggregate", polis_dir / "brexit-consensus", "--out", out, "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    assert "2 opinion groups" in proc.stdout
    groups = pd.read_csv(out / "groups.csv")
    stmts = pd.read_csv(out / "statements.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert len(groups) == 204 and groups["group"].notna().sum() == summary["participants_clustered"]
    assert {
        "statement",
        "text",
        "agrees",
        "disagrees",
        "passes",
        "g0_agreement",
        "g1_agreement",
        "gac",
        "bridging",
        "repness_group",
        "repness",
    } <= set(stmts.columns)
    assert summary["settings"]["base_k"] == 100
    assert (out / "opinion_map.png").stat().st_size > 10_000


def test_aggregate_without_consensus_names_the_closest_statement(polis_dir, tmp_path, capsys):
    main(["aggregate", str(polis_dir / "football-concussions"), "--out", str(tmp_path / "o")])
    out = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert "no statement is cross-group consensus" in out
    assert "the closest statement, 1" in out and "--min-posterior = 0.25 (set it to" in out


def run_main(*args) -> int:
    """Run the CLI in-process (faster than a subprocess); returns the exit status."""
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_aggregate_errors_are_for_users(tmp_path, capsys):
    assert run_main("aggregate", tmp_path / "nope", "--out", tmp_path / "o") == 1
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "not a folder" in err and "Traceback" not in err
    assert run_main("aggregate", "--out", tmp_path / "o") == 1
    assert "either a FOLDER" in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "o").exists()


def fill_store(db_url, slug="ai-rules"):
    from pluralign.store import (
        ACCEPTED,
        REJECTED,
        Assembly,
        Participant,
        Statement,
        Vote,
        open_store,
    )

    votes, truth = synthetic_votes(n_per_group=(15, 12), n_divisive=8, n_consensus=2, seed=9)
    store = open_store(db_url)
    with store.session() as s:
        a = Assembly(slug=slug, topic="How should AI behave?")
        s.add(a)
        s.flush()
        people = {
            p: Participant(assembly_id=a.id, number=int(p), key=f"k{p}")
            for p in votes.participant.unique()
        }
        stmts = {
            q: Statement(
                assembly_id=a.id, number=int(q), text=f"Statement {q}", moderation=ACCEPTED
            )
            for q in votes.statement.unique()
        }
        stmts[99] = Statement(assembly_id=a.id, number=99, text="spam", moderation=REJECTED)
        s.add_all([*people.values(), *stmts.values()])
        s.flush()
        for row in votes.itertuples():
            s.add(
                Vote(
                    assembly_id=a.id,
                    participant_id=people[row.participant].id,
                    statement_id=stmts[row.statement].id,
                    value=int(row.value),
                )
            )
        # an old vote superseded by a later one, and a vote on the rejected statement
        first = people[votes.participant.iloc[0]]
        s.add(Vote(assembly_id=a.id, participant_id=first.id, statement_id=stmts[99].id, value=1))
    store.dispose()
    return votes, truth


def test_aggregate_from_store(db_url, tmp_path):
    votes, truth = fill_store(db_url)
    out = tmp_path / "out"
    assert run_main("aggregate", "--db", db_url, "--slug", "ai-rules", "--out", out) == 0
    stmts = pd.read_csv(out / "statements.csv")
    assert 99 not in set(stmts["statement"])  # rejected statement excluded
    assert int(stmts["agrees"].sum()) == int((votes.value == 1).sum())
    groups = pd.read_csv(out / "groups.csv")
    assert groups["group"].nunique() == 2


def test_aggregate_unknown_slug(db_url, tmp_path, capsys):
    fill_store(db_url)
    assert run_main("aggregate", "--db", db_url, "--slug", "nope", "--out", tmp_path / "o") == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no assembly 'nope'" in err and "ai-rules" in err
