"""The preference-file API behind `data prefs`: readers of panel/weights/targets files and
write_sim_preferences with each weighting mode."""

from __future__ import annotations

import json

import numpy as np
import pytest
from prefs_simfixture import pool_id, write_sim

from pluralign.data.preferences import read_jsonl
from pluralign.data.prefsets import read_panel, read_targets, write_sim_preferences
from pluralign.errors import InputError


def test_read_targets_formats(tmp_path):
    quotas = tmp_path / "q.csv"
    quotas.write_text("feature,value,min,max\ngender,woman,4,6\ngender,man,2,4\n")
    assert read_targets(quotas) == {"gender": {"woman": 5.0, "man": 3.0}}
    shares = tmp_path / "s.csv"
    shares.write_text("feature,value,share\nage,young,0.4\n")
    assert read_targets(shares) == {"age": {"young": 0.4}}
    pop = tmp_path / "population.json"
    pop.write_text(json.dumps({"features": {"gender": {"woman": 0.5, "man": 0.5}}}))
    assert read_targets(pop) == {"gender": {"woman": 0.5, "man": 0.5}}
    pop.write_text(json.dumps({"features": {"gender": "woman"}}))
    with pytest.raises(InputError, match="features"):
        read_targets(pop)
    bad = tmp_path / "b.csv"
    bad.write_text("feature,value\ngender,woman\n")
    with pytest.raises(InputError, match="b.csv, line 1"):
        read_targets(bad)


def test_read_panel(tmp_path):
    panel = tmp_path / "panel.csv"
    panel.write_text("id,gender,probability\nP1,woman,0.2\nP2,man,0.3\n")
    ids, weights, demo = read_panel(panel)
    assert ids == ["P1", "P2"] and weights is None and demo["P2"] == {"gender": "man"}
    panel.write_text("id,gender\nP1,woman\nP1,man\n")
    with pytest.raises(InputError, match="appears twice"):
        read_panel(panel)


@pytest.mark.parametrize("weighting", ["hard", "soft", "representative"])
def test_write_sim_preferences_modes(tmp_path, weighting):
    sim = write_sim(tmp_path / "sim", n=24)
    panel = tmp_path / "panel.csv"
    # 12 panel members: 8 women, 4 men (fixture: woman when i % 4 < 2)
    members = [i for i in range(24) if i % 4 < 2][:8] + [i for i in range(24) if i % 4 >= 2][:4]
    panel.write_text(
        "id,gender,weight\n"
        + "".join(
            f"{pool_id(i)},{'woman' if i % 4 < 2 else 'man'},{2 if i % 4 < 2 else 1}\n"
            for i in members
        )
    )
    pop = tmp_path / "population.json"
    pop.write_text(json.dumps({"features": {"gender": {"woman": 0.5, "man": 0.5}}}))
    files = write_sim_preferences(
        sim,
        tmp_path / "train.jsonl",
        weighting=weighting,
        panel=panel,
        targets=pop,
        seed=3,
        balance=False,  # the weighting alone (stance balancing: test_balance_choices_*)
    )
    train, held = read_jsonl(files.train), read_jsonl(files.heldout)
    assert files.train_pairs == len(train.pairs) > 0 and files.heldout_pairs == len(held.pairs)
    for part in (train, held):
        w = np.array([p.weight for p in part.pairs])
        assert w.mean() == pytest.approx(1.0)
    people = {p.provenance["participant"] for p in train.pairs}
    genders = [p.provenance["demographics"]["gender"] for p in train.pairs]
    if weighting == "hard":
        assert people == {pool_id(i) for i in members} and set(w) == {1.0}
    elif weighting == "soft":
        # women weigh 2, men 1; each person answers the same prompts: mean weight ratio 2
        ww = np.mean(
            [p.weight for p in train.pairs if p.provenance["demographics"]["gender"] == "woman"]
        )
        wm = np.mean(
            [p.weight for p in train.pairs if p.provenance["demographics"]["gender"] == "man"]
        )
        assert ww == pytest.approx(2 * wm)
    else:
        assert genders.count("woman") == genders.count("man")  # 4 + 4 people
        assert len(people) == 8
        assert train.provenance["weighting"]["representative"]["max_abs_deviation"] == 0.0
