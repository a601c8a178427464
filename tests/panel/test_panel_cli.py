"""``pluralign panel select`` / ``panel quotas`` end to end, and saving a panel in the store."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from panel_helpers import meets, random_instance
from sqlalchemy import select

from conftest import run_cli
from pluralign.panel import read_quotas, select_panel


@pytest.fixture
def files(tmp_path):
    pool, quotas = random_instance(31, 40, 6, 3, 2, 1)
    pool["email"] = [f"{i}@example.org" for i in pool["id"]]  # extra columns are carried along
    pool.to_csv(tmp_path / "pool.csv", index=False)
    quotas.to_frame().to_csv(tmp_path / "quotas.csv", index=False)
    pop = {f: {v: 1 / 2 for v in ("v0", "v1")} for f in ("f0", "f1", "f2")}
    (tmp_path / "population.json").write_text(json.dumps(pop))
    return tmp_path, pool, quotas


@pytest.mark.slow
def test_select_writes_outputs_and_stores(files):
    d, pool, quotas = files
    out, db = d / "out", d / "store.db"
    proc = run_cli(
        "panel",
        "select",
        "--pool",
        d / "pool.csv",
        "--quotas",
        d / "quotas.csv",
        "--size",
        "6",
        "--method",
        "leximin",
        "--seed",
        "5",
        "--out",
        out,
        "--population",
        d / "population.json",
        "--save",
        "--db",
        db,
        "--name",
        "t",
    )
    assert proc.returncode == 0, proc.stderr
    panel = pd.read_csv(out / "panel.csv", dtype={"id": str})
    probs = pd.read_csv(out / "probabilities.csv", dtype={"id": str})
    report = json.loads((out / "report.json").read_text())
    assert list(probs.columns) == ["id", "probability"] and len(probs) == len(pool)
    assert probs["probability"].sum() == pytest.approx(6)
    assert {"id", "email", "probability", "weight"} <= set(panel.columns)
    assert meets(pool, quotas, list(panel["id"]), 6)
    assert panel["weight"].mean() == pytest.approx(1.0)
    for key in (
        "min_probability",
        "gini",
        "geometric_mean",
        "solver_time_s",
        "support_size",
        "method",
        "seed",
        "version",
    ):
        assert key in report
    assert report["min_probability"] == pytest.approx(probs["probability"].min())
    digest = hashlib.sha256((d / "pool.csv").read_bytes()).hexdigest()
    assert report["inputs"]["pool"]["sha256"] == digest
    assert report["weights"]["target"] == "population"
    # Same seed through the Python API: same panel.
    api = select_panel(pool.drop(columns="email"), quotas, 6, "leximin", seed=5)
    assert sorted(api.panel) == sorted(panel["id"])

    from pluralign.store import Panel, PanelMember, open_store

    store = open_store(str(db))
    with store.session() as s:
        stored = s.scalars(select(Panel)).one()
        assert (stored.name, stored.method, stored.size, stored.seed) == ("t", "leximin", 6, 5)
        members = s.scalars(select(PanelMember).where(PanelMember.panel_id == stored.id)).all()
        assert len(members) == len(pool)
        assert sorted(m.person for m in members if m.selected) == sorted(panel["id"])
        assert sum(m.probability for m in members) == pytest.approx(6)
    store.dispose()


def test_select_error_exits_1_without_outputs(files):
    d, pool, _ = files
    pool.loc[3, "f0"] = "v9"
    pool.to_csv(d / "bad.csv", index=False)
    proc = run_cli(
        "panel",
        "select",
        "--pool",
        d / "bad.csv",
        "--quotas",
        d / "quotas.csv",
        "--size",
        "6",
        "--out",
        d / "out",
    )
    assert proc.returncode == 1
    assert "line 5, column 'f0'" in proc.stderr and "has no quota" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (d / "out").exists()


def test_quotas_command(tmp_path):
    (tmp_path / "pop.json").write_text(json.dumps({"g": {"f": 0.5, "m": 0.5}}))
    proc = run_cli(
        "panel",
        "quotas",
        "--population",
        tmp_path / "pop.json",
        "--size",
        "10",
        "--slack",
        "0.2",
        "--out",
        tmp_path / "q.csv",
    )
    assert proc.returncode == 0, proc.stderr
    q = read_quotas(tmp_path / "q.csv")
    assert [(i.value, i.min, i.max) for i in q.items] == [("f", 4, 6), ("m", 4, 6)]


def test_save_panel_on_each_database(store):
    from pluralign.errors import NotFoundError
    from pluralign.panel.store import save_panel
    from pluralign.store import Assembly, Panel, PanelMember

    pool, quotas = random_instance(41, 12, 4, 2, 2, 1)
    r = select_panel(pool, quotas, 4, "maximin", seed=9)
    with store.session() as s:
        s.add(Assembly(slug="a1", topic="t"))
    pid = save_panel(store, r, name="p", weights={r.panel[0]: 2.5}, assembly="a1")
    with store.session() as s:
        panel = s.get(Panel, pid)
        assert panel.report["method"] == "maximin" and panel.assembly_id is not None
        rows = {m.person: m for m in s.scalars(select(PanelMember)).all()}
        assert rows[r.panel[0]].weight == 2.5 and rows[r.panel[0]].selected
        assert sum(m.selected for m in rows.values()) == 4
    with pytest.raises(NotFoundError, match="no assembly with slug 'zz'"):
        save_panel(store, r, name="p", assembly="zz")
