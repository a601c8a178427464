"""Training on the stage contract: ``run`` trains into its folder and ``TrainResult.read`` gives
back the result training returned (a resumed run hands the trained model on without training)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from trainkit import make_rows, tiny_model_dir  # noqa: E402

from pluralign.train.api import TrainResult  # noqa: E402
from pluralign.train.settings import TrainSettings  # noqa: E402
from pluralign.train.stage import STAGE, TrainInputs, run  # noqa: E402


def test_a_training_is_read_back_from_its_folder(tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_rows(4, [1, 2, 1, 1])))
    settings = TrainSettings(lora=False, max_steps=2, per_device_train_batch_size=2,
                             save_steps=1, warmup_ratio=0.0, torch_threads=1)
    out = tmp_path / "train"
    result = run(TrainInputs(data, tiny_model_dir(), out), settings, seed=3)
    assert result.steps == 2 and not result.resumed and result.method == "dpo"
    result.write(out)
    back = TrainResult.read(out)
    assert back == result
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 2 and summary["resumed"] is False and "loss" in summary
    assert json.loads(result.manifest_path.read_text())["seed"] == 3  # the run's seed
    assert STAGE.result_cls is TrainResult and STAGE.settings_cls is TrainSettings
