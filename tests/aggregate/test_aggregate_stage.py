"""The aggregation as a contract stage: ``run`` and a result that reads back what it wrote."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from synthetic_votes import synthetic_votes

from pluralign.aggregate import AggregateResult, AggregateSettings, from_votes
from pluralign.aggregate.stage import STAGE, AggregateInputs
from pluralign.constitution import ConstitutionSettings, draft_constitution
from pluralign.errors import InputError


def test_result_read_gives_back_what_write_wrote(tmp_path):
    votes, _ = synthetic_votes(n_per_group=(30, 25, 20), n_divisive=12, n_consensus=3, seed=4)
    settings = AggregateSettings(min_votes=5, top_consensus=3)
    result = STAGE.run(AggregateInputs(from_votes(votes), "three groups"), settings, 7)
    result.write(tmp_path / "agg")
    back = STAGE.result_cls.read(tmp_path / "agg")
    assert isinstance(back, AggregateResult) and back.pca is None  # the estimators stay behind
    assert back.settings == settings and back.seed == 7 and back.title == "three groups"
    assert back.summary() == result.summary()
    pd.testing.assert_frame_equal(back.statement_table(), result.statement_table())
    pd.testing.assert_frame_equal(back.groups_frame(), result.groups_frame())
    np.testing.assert_array_equal(back.projection, result.projection)
    np.testing.assert_array_equal(back.matrix.values.toarray(), result.matrix.values.toarray())
    assert back.matrix.source_sha256 == result.matrix.source_sha256
    # what a resumed run drafts from the stored aggregation is what the fresh one drafts
    draft = ConstitutionSettings(embedder="tfidf")
    clauses = draft_constitution(result, settings=draft).clauses
    assert clauses and draft_constitution(back, settings=draft).clauses == clauses
    summary = json.loads((tmp_path / "agg" / "summary.json").read_text())
    assert summary["n_groups"] == result.n_groups == 3


def test_reading_a_folder_without_a_result_is_a_clean_error(tmp_path):
    with pytest.raises(InputError, match="no aggregation result"):
        AggregateResult.read(tmp_path)


def test_settings_check_their_constraints():
    with pytest.raises(InputError, match="field 'aggregate.min_votes'"):
        AggregateSettings(min_votes=0)
    with pytest.raises(InputError, match="field 'aggregate.bridging_factors'"):
        AggregateSettings(bridging_factors=3)
    with pytest.raises(InputError, match="finite"):
        AggregateSettings(k_margin=float("nan"))
