"""Reading and validating pools, quotas and population shares; infeasibility diagnostics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.errors import InfeasibleError, InputError
from pluralign.panel import (
    Quota,
    Quotas,
    quotas_from_population,
    read_pool,
    read_population,
    read_quotas,
    select_panel,
)


def write(path, text):
    path.write_text(text)
    return path


POOL = "id,gender,region\na,f,n\nb,m,n\nc,f,s\nd,m,s\ne,f,s\n"
QUOTAS = "feature,value,min,max\ngender,f,1,2\ngender,m,1,2\nregion,n,1,2\nregion,s,1,2\n"


def test_read_valid_files(tmp_path):
    pool = read_pool(write(tmp_path / "pool.csv", POOL))
    quotas = read_quotas(write(tmp_path / "q.csv", QUOTAS))
    assert list(pool["id"]) == list("abcde")
    assert quotas.features == ("gender", "region")
    assert quotas.get("gender", "f") == Quota("gender", "f", 1, 2)
    r = select_panel(pool, quotas, 3, "leximin", seed=1)
    assert len(r.panel) == 3


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("feature,value,min\ngender,f,1\n", "missing column(s) max", "line 1"),
        ("feature,value,min,max\ngender,f,2,1\n", "min 2 > max 1", "line 2"),
        ("feature,value,min,max\ngender,f,1,2\ngender,f,0,2\n", "duplicate quota", "line 3"),
        ("feature,value,min,max\ngender,f,x,2\n", "min must be a whole number", "column 'min'"),
        ("feature,value,min,max\ngender,f,1.5,2\n", "min must be a whole number", "line 2"),
        ("feature,value,min,max\ngender,f,-1,2\n", "min must be a whole number", "line 2"),
        ("feature,value,min,max\n,f,1,2\n", "empty feature or value", "line 2"),
        ("feature,value,min,max\n", "no quotas", "q.csv"),
    ],
)
def test_bad_quotas(tmp_path, text, message, where):
    with pytest.raises(InputError) as err:
        read_quotas(write(tmp_path / "q.csv", text))
    assert message in str(err.value)
    assert where in str(err.value)


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("name,gender\na,f\n", "no 'id' column", "line 1"),
        ("id,gender\na,f\na,m\n", "duplicate id 'a' (first on line 2)", "line 3"),
        ("id,gender\na,f\n,m\n", "empty id", "line 3"),
        ("id,gender\n", "the pool is empty", "pool.csv"),
    ],
)
def test_bad_pool(tmp_path, text, message, where):
    with pytest.raises(InputError) as err:
        read_pool(write(tmp_path / "pool.csv", text))
    assert message in str(err.value)
    assert where in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_pool(tmp_path / "nope.csv")


def test_unknown_feature_names_quota_line(tmp_path):
    pool = read_pool(write(tmp_path / "pool.csv", POOL))
    quotas = read_quotas(write(tmp_path / "q.csv", QUOTAS + "age,young,0,3\n"))
    with pytest.raises(InputError) as err:
        select_panel(pool, quotas, 3)
    assert "pool.csv, line 1: no column 'age'" in str(err.value)  # the pool lacks it
    assert "q.csv (line 6)" in str(err.value)  # ... and this quota row needs it


def test_value_without_quota_names_pool_line(tmp_path):
    pool = read_pool(write(tmp_path / "pool.csv", POOL + "f,x,n\n"))
    quotas = read_quotas(write(tmp_path / "q.csv", QUOTAS))
    with pytest.raises(InputError) as err:
        select_panel(pool, quotas, 3, pool_source="pool.csv")
    text = str(err.value)
    assert "gender='x'" in text and "pool.csv, line 7, column 'gender'" in text
    assert "add a row 'gender,x,0,3'" in text


def test_too_few_people_for_a_minimum():
    pool = pd.DataFrame({"id": list("abc"), "g": ["f", "m", "m"]})
    quotas = Quotas((Quota("g", "f", 2, 3), Quota("g", "m", 0, 3)))
    with pytest.raises(InfeasibleError, match="g=f needs at least 2 .* only 1"):
        select_panel(pool, quotas, 2)


def test_minimums_exceed_panel_size():
    pool = pd.DataFrame({"id": list("abcd"), "g": ["f", "f", "m", "m"]})
    quotas = Quotas((Quota("g", "f", 2, 2), Quota("g", "m", 2, 2)))
    with pytest.raises(InfeasibleError, match="feature 'g': the minimums add up to 4"):
        select_panel(pool, quotas, 3)


def test_maximums_below_panel_size():
    pool = pd.DataFrame({"id": list("abcd"), "g": ["f", "f", "m", "m"]})
    quotas = Quotas((Quota("g", "f", 0, 1), Quota("g", "m", 0, 1)))
    with pytest.raises(InfeasibleError, match="at most 2 panel members"):
        select_panel(pool, quotas, 3)


def test_conflicting_features_are_named():
    # All men live in the south, but the quotas want 2 men and 2 northerners out of 3.
    pool = pd.DataFrame(
        {
            "id": list("abcdef"),
            "g": ["m", "m", "m", "f", "f", "f"],
            "r": ["s", "s", "s", "n", "n", "n"],
        }
    )
    quotas = Quotas(
        (Quota("g", "m", 2, 3), Quota("g", "f", 0, 3), Quota("r", "n", 2, 3), Quota("r", "s", 0, 3))
    )
    with pytest.raises(InfeasibleError) as err:
        select_panel(pool, quotas, 3)
    text = str(err.value)
    assert "no panel of 3 meets the quotas on 'g' and 'r' together" in text
    assert set(err.value.features) == {"g", "r"}
    # one seat less for men or for northerners: the smallest change, worded for people
    assert "smallest relaxation: lower min of" in text and "from 2 to 1" in text
    assert len(err.value.changes) == 1 and err.value.changes[0].new == 1


def test_panel_larger_than_pool_and_bad_method():
    pool = pd.DataFrame({"id": list("ab"), "g": ["f", "m"]})
    quotas = Quotas((Quota("g", "f", 0, 3), Quota("g", "m", 0, 3)))
    with pytest.raises(InfeasibleError, match="larger than the pool"):
        select_panel(pool, quotas, 3)
    with pytest.raises(InputError, match="unknown method 'random'"):
        select_panel(pool, quotas, 1, "random")
    with pytest.raises(InputError, match="panel size must be"):
        select_panel(pool, quotas, 0)


def test_population_file(tmp_path):
    good = write(tmp_path / "p.json", json.dumps({"g": {"f": 0.5, "m": 0.5}}))
    assert read_population(good) == {"g": {"f": 0.5, "m": 0.5}}
    wrapped = {"provenance": {"seed": 1}, "note": "x", "features": {"g": {"f": 0.5, "m": 0.5}}}
    assert read_population(write(tmp_path / "w.json", json.dumps(wrapped))) == {
        "g": {"f": 0.5, "m": 0.5}
    }
    bad = write(tmp_path / "b.json", json.dumps({"g": {"f": 0.5, "m": 0.4}}))
    with pytest.raises(InputError, match="add up to 0.9"):
        read_population(bad)
    broken = write(tmp_path / "x.json", "{\n  oops")
    with pytest.raises(InputError, match=r"x.json, line 2: invalid JSON"):
        read_population(broken)
    with pytest.raises(InputError, match="share must be a number"):
        read_population(write(tmp_path / "n.json", json.dumps({"g": {"f": "half"}})))


def test_quotas_from_population_hand_case():
    q = quotas_from_population({"g": {"f": 0.5, "m": 0.45, "x": 0.05}}, 20, slack=0.1)
    assert q.get("g", "f") == Quota("g", "f", 9, 11)
    assert q.get("g", "m") == Quota("g", "m", 8, 10)  # 9 * 0.9 = 8.1, 9 * 1.1 = 9.9
    assert q.get("g", "x") == Quota("g", "x", 0, 2)  # 1 * 0.9 = 0.9, 1 * 1.1 = 1.1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
    st.integers(1, 300),
    st.floats(0.0, 0.5),
)
def test_quotas_from_population_bracket_the_target(raw, k, slack):
    shares = np.array(raw) / sum(raw)
    pop = {"f": {f"v{i}": float(s) for i, s in enumerate(shares)}}
    pop["f"]["v0"] += 1.0 - sum(pop["f"].values())
    q = quotas_from_population(pop, k, slack)
    for item in q.items:
        target = pop["f"][item.value] * k
        assert item.min <= target + 1e-6 and item.max >= target - 1e-6
        assert 0 <= item.min <= item.max <= k
    assert sum(i.min for i in q.items) <= k <= sum(i.max for i in q.items)
