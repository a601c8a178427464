"""The panel as a contract stage: the run's selection (quotas made from population shares, the
run's files kept beside it), a given panel, and a result that reads back what it wrote."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from panel_helpers import meets, random_instance

from pluralign.errors import InputError
from pluralign.panel import read_quotas
from pluralign.panel.settings import PanelSettings
from pluralign.panel.stage import STAGE, PanelInputs, PanelResult


@pytest.fixture
def files(tmp_path):
    pool, quotas = random_instance(31, 40, 6, 3, 2, 1)
    pool.to_csv(tmp_path / "pool.csv", index=False)
    quotas.to_frame().to_csv(tmp_path / "quotas.csv", index=False)
    pop = {f: {v: 1 / 2 for v in ("v0", "v1")} for f in ("f2", "f0", "f1")}
    (tmp_path / "population.json").write_text(json.dumps(pop))
    return tmp_path, pool


def test_quotas_from_population_and_the_run_files(files):
    d, pool = files
    settings = PanelSettings(size=6, method="maximin", slack=0.2)
    result = STAGE.run(PanelInputs(d / "run", pool=d / "pool.csv",
                                   population=d / "population.json", keep_pool=True),
                       settings, 3)
    assert list(result.files)[:2] == ["panel.csv", "probabilities.csv"]
    assert {"report.json", "audit.json", "quotas.csv", "population.json", "pool.csv",
            "weights.csv"} <= set(result.files)
    assert result.files["pool.csv"] == (d / "pool.csv").read_bytes()
    panel = pd.read_csv(d / "run" / "panel.csv", dtype={"id": str})
    assert meets(pool.astype({"id": str}), read_quotas(d / "run" / "quotas.csv"), panel["id"], 6)
    weights = pd.read_csv(d / "run" / "weights.csv", dtype={"id": str})
    assert list(weights["id"]) == list(panel["id"])
    assert result.report["method"] == "maximin" and result.report["k"] == 6
    # population shares kept sorted, as the run's quotas were made from them
    assert list(json.loads(result.files["population.json"])) == ["f0", "f1", "f2"]
    back = PanelResult.read(d / "run")
    assert back.files == result.files
    back.write(d / "copy")
    assert PanelResult.read(d / "copy").files == result.files


def test_the_command_draw_writes_only_the_selection(files):
    d, _ = files
    result = STAGE.run(PanelInputs(d / "out", pool=d / "pool.csv", quotas=d / "quotas.csv"),
                       PanelSettings(size=6, method="legacy", samples=20), 1)
    assert list(result.files) == ["panel.csv", "probabilities.csv", "report.json",
                                  "audit.json"]
    assert sorted(p.name for p in (d / "out").iterdir()) == sorted(result.files)


def test_a_given_panel_is_taken_as_it_is(files, tmp_path):
    d, pool = files
    given = pool.head(5).assign(weight=[1.0, 2.0, 1.0, 0.5, 0.5])
    given.to_csv(tmp_path / "given.csv", index=False)
    result = STAGE.run(PanelInputs(tmp_path / "run", panel=tmp_path / "given.csv",
                                   keep_pool=True), PanelSettings(), 0)
    assert list(result.files) == ["panel.csv", "weights.csv"] and result.report == {}
    assert pd.read_csv(tmp_path / "run" / "weights.csv")["weight"].tolist() == [1, 2, 1, .5, .5]


def test_inputs_and_settings_are_checked(tmp_path):
    with pytest.raises(InputError, match="volunteer pool"):
        STAGE.run(PanelInputs(tmp_path), PanelSettings(), 0)
    with pytest.raises(InputError, match="quotas need"):
        STAGE.run(PanelInputs(tmp_path, pool=tmp_path / "pool.csv"), PanelSettings(), 0)
    with pytest.raises(InputError, match="field 'panel.uniform'"):
        PanelSettings(uniform=0)
