"""``pluralign demo``: runs every stage into a folder, resumes, and is deterministic."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli
from pluralign.demo import DEMO_STAGES, run_demo


def test_demo_cli_runs_and_skips_when_up_to_date(tmp_path):
    out = run_cli("demo", "--out", tmp_path / "d", "--seed", "1")
    assert out.returncode == 0, out.stderr
    assert "simulate" in out.stdout and "summary" in out.stdout
    summary = json.loads((tmp_path / "d" / "summary" / "summary.json").read_text())
    assert summary["participants"] == DEMO_STAGES[0][3]["participants"] + 1  # + moderator
    assert summary["statements"] == DEMO_STAGES[0][3]["statements"]
    assert summary["vote_events"] > summary["votes_counted"] > 0
    assert summary["true_consensus"] > 0
    assert (tmp_path / "d" / "pluralign.db").is_file()
    again = run_cli("demo", "--out", tmp_path / "d", "--seed", "1")
    assert again.returncode == 0 and again.stdout.count("skipped") == len(DEMO_STAGES)


@pytest.mark.slow
def test_demo_in_process_is_deterministic_and_reruns_from_a_stage(tmp_path):
    first = run_demo(tmp_path / "a", seed=3)
    second = run_demo(tmp_path / "b", seed=3)
    for name in ("truth.json", "votes.csv", "pool.csv"):
        assert (tmp_path / "a" / "simulate" / name).read_bytes() == (
            tmp_path / "b" / "simulate" / name
        ).read_bytes()
    assert [o.fingerprint for o in first.outcomes] == [o.fingerprint for o in second.outcomes]
    a = json.loads((tmp_path / "a" / "summary" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary" / "summary.json").read_text())
    assert a == b
    rerun = run_demo(tmp_path / "a", seed=3, from_stage="store")
    assert [o.status for o in rerun.outcomes][:3] == ["skipped", "ran", "ran"]
    assert json.loads((tmp_path / "a" / "summary" / "summary.json").read_text()) == a
