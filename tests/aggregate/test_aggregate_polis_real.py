"""Checks against reality: our opinion groups vs the group-id Polis itself assigned, and our
consensus statements vs Polis's own consensus selection, on three public conversations.

Data: The Computational Democracy Project, CC BY 4.0 (see ../shared/data/polis/README.md).
"""

from __future__ import annotations

import pandas as pd
import pytest

from pluralign.aggregate import AggregateSettings, aggregate, read_polis
from pluralign.aggregate.truth import group_agreement

# (conversation, settings, lowest acceptable ARI). football-concussions is a 2015 export whose
# group-id covers participants with a single vote: Polis clustered everyone then, so we compare
# with min_votes=1 (with today's 7-vote rule the participant sets differ; see docs/algorithms.md).
CASES = [
    ("brexit-consensus", AggregateSettings(), 0.8),
    ("15-per-hour-seattle", AggregateSettings(), 0.8),
    ("football-concussions", AggregateSettings(min_votes=1), 0.8),
]


def polis_groups(folder) -> dict[int, int]:
    pv = pd.read_csv(folder / "participants-votes.csv")
    pv = pv.dropna(subset=["group-id"])
    return dict(zip(pv["participant"].astype(int), pv["group-id"].astype(int), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "settings", "floor"), CASES, ids=[c[0] for c in CASES])
def test_groups_agree_with_polis(polis_dir, name, settings, floor):
    result = aggregate(read_polis(polis_dir / name), seed=0, settings=settings)
    truth = polis_groups(polis_dir / name)
    ari, n = group_agreement(result, truth)
    assert n >= 0.9 * result.in_conv.sum()  # compared on nearly everyone we clustered
    assert result.n_groups == len(set(truth.values()))
    assert ari >= floor, f"{name}: ARI {ari:.3f} < {floor}"


def test_consensus_is_what_most_of_every_group_agreed_with(polis_dir):
    result = aggregate(read_polis(polis_dir / "brexit-consensus"), seed=0)
    table = result.statement_table().set_index("statement")
    assert len(result.consensus) == 5
    for s in result.consensus:
        for g in range(result.n_groups):
            assert table.loc[s, f"g{g}_agreement"] > 0.8
    # and they are the statements Polis itself lists as consensus (majority of all voters,
    # significant at 90 %): at least 4 of our 5 are in Polis's top 5
    assert len(set(result.consensus) & set(result.polis_consensus["agree"])) >= 4
    # every consensus statement lies in the top fifth of overall agreement
    cutoff = table["agreement"].quantile(0.8)
    assert all(table.loc[s, "agreement"] >= cutoff for s in result.consensus)
