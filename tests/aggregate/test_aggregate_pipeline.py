"""aggregate(): synthetic truth recovery, determinism, outputs and the result's tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synthetic_votes import synthetic_votes

from pluralign.aggregate import AggregateSettings, aggregate, from_votes, write_outputs
from pluralign.aggregate.truth import group_agreement, precision_recall
from pluralign.constitution import ConstitutionSettings, candidates
from pluralign.errors import InputError


@pytest.mark.parametrize("sizes", [(40, 30), (30, 25, 20)])
def test_recovers_truth_groups_and_consensus(sizes):
    votes, truth = synthetic_votes(n_per_group=sizes, n_divisive=15, n_consensus=4, seed=7)
    result = aggregate(from_votes(votes), seed=0)
    ari, n = group_agreement(result, truth["groups"])
    assert n == sum(sizes)
    assert result.n_groups == len(sizes)
    assert ari > 0.95
    found = [int(result.matrix.statements[j]) for j in candidates(result, ConstitutionSettings())]
    precision, recall = precision_recall(found, truth["consensus"])
    assert precision == 1.0 and recall == 1.0
    # GAC ranks the true consensus statements first
    assert set(result.consensus[: len(truth["consensus"])]) == set(truth["consensus"])


def test_same_seed_same_result():
    votes, _ = synthetic_votes(seed=1)
    m = from_votes(votes)
    a, b = aggregate(m, seed=3), aggregate(m, seed=3)
    np.testing.assert_array_equal(a.groups, b.groups)
    pd.testing.assert_frame_equal(a.statement_table(), b.statement_table())


def test_statement_table_counts_add_up():
    votes, _ = synthetic_votes(n_per_group=(20, 20, 20), seed=2)
    r = aggregate(from_votes(votes), seed=0)
    t = r.statement_table()
    g = r.n_groups
    for kind in ("agree", "disagree", "pass"):
        # everyone is clustered here, so group counts add up to the totals
        total = sum(t[f"g{i}_{kind}"] for i in range(g))
        assert (
            total == t[{"agree": "agrees", "disagree": "disagrees", "pass": "passes"}[kind]]
        ).all()
    assert t["gac"].between(0, 1).all()
    reps = t.dropna(subset=["repness_group"])
    assert len(reps) > 0 and set(reps["repness_for"]) <= {"agree", "disagree"}


def test_low_vote_participants_are_counted_but_not_clustered():
    votes, _ = synthetic_votes(n_per_group=(20, 20), n_divisive=10, n_consensus=2, seed=3)
    extra = pd.DataFrame({"participant": [999, 999], "statement": [0, 1], "value": [1, 1]})
    m = from_votes(pd.concat([votes, extra]))
    r = aggregate(m, seed=0)
    row = list(m.participants).index(999)
    assert r.groups[row] == -1 and not r.in_conv[row]
    assert r.statement_table().set_index("statement").loc[0, "agrees"] == (
        ((votes.statement == 0) & (votes.value == 1)).sum() + 1
    )


def test_tiny_input_gives_one_group_and_empty_is_an_error():
    m = from_votes(pd.DataFrame({"participant": [0, 1], "statement": [0, 0], "value": [1, -1]}))
    r = aggregate(m)
    assert r.n_groups == 1
    empty = from_votes(pd.DataFrame({"participant": [], "statement": [], "value": []}))
    with pytest.raises(InputError, match="no votes"):
        aggregate(empty)
    with pytest.raises(InputError, match="min_groups"):
        AggregateSettings(min_groups=3, max_groups=2)


def test_write_outputs(tmp_path):
    votes, _ = synthetic_votes(seed=5)
    r = aggregate(from_votes(votes), seed=0)
    out = write_outputs(r, tmp_path / "out")
    groups = pd.read_csv(out / "groups.csv")
    assert list(groups.columns) == ["participant", "group"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 0 and summary["n_groups"] == r.n_groups
    assert summary["input_sha256"] == r.matrix.source_sha256
    assert (out / "opinion_map.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob(".tmp-*"))


def test_in_conv_setting_chooses_between_the_export_record_and_the_vote_rule():
    votes, _ = synthetic_votes(n_per_group=(20, 20), n_divisive=10, n_consensus=2, seed=3)
    extra = pd.DataFrame({"participant": [999, 999], "statement": [0, 1], "value": [1, 1]})
    table = pd.concat([votes, extra])
    record = set(votes["participant"].unique()[:30]) | {999}
    m = from_votes(table, clustered=record)
    row = list(m.participants).index(999)
    auto = aggregate(m, seed=0)
    assert auto.in_conv_source == "export" and auto.in_conv[row] and auto.groups[row] >= 0
    assert int(auto.in_conv.sum()) == 31
    assert auto.summary()["participants_clustered_from"] == "export"
    rule = aggregate(m, seed=0, settings=AggregateSettings(in_conv="votes"))
    assert rule.in_conv_source == "votes" and not rule.in_conv[row]
    assert int(rule.in_conv.sum()) == 40
    no_record = from_votes(table)
    assert aggregate(no_record, seed=0).in_conv_source == "votes"
    with pytest.raises(InputError, match="no record"):
        aggregate(no_record, settings=AggregateSettings(in_conv="export"))
    with pytest.raises(InputError, match="in_conv must be"):
        AggregateSettings(in_conv="everyone")
