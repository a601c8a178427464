"""`pluralign data prefs | import-prism | weight | check` run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from prefs_simfixture import pool_id, write_sim

from cli_inproc import run_inproc
from conftest import run_cli
from pluralign.data.preferences import read_jsonl

PRISM = Path(__file__).parent / "fixtures" / "prism"


def flat(text: str) -> str:
    """Rich wraps long messages: compare with whitespace collapsed."""
    return " ".join(text.split())


def test_prefs_from_sim_with_soft_panel_weights(tmp_path, capsys):
    sim = write_sim(tmp_path / "sim", n=30)
    panel = tmp_path / "panel.csv"
    panel.write_text(
        "id,gender,weight\n"
        + "".join(f"{pool_id(i)},{'f' if i % 2 else 'm'},{1 + i % 3}\n" for i in range(10))
    )
    out = tmp_path / "prefs.jsonl"
    args = ["data", "prefs", "--from-sim", sim, "--panel", panel, "--weighting", "soft"]
    args += ["--seed", "2"]
    r = run_cli(*args, "--out", out)
    assert r.returncode == 0, r.stderr
    train = read_jsonl(out)
    held = read_jsonl(tmp_path / "prefs.heldout.jsonl")
    assert {p.provenance["participant"] for p in train.pairs} == {pool_id(i) for i in range(10)}
    for part in (train, held):
        assert abs(np.mean([p.weight for p in part.pairs]) - 1) < 1e-9
    # person P0003 has weight 3, person P0001 weight 1
    w = {p.provenance["participant"]: p.weight for p in train.pairs}
    assert abs(w["P0003"] - 3 * w["P0001"]) < 1e-9
    assert train.provenance["settings"]["weighting"] == "soft"
    assert set(train.provenance["inputs"]) == {"sim", "panel"}
    # same seed, same bytes
    out2 = tmp_path / "again.jsonl"
    run_inproc(capsys, *args, "--out", out2)
    assert out2.read_bytes() == out.read_bytes()


def test_auto_weighting_is_soft_with_panel_weights_and_hard_without(tmp_path, capsys):
    sim = write_sim(tmp_path / "sim", n=30)
    weighted = tmp_path / "panel.csv"
    weighted.write_text("id,gender,weight\n"
                        + "".join(f"{pool_id(i)},f,{1 + i % 3}\n" for i in range(10)))
    plain = tmp_path / "plain.csv"
    plain.write_text("id,gender\n" + "".join(f"{pool_id(i)},f\n" for i in range(10)))
    for panel, mode in ((weighted, "soft"), (plain, "hard")):
        out = tmp_path / f"{mode}.jsonl"
        code, _, err = run_inproc(capsys, "data", "prefs", "--from-sim", sim, "--panel", panel,
                                  "--out", out)  # no --weighting: the default, auto
        assert code == 0, err
        train = read_jsonl(out)
        assert train.provenance["settings"]["weighting"] == mode
    soft, hard = (read_jsonl(tmp_path / f"{m}.jsonl").pairs for m in ("soft", "hard"))
    assert [p.weight for p in soft] != [p.weight for p in hard]  # the person weights count


def test_prefs_errors(tmp_path, capsys):
    sim = write_sim(tmp_path / "sim", n=10)
    code, _, err = run_inproc(
        capsys,
        "data",
        "prefs",
        "--from-sim",
        sim,
        "--weighting",
        "soft",
        "--out",
        tmp_path / "x.jsonl",
    )
    assert code == 1 and "needs person weights" in err
    bad = tmp_path / "panel.csv"
    bad.write_text("id,weight\nP0001,2\nP0002,heavy\n")
    code, _, err = run_inproc(
        capsys, "data", "prefs", "--from-sim", sim, "--panel", bad, "--out", tmp_path / "x.jsonl"
    )
    assert code == 1 and "line 3, column 'weight'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.jsonl").exists()


def test_import_prism_then_weight_then_check(tmp_path, capsys):
    out = tmp_path / "prism.jsonl"
    r = run_cli("data", "import-prism", PRISM, "--out", out)
    assert r.returncode == 0, r.stderr
    assert len(read_jsonl(out).pairs) == 5
    assert "CC BY" in read_jsonl(out).provenance["license"]
    weights = tmp_path / "w.csv"
    weights.write_text("id,weight\nuser0,1\nuser1,4\n")
    wout = tmp_path / "weighted.jsonl"
    code, _, err = run_inproc(
        capsys, "data", "weight", out, "--weighting", "soft", "--weights", weights, "--out", wout
    )
    assert code == 0, err
    got = [p.weight for p in read_jsonl(wout).pairs]
    # 3 pairs of user0 (w 1) and 2 of user1 (w 4): raw sum 11 → scale 5/11
    assert np.allclose(got, [5 / 11] * 3 + [20 / 11] * 2)
    code, stdout, _ = run_inproc(capsys, "data", "check", wout)
    assert code == 0 and "5 valid pairs" in stdout


def test_check_reports_line_of_bad_row(tmp_path, capsys):
    path = tmp_path / "gen.jsonl"
    path.write_text(
        json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"})
        + "\n"
        + json.dumps({"prompt": "p", "chosen": "a"})
        + "\n"
    )
    code, _, err = run_inproc(capsys, "data", "check", path)
    assert code == 1
    assert "line 2" in err and "'rejected'" in err
