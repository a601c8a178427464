"""The evaluation as a contract stage: its result reads back what it wrote (metrics, margins,
generations), and its settings are the one home of the evaluation's defaults."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pluralign.errors import InputError
from pluralign.evaluate.run import EvaluationResult, evaluate_margins
from pluralign.evaluate.settings import EvaluateSettings
from pluralign.evaluate.stage import STAGE, EvaluateResult


def _rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return [{"prompt": f"p{i % 9}", "chosen": f"c{i}", "rejected": f"r{i}",
             "weight": float(rng.uniform(0.5, 2)), "group": "ab"[i % 2],
             "provenance": {"participant": f"u{i % 13}",
                            "subset": ("consensus", "divisive")[i % 3 == 0]}}
            for i in range(n)]


def test_result_read_gives_back_what_write_wrote(tmp_path):
    rows = _rows()
    rng = np.random.default_rng(1)
    before = rng.normal(0, 1, len(rows))
    after = before + rng.normal(0.5, 1, len(rows))
    after[3] = 0.0  # a tie
    metrics = evaluate_margins(rows, before, after, n_boot=50, seed=3,
                               implicit=rng.normal(0, 1, len(rows)))
    generations = ({"prompt": "p1", "before": "a", "after": "b", "changed": True, "pairs": 2},)
    result = EvaluateResult(metrics, generations)
    result.write(tmp_path)
    back = STAGE.result_cls.read(tmp_path)
    assert back.metrics.to_json() == metrics.to_json()  # every score and interval, NaN as null
    assert back.generations == generations
    assert back.metrics.margins["after"] == pytest.approx(metrics.margins["after"])
    score = metrics.overall[0]
    assert back.metrics.score(score.subset, score.grouping, score.group) == score
    again = tmp_path / "again"
    back.write(again)
    assert (again / "metrics.json").read_text() == (tmp_path / "metrics.json").read_text()
    assert json.loads((again / "generations.jsonl").read_text()) == generations[0]


def test_reading_a_folder_without_metrics_is_a_clean_error(tmp_path):
    with pytest.raises(InputError, match="no evaluation here"):
        EvaluationResult.read(tmp_path)


def test_settings_defaults_and_checks():
    s = EvaluateSettings()
    assert (s.n_boot, s.beta, s.margin) == (1000, 0.1, "likelihood")  # one default each
    with pytest.raises(InputError, match="field 'evaluate.alpha'"):
        EvaluateSettings(alpha=1.0)
    with pytest.raises(InputError, match="field 'evaluate.margin'"):
        EvaluateSettings(margin="reward")
