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


def test_every_full_policy_replays():
    full = bench.completed(_tiny(), 0, "group")
    n, total = full.observed.shape[0], int(full.observed.sum())
    for name, weight in bench.FULL_POLICIES.items():
        out = bench.full_replay(full, weight, seed=0)
        assert bench.MIN_VOTES * n <= out["groups"] <= total, name
        assert out["consensus"] <= total, name


def test_two_tracks_send_everyone_to_one_statement_on_common_votes():
    m, who = 14, np.arange(5)
    rng = np.random.default_rng(0)
    ctx = dict(who=who, model=None, order=rng.permutation(m).astype(float), rng=rng)
    tally = np.zeros((m, 3))
    common = bench.w_tracks(tally, {}, 0, ctx)  # a common vote: one score row for everyone
    assert common.shape == (5, m) and (common == common[0]).all()
    assert common[0].argmax() == ctx["order"].argmax()
    explore = bench.w_tracks(tally, {}, bench.MIN_VOTES, ctx)  # an exploring vote: a draw each
    assert not (explore == explore[0]).all()
    assert bench.w_tracks(tally, {}, bench.MIN_VOTES + 1, ctx).tolist() == common.tolist()


def test_summarise_pairs_by_seed_and_checks_the_target(capsys):
    names = bench.polis_names()
    chosen, held = names[0], names[1]

    def row(name, seed, policy, groups, consensus):
        return dict(
            conversation=name,
            seed=seed,
            policy=policy,
            groups=groups,
            consensus=consensus,
            votes=1000,
            floor=100,
            n_consensus=2,
            impute="group",
        )

    rows = []
    for seed, base in ((0, 400), (1, 800)):
        for name in (chosen, held):
            rows.append(row(name, seed, "random", base, base))
            rows.append(row(name, seed, "p", base // 2, base // 2))  # saves 50 % on both
            rows.append(row(name, seed, "q", base // 2, base))  # 50 % on groups, 0 on consensus
    assert bench.summarise(rows) == 1  # q misses the target
    out = capsys.readouterr().out
    assert "p: >= 30 % fewer votes than random on both, pooled: YES" in out
    assert "q: >= 30 % fewer votes than random on both, pooled: NO" in out
    # the floor: 1 - 100/400 and 1 - 100/800 over the two seeds: mean 81 %
    assert "floor" in out and "+81 ±" in out
    assert bench.summarise([r for r in rows if r["policy"] != "q"]) == 0


def test_bad_rows_files_are_a_one_line_error(tmp_path):
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"conversation": "x", "seed": 0}\n')
    with pytest.raises(SystemExit, match=r"rows.jsonl:1: row without policy, groups"):
        bench.read_rows([bad])
    bad.write_text("not json\n")
    with pytest.raises(SystemExit, match=r"rows.jsonl:1: not a JSON row"):
        bench.read_rows([bad])
    with pytest.raises(SystemExit, match="cannot read"):
        bench.read_rows([tmp_path / "missing.jsonl"])
