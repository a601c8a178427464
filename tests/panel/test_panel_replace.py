"""Replacements (LEXIMIN over feasible completions) and ranked alternates."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panel_helpers import brute_leximin, feasible_panels, household_instance, meets

from pluralign.errors import InfeasibleError, InputError
from pluralign.panel import Quota, Quotas, alternates, replace_dropouts, select_panel

instances = st.tuples(
    st.integers(0, 10_000), st.integers(8, 14), st.integers(2, 4), st.integers(1, 3),
    st.integers(2, 3), st.integers(0, 1),
)  # fmt: skip


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances, st.data())
def test_every_replacement_meets_quotas_and_households(inst, data):
    s, n, k, f, v, slack = inst
    k = min(k, n // 2)
    pool, quotas = household_instance(s, n, k, f, v, slack)
    r = select_panel(pool, quotas, k, "leximin", seed=s, households="home")
    drop = data.draw(st.lists(st.sampled_from(r.panel), min_size=1, max_size=k, unique=True))
    seed = data.draw(st.integers(0, 1000))
    try:
        rep = replace_dropouts(pool, quotas, r.panel, drop, seed=seed, households="home")
    except InfeasibleError:
        # then no completion exists at all: brute force over every panel keeping the stayers
        kept = set(r.panel) - set(drop)
        idx = {p: i for i, p in enumerate(pool["id"])}
        for panel in feasible_panels(pool.drop(index=[idx[d] for d in drop]), quotas, k, "home"):
            assert not kept <= {pool["id"].drop(index=[idx[d] for d in drop]).iloc[i]
                                for i in panel}  # fmt: skip
        return
    assert meets(pool, quotas, rep.panel, k, "home")
    assert set(rep.kept) == set(r.panel) - set(drop)
    assert not set(rep.replacements) & (set(r.panel) | set(drop))
    assert rep.probabilities.sum() == pytest.approx(len(drop))
    again = replace_dropouts(pool, quotas, r.panel, drop, seed=seed, households="home")
    assert again.replacements == rep.replacements  # determinism by seed


def test_replacement_probabilities_are_leximin_over_completions_by_brute_force():
    pool, quotas = household_instance(5, 12, 4, 2, 2, 1)
    r = select_panel(pool, quotas, 4, "leximin", seed=1, households="home")
    drop = list(r.panel[:2])
    kept = [p for p in r.panel if p not in drop]
    rep = replace_dropouts(pool, quotas, r.panel, drop, households="home", gap=1e-9)
    homes = dict(zip(pool["id"], pool["home"], strict=True))
    blocked = {homes[p] for p in kept}
    cands = [p for p in pool["id"] if p not in r.panel and homes[p] not in blocked]
    assert list(rep.candidates) == cands
    # every completion: 2 candidates from 2 households with which the panel meets the quotas
    completions = [
        c for c in itertools.combinations(range(len(cands)), 2)
        if meets(pool, quotas, kept + [cands[i] for i in c], 4, "home")
    ]  # fmt: skip
    expected = brute_leximin(len(cands), completions)
    np.testing.assert_allclose(rep.probabilities, expected, atol=1e-6)


def _small():
    pool = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(8)],
            "g": ["w", "w", "w", "w", "m", "m", "m", "m"],
            "age": ["y", "o", "y", "o", "y", "o", "y", "o"],
            "home": ["1", "2", "3", "4", "1", "5", "6", "7"],
        }
    )
    quotas = Quotas(
        (Quota("g", "w", 2, 2), Quota("g", "m", 2, 2), Quota("age", "y", 1, 3),
         Quota("age", "o", 1, 3))
    )  # fmt: skip
    return pool, quotas


def test_replacing_a_woman_calls_a_woman_never_a_housemate():
    pool, quotas = _small()
    panel = ["p0", "p1", "p5", "p6"]  # w y, w o, m o, m y
    rep = replace_dropouts(pool, quotas, panel, "p1", households="home")
    assert rep.replacements[0] in {"p2", "p3"}  # a woman; p4 shares p0's home anyway
    probs = dict(zip(rep.candidates, rep.probabilities, strict=True))
    assert "p4" not in probs  # lives with p0, who stays
    assert probs["p2"] == pytest.approx(0.5) and probs["p3"] == pytest.approx(0.5)
    assert probs["p7"] == 0.0


def test_errors_name_the_file_and_the_dropout():
    pool, quotas = _small()
    with pytest.raises(InputError) as err:
        replace_dropouts(pool, quotas, ["p0", "p1", "p5", "p6"], "p3,p1", panel_source="panel.csv")
    text = str(err.value)
    assert text.startswith("--dropouts: dropout 'p3' is not on the panel panel.csv")
    with pytest.raises(InputError, match="panel.csv, line 3, column 'id'.*'zz' is not in the pool"):
        replace_dropouts(pool, quotas, ["p0", "zz"], "p0", panel_source="panel.csv")
    with pytest.raises(InputError, match="no dropout ids"):
        replace_dropouts(pool, quotas, ["p0", "p1"], " , ")


def test_infeasible_replacement_suggests_a_relaxation_in_the_original_quotas():
    pool, quotas = _small()
    # Only p2 and p3 (women) can replace p1, with p0, p5, p6 staying and the homes rule; exclude
    # both: no woman left, so the women's minimum has to give way.
    panel = ["p0", "p1", "p5", "p6"]
    with pytest.raises(InfeasibleError) as err:
        replace_dropouts(pool, quotas, panel, "p1", households="home", exclude=["p2", "p3"])
    text = str(err.value)
    assert "no 1 replacement(s) for p1 keep the quotas on 'g'" in text
    assert "lower min of g=w from 2 to 1" in text and "raise max of g=m from 2 to 3" in text
    rep = replace_dropouts(
        pool, quotas, panel, "p1", households="home", exclude=["p2", "p3"], relax=True
    )
    assert [str(c) for c in rep.relaxed] == [
        "lower min of g=w from 2 to 1",
        "raise max of g=m from 2 to 3",
    ]
    assert rep.replacements == ("p7",)


def test_alternates_cover_members_first_and_respect_households():
    pool, quotas = household_instance(8, 14, 4, 2, 2, 1)
    r = select_panel(pool, quotas, 4, "leximin", seed=2, households="home")
    ranked = alternates(pool, quotas, r.panel, 6, seed=4, households="home")
    assert [a.rank for a in ranked] == list(range(1, len(ranked) + 1))
    assert len({a.id for a in ranked}) == len(ranked)
    for a in ranked:
        assert a.id not in r.panel and a.covers
        for d in a.covers:  # the swap is a valid panel
            assert meets(pool, quotas, [p for p in r.panel if p != d] + [a.id], 4, "home")
    # a member no listed alternate covers has no cover in the whole pool, or the list ran out
    covered = {d for a in ranked for d in a.covers}
    if len(ranked) < 6:
        full = alternates(pool, quotas, r.panel, 100, seed=4, households="home")
        assert [a.id for a in full] == [a.id for a in ranked]
    # first covers before second covers: until every coverable member has one, each new
    # alternate covers someone not yet covered
    everyone = {d for a in alternates(pool, quotas, r.panel, 100, households="home")
                for d in a.covers}  # fmt: skip
    seen: set[str] = set()
    for a in ranked:
        if seen >= everyone:
            break
        assert set(a.covers) - seen
        seen |= set(a.covers)
    assert covered <= everyone
    assert alternates(pool, quotas, r.panel, 6, seed=4, households="home") == ranked
    with pytest.raises(InputError, match="--alternates"):
        alternates(pool, quotas, r.panel, -1)
