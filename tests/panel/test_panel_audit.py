"""End to end through the CLI: households, a uniform lottery, the public draw, replacements,
alternates, relaxation and the audit bundle that ``panel verify`` re-checks (tampering included)."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from panel_helpers import household_instance, meets

from cli_inproc import run_inproc
from pluralign.panel import read_lottery


@pytest.fixture
def files(tmp_path):
    pool, quotas = household_instance(17, 24, 5, 2, 2, 1)
    pool.to_csv(tmp_path / "pool.csv", index=False)
    quotas.to_frame().to_csv(tmp_path / "quotas.csv", index=False)
    return tmp_path, pool, quotas


def _select(capsys, d, out, *extra):
    return run_inproc(
        capsys, "panel", "select", "--pool", d / "pool.csv", "--quotas", d / "quotas.csv",
        "--size", "5", "--households", "home", "--out", out, *extra,
    )  # fmt: skip


def test_uniform_lottery_draw_verify_and_tampering(files, capsys):
    d, pool, quotas = files
    out = d / "sel"
    code, stdout, err = _select(capsys, d, out, "--uniform", "300", "--alternates", "3")
    assert code == 0, err
    assert "uniform lottery of 300 panels: largest probability change" in " ".join(stdout.split())
    lottery = read_lottery(out / "lottery.csv")
    assert lottery.size == 300
    assert all(meets(pool, quotas, t, 5, "home") for t in lottery.tickets)
    audit = json.loads((out / "audit.json").read_text())
    assert audit["pool"]["sha256"] == hashlib.sha256((d / "pool.csv").read_bytes()).hexdigest()
    assert audit["households"] == "home" and audit["method"] == "leximin"
    assert audit["solver"]["solver"] == "HiGHS" and audit["solver"]["highspy"]
    assert audit["lottery"]["tickets"] == 300 and audit["seed"]["integer"] == 0
    assert sorted(pd.read_csv(out / "panel.csv")["id"]) == sorted(audit["draw"]["panel"])
    assert list(lottery.ticket(audit["draw"]["ticket"])) == audit["draw"]["panel"]
    lottery_ticket = audit["draw"]["ticket"]
    probs = pd.read_csv(out / "probabilities.csv")
    assert list(probs.columns) == ["id", "probability", "lottery_probability"]
    code, stdout, err = run_inproc(capsys, "panel", "verify", out)
    assert code == 0, stdout + err
    assert "all 16 checks passed" in stdout
    assert f"draw history: 1 draw recorded (ticket {audit['draw']['ticket']} by select)" in stdout
    # the public draw: ticket = 1 + sha256(text) mod M, recorded in the bundle
    text = "NIST beacon 2026-12-24T12:00Z 0d3f"
    code, stdout, err = run_inproc(
        capsys, "panel", "draw", "--lottery", out / "lottery.csv", "--seed-text", text
    )
    assert code == 0, err
    ticket = 1 + int(hashlib.sha256(text.encode()).hexdigest(), 16) % 300
    assert stdout.startswith(f"ticket {ticket} of 300:")
    audit = json.loads((out / "audit.json").read_text())
    assert audit["seed"]["text"] == text and audit["draw"]["ticket"] == ticket
    drawn = pd.read_csv(out / "panel.csv")
    assert sorted(drawn["id"]) == sorted(lottery.ticket(ticket))
    assert drawn["probability"].tolist() == pytest.approx(
        probs.set_index("id").loc[drawn["id"], "lottery_probability"].tolist()
    )
    code, stdout, err = run_inproc(capsys, "panel", "verify", out)
    assert code == 0, stdout + err
    assert f"ticket {ticket} of 300 from seed text" in stdout
    assert "draw history: 2 draws recorded" in stdout
    # a second public draw warns and erases nothing: the bundle lists every draw
    code, stdout, err = run_inproc(
        capsys, "panel", "draw", "--lottery", out / "lottery.csv", "--seed-text", "again"
    )
    assert code == 0, err
    assert f"drawn in public before (1 time(s); last: ticket {ticket}" in " ".join(stdout.split())
    audit = json.loads((out / "audit.json").read_text())
    again = 1 + int(hashlib.sha256(b"again").hexdigest(), 16) % 300
    assert [(d["by"], d["ticket"]) for d in audit["draws"]] == [
        ("select", lottery_ticket),
        ("panel draw", ticket),
        ("panel draw", again),
    ]
    assert audit["draws"][1]["seed_text"] == text and audit["draw"]["ticket"] == again
    code, stdout, err = run_inproc(capsys, "panel", "verify", out)
    assert code == 0, stdout + err
    assert "the lottery was drawn in public 2 times" in stdout
    # a history edited after the fact fails
    audit["draws"][1]["ticket"] = ticket % 300 + 1
    (out / "audit.json").write_text(json.dumps(audit))
    code, stdout, err = run_inproc(capsys, "panel", "verify", out)
    assert code == 1 and "FAIL draw history" in stdout
    audit["draws"][1]["ticket"] = ticket
    (out / "audit.json").write_text(json.dumps(audit))
    # tampering: swap one person on the drawn ticket's line in lottery.csv
    lines = (out / "lottery.csv").read_text().splitlines()
    other = next(p for p in pool["id"] if p not in lottery.ticket(ticket))
    ids = lines[ticket].split(",")[1].split()
    lines[ticket] = f"{ticket},{' '.join([other, *ids[1:]])}"
    (out / "lottery.csv").write_text("\n".join(lines) + "\n")
    code, stdout, err = run_inproc(capsys, "panel", "verify", out)
    assert code == 1
    assert "FAIL lottery: lottery.csv: sha256" in stdout
    assert "checks failed" in err and "lottery" in err and "Traceback" not in err


def test_replace_through_the_cli_and_verify(files, capsys):
    d, pool, quotas = files
    out = d / "sel"
    assert _select(capsys, d, out, "--seed", "4")[0] == 0
    panel = list(pd.read_csv(out / "panel.csv")["id"])
    code, stdout, err = run_inproc(
        capsys, "panel", "replace", "--pool", d / "pool.csv", "--quotas", d / "quotas.csv",
        "--panel", out / "panel.csv", "--dropouts", f"{panel[0]},{panel[2]}",
        "--households", "home", "--seed", "2", "--out", d / "rep",
    )  # fmt: skip
    assert code == 0, err
    new = pd.read_csv(d / "rep" / "panel.csv")
    assert len(new) == 5 and set(new["role"]) <= {"kept", "replacement"}
    assert (new["role"] == "replacement").sum() == 2
    assert meets(pool, quotas, list(new["id"]), 5, "home")
    cands = pd.read_csv(d / "rep" / "replacements.csv")
    assert cands["probability"].sum() == pytest.approx(2)
    assert set(cands.loc[cands["called"], "id"]) == set(new.loc[new["role"] == "replacement", "id"])
    code, stdout, err = run_inproc(capsys, "panel", "verify", d / "rep")
    assert code == 0, stdout + err
    # a dropout who is not on the panel: one clear line naming the option and the file
    code, _, err = run_inproc(
        capsys, "panel", "replace", "--pool", d / "pool.csv", "--quotas", d / "quotas.csv",
        "--panel", out / "panel.csv", "--dropouts", "nobody", "--out", d / "rep2",
    )  # fmt: skip
    assert code == 1
    assert f"--dropouts: dropout 'nobody' is not on the panel {out / 'panel.csv'}" in err
    assert not (d / "rep2").exists()


def test_select_errors_and_relax_through_the_cli(files, capsys):
    d, pool, quotas = files
    code, _, err = _select(capsys, d, d / "x", "--uniform", "2")
    assert code == 1 and "--uniform: M = 2 is smaller than the" in err and "panels needed" in err
    assert not (d / "x").exists()
    code, _, err = run_inproc(
        capsys, "panel", "select", "--pool", d / "pool.csv", "--quotas", d / "quotas.csv",
        "--size", "5", "--households", "house", "--out", d / "x",
    )  # fmt: skip
    assert code == 1 and f"{d / 'pool.csv'}, line 1, column 'house'" in err
    # quotas that ask for one more of a value than any panel can hold
    q = quotas.to_frame()
    q.loc[0, ["min", "max"]] = [6, 6]
    q.to_csv(d / "tight.csv", index=False)
    code, _, err = run_inproc(
        capsys, "panel", "select", "--pool", d / "pool.csv", "--quotas", d / "tight.csv",
        "--size", "5", "--out", d / "x",
    )  # fmt: skip
    assert code == 1 and "smallest relaxation: lower min of" in err and "--relax" in err
    code, stdout, err = run_inproc(
        capsys, "panel", "select", "--pool", d / "pool.csv", "--quotas", d / "tight.csv",
        "--size", "5", "--relax", "--out", d / "r",
    )  # fmt: skip
    assert code == 0, err
    assert "relaxed the quotas: lower min of" in stdout
    report = json.loads((d / "r" / "report.json").read_text())
    assert report["relaxed"] and (d / "r" / "quotas-relaxed.csv").is_file()
    code, stdout, err = run_inproc(capsys, "panel", "verify", d / "r")
    assert code == 0, stdout + err
    code, _, err = run_inproc(capsys, "panel", "verify", d / "nothing")
    assert code == 1 and "no audit.json here" in err
