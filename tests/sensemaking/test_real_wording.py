"""The embedded SmolLM2-135M words principles, and the faithfulness check passes the good one
(small real-model test: 3 greedy requests, under a minute on the shared 2 cores)."""

from __future__ import annotations

import pytest

from pluralign.llm.config import ProviderSettings
from pluralign.llm.local import LocalProvider
from pluralign.sensemaking.faithful import check_principle
from pluralign.sensemaking.writer import Writer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("smollm2")]

STATEMENTS = [  # ssis.land-bank-farmland (consensus) and the simulator's bank
    "The LB needs to consider soil health as the guiding principle of it's agricultural lands.",
    "It is important for the Land Bank to be responsive to community ideas.",
    "People should be able to delete everything an AI assistant has stored about them.",
]


def test_embedded_model_words_principles_that_the_check_judges(smollm2_path, tmp_path):
    config = ProviderSettings(checkpoint=smollm2_path, cache_dir=tmp_path / "cache", concurrency=4)
    with LocalProvider(config) as provider:
        drafts = Writer(provider, seed=0).reword([[s] for s in STATEMENTS], "choose", attempt=0)
        assert provider.usage.requests == len(STATEMENTS)
    assert all(d is None or d.startswith("Choose the response that") for d in drafts)
    flags = [None if d is None else check_principle(d, [s])
             for d, s in zip(drafts, STATEMENTS, strict=True)]
    # the soil-health statement is reworded faithfully (as in the ssis draft): words changed,
    # the typo "it's" gone, nothing added, no flag
    soil = drafts[0]
    assert soil is not None and "soil health" in soil and "it's" not in soil, drafts
    assert flags[0] == (), (soil, flags[0])
    # every draft is judged: kept only when unflagged, else the flags say why
    for d, f in zip(drafts, flags, strict=True):
        assert d is None or all(x.kind and x.detail for x in f)
