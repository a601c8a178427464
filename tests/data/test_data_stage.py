"""The preference-data stage on the stage contract: ``run`` on a simulation and on synthesised
pairs, and ``DataResult.read`` gives back what ``write`` wrote (a resumed run trains and
evaluates on the stored pairs, provenance included)."""

from __future__ import annotations

import json

import pytest
from prefs_simfixture import pool_id, write_sim

from pluralign.data.preferences import read_jsonl, sidecar_path, write_jsonl
from pluralign.data.settings import DataSettings
from pluralign.data.stage import STAGE, DataInputs, DataResult, run
from pluralign.errors import InputError
from pluralign.io import sha256_path


def _pairs(n, prompt="p"):
    from pluralign.data.preferences import PreferencePair

    return [PreferencePair(f"{prompt}{i % 5}", f"yes {i}", f"no {i}", 1.0, "g", "people")
            for i in range(n)]


def test_simulated_pairs_round_trip_with_their_provenance(tmp_path):
    sim = write_sim(tmp_path / "sim", n=24)
    panel = tmp_path / "panel.csv"
    panel.write_text("id,gender\n" + "".join(f"{pool_id(i)},woman\n" for i in range(12)))
    extra = write_jsonl(tmp_path / "extra.jsonl", _pairs(3, "extra "))
    result = run(DataInputs(simulation=sim, panel=panel, extra=(extra,)),
                 DataSettings(weighting="hard"), seed=1)
    assert len(result.train) > 3 and len(result.heldout) > 0
    assert [p.prompt for p in result.train.pairs[-3:]] == ["extra 0", "extra 1", "extra 2"]
    upstream = result.train.provenance["upstream"]
    assert upstream["kind"] == "preferences.sim" and upstream["rows"] == len(result.train) - 3
    out = tmp_path / "data"
    out.mkdir()
    result.write(out)
    assert DataResult.read(out) == result
    side = json.loads(sidecar_path(out / "train.jsonl").read_text())
    assert side["rows"] == len(result.train) and side == dict(result.train.provenance)
    held = {p.prompt for p in result.heldout.pairs}
    assert not held & {p.prompt for p in result.train.pairs}  # held-out prompts never trained


def test_synthesised_pairs_are_split_by_prompt(tmp_path):
    synth = write_jsonl(tmp_path / "pairs.jsonl", _pairs(20))
    result = run(DataInputs(synthesised=synth), DataSettings(heldout_fraction=0.4), seed=0)
    assert len(result.train) + len(result.heldout) == 20
    assert not {p.prompt for p in result.heldout.pairs} & {p.prompt for p in result.train.pairs}
    assert result.heldout.provenance["split"] == "heldout"
    out = tmp_path / "data"
    out.mkdir()
    result.write(out)
    assert DataResult.read(out) == result
    assert read_jsonl(out / "heldout.jsonl").pairs == result.heldout.pairs
    with pytest.raises(InputError, match="no preference pairs"):
        run(DataInputs(synthesised=tmp_path / "none.jsonl"), DataSettings(), seed=0)
    assert STAGE.result_cls is DataResult and STAGE.settings_cls is DataSettings


def test_two_identical_runs_write_identical_data_provenance(tmp_path):
    """The data's provenance hashes the simulation's data files, not the simulate stage's
    manifest.json (its start time and duration differ between runs)."""
    import shutil

    from pluralign.run.demo import demo_config
    from pluralign.run.pipeline import build_stages
    from pluralign.run.runner import run_stages

    run = tmp_path / "run"
    names = ("simulate", "store", "summary", "panel", "aggregate", "constitution", "data")
    files = ("train.jsonl.provenance.json", "heldout.jsonl.provenance.json")
    seen = []
    for _ in range(2):
        shutil.rmtree(run, ignore_errors=True)
        cfg = demo_config(run, seed=0)
        run_stages([s for s in build_stages(cfg) if s.name in names], run, seed=0)
        seen.append(({n: (run / "data" / n).read_bytes() for n in files},
                     json.loads((run / "simulate" / "manifest.json").read_text())))
    (first, manifest_1), (second, manifest_2) = seen
    assert manifest_1 != manifest_2  # the runs differ in their bookkeeping (times) ...
    assert first == second  # ... and not in what their data says it was made from
    copy = shutil.copytree(run / "simulate", tmp_path / "copy",
                           ignore=shutil.ignore_patterns("manifest.json"))
    assert _sim_hash(json.loads(first["heldout.jsonl.provenance.json"])) == sha256_path(copy)


def _sim_hash(prov):
    """The ``sim`` input's sha256 in a provenance record (at the top or in ``upstream``)."""
    while "sim" not in prov.get("inputs", {}):
        prov = prov["upstream"]
    return prov["inputs"]["sim"]["sha256"]
