"""The routing benchmark's full replay (benchmarks/routing.py --replay full): its vectorised
weights are the web app's, its completions keep every recorded vote, and a replay counts votes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import routing as bench  # noqa: E402

from pluralign.web import routing  # noqa: E402


def test_vectorised_priority_is_the_web_apps():
    rng = np.random.default_rng(0)
    tally = rng.integers(0, 30, size=(40, 3)).astype(float)
    sep = rng.random(40) * 2
    got = bench.w_priority(tally, {"separation": sep}, 0)
    want = [routing.priority(*map(int, t), float(e)) for t, e in zip(tally, sep, strict=True)]
    assert np.allclose(got, want)


def test_polis_priority_by_hand():
    # A=3, D=1, P=1, S=5, E=0.5: p = 2/7, a = 4/7, novelty = 1 + 8/2 = 5
    got = bench.w_polis(np.array([[3.0, 1.0, 1.0]]), {"extremity": np.array([0.5])}, 0)[0]
    assert got == pytest.approx(((1 - 2 / 7) * 1.5 * (4 / 7) * 5) ** 2)


def _tiny(seed=0, n=60, m=14):
    """Two planted groups that disagree on half the statements; everyone votes on 9."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 2
    lean = np.where(np.arange(m) % 2, 1, -1)[None, :] * np.where(group, 1, -1)[:, None]
    votes = np.where(rng.random((n, m)) < 0.85, lean, -lean)
    observed = np.zeros((n, m), bool)
    for i in range(n):
        observed[i, rng.choice(m, 9, replace=False)] = True
    numbers = np.arange(1, m + 1)
    votes = np.where(observed, votes, 0)
    ref = bench.aggregate(
        bench._matrix(votes, numbers, observed), 0, bench._settings(all_consensus=False)
    )
    return bench.Replay(numbers, observed, votes, np.zeros((n, m), np.int64), ref)


@pytest.mark.parametrize("how", bench.IMPUTATIONS)
def test_completion_keeps_recorded_votes_and_fills_the_clustered(how):
    conv = _tiny()
    full = bench.completed(conv, 0, how)
    assert full.budget is None
    assert (full.votes[conv.observed] == conv.votes[conv.observed]).all()
    clustered = np.asarray(conv.reference.matrix.participants)[conv.reference.groups >= 0] - 1
    assert full.observed[clustered].all()
    assert set(np.unique(full.votes[full.observed & ~conv.observed])) <= {-1, 0, 1}
    # the same seed gives the same completion; another seed another one
    assert (bench.completed(conv, 0, how).votes == full.votes).all()
    assert (bench.completed(conv, 1, how).votes != full.votes).any()


def test_full_replay_counts_votes_and_stops_at_both():
    full = bench.completed(_tiny(), 0, "group")
    out = bench.full_replay(full, bench.w_random, seed=0)
    n = full.observed.shape[0]
    # nothing can be found before every participant has MIN_VOTES votes (the clustering rule)
    assert bench.MIN_VOTES * n <= out["groups"] <= full.observed.sum()
    assert out["consensus"] <= full.observed.sum()
