"""train_preferences end to end on the tiny model: outputs, curve, provenance, resume, LoRA."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from trainkit import make_rows, tiny_model_dir  # noqa: E402

from pluralign.errors import InputError  # noqa: E402
from pluralign.train import preference_margins, train_preferences  # noqa: E402

FAST = {
    "per_device_train_batch_size": 4,
    "learning_rate": 5e-3,
    "save_steps": 0,
    "lr_scheduler_type": "constant",
    "beta": 0.5,
}


def _params(model_dir):
    from transformers import AutoModelForCausalLM

    return dict(AutoModelForCausalLM.from_pretrained(model_dir).named_parameters())


@pytest.mark.slow
def test_dpo_run_writes_model_curve_manifest_and_learns(tmp_path):
    rows = make_rows(8, [1, 2, 0.5, 1, 1, 0, 3, 1])
    before = preference_margins(tiny_model_dir(), None, rows, beta=1.0)
    threads = torch.get_num_threads()
    result = train_preferences(
        rows, tiny_model_dir(), {**FAST, "max_steps": 8, "torch_threads": 1}, tmp_path / "run"
    )
    assert torch.get_num_threads() == threads  # the setting is restored after training
    assert result.steps == 8 and result.method == "dpo"
    assert [c["step"] for c in result.curve] == list(range(1, 9))
    assert {"loss", "lr", "rewards/margins", "rewards/accuracies"} <= set(result.curve[-1])
    lines = result.curve_path.read_text().splitlines()
    assert [json.loads(ln) for ln in lines] == result.curve
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["settings"]["beta"] == 0.5 and manifest["n_rows"] == 8
    assert manifest["n_rows_trained"] == 7  # the weight-0 row is dropped by merge_duplicates
    assert len(manifest["data_sha256"]) == 64 and manifest["versions"]["trl"]
    # the policy now prefers the chosen replies more than the base model did
    margins = preference_margins(result.model_dir, tiny_model_dir(), rows, beta=1.0)
    assert margins.mean() > 0.5
    after = preference_margins(result.model_dir, None, rows, beta=1.0)
    assert (after > before).mean() >= 0.75


@pytest.mark.slow
def test_resume_continues_exactly_where_it_stopped(tmp_path):
    rows = make_rows(8)
    cfg = {**FAST, "per_device_train_batch_size": 2, "save_steps": 2}
    straight = train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 4}, tmp_path / "a")
    train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 2}, tmp_path / "b")
    with pytest.raises(InputError, match="--resume"):
        train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 4}, tmp_path / "b")
    resumed = train_preferences(
        rows, tiny_model_dir(), {**cfg, "max_steps": 4}, tmp_path / "b", resume=True
    )
    assert resumed.steps == 4
    assert [c["step"] for c in resumed.curve] == [1, 2, 3, 4]
    for a_curve, b_curve in zip(straight.curve, resumed.curve, strict=True):
        assert b_curve["loss"] == pytest.approx(a_curve["loss"], rel=1e-4)
    pa, pb = _params(straight.model_dir), _params(resumed.model_dir)
    for name in pa:
        torch.testing.assert_close(pa[name], pb[name], rtol=1e-4, atol=1e-6, msg=name)


def test_resume_without_checkpoint_and_zero_weights_are_errors(tmp_path):
    with pytest.raises(InputError, match="nothing to resume"):
        train_preferences(make_rows(2), tiny_model_dir(), FAST, tmp_path / "x", resume=True)
    with pytest.raises(InputError, match="weight 0"):
        train_preferences(make_rows(2, [0, 0]), tiny_model_dir(), FAST, tmp_path / "y")
    with pytest.raises(InputError, match="config.json"):
        train_preferences(make_rows(2), tmp_path, FAST, tmp_path / "z")


@pytest.mark.slow
def test_lora_saves_adapter_and_merged_model_with_equal_margins(tmp_path):
    rows = make_rows(4)
    result = train_preferences(
        rows, tiny_model_dir(), {**FAST, "max_steps": 2, "lora_r": 4}, tmp_path / "lora", lora=True
    )
    assert result.adapter_dir is not None and (result.adapter_dir / "adapter_config.json").exists()
    merged = preference_margins(result.model_dir, tiny_model_dir(), rows, beta=1.0)
    adapter = preference_margins(result.adapter_dir, tiny_model_dir(), rows, beta=1.0)
    np.testing.assert_allclose(merged, adapter, rtol=1e-4, atol=1e-5)
    assert np.abs(merged).max() > 0  # the adapter was trained


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error path")
def test_gpu_only_options_are_refused_on_cpu(tmp_path):
    with pytest.raises(InputError, match="QLoRA"):
        train_preferences(
            make_rows(2), tiny_model_dir(), {**FAST, "lora": True, "qlora": True}, tmp_path / "q"
        )
    with pytest.raises(InputError, match="bf16"):
        train_preferences(make_rows(2), tiny_model_dir(), {**FAST, "bf16": True}, tmp_path / "b")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="QLoRA needs CUDA (bitsandbytes 4-bit)")
def test_qlora_on_gpu(tmp_path):
    pytest.importorskip("bitsandbytes", reason="QLoRA needs the bitsandbytes package")
    rows = make_rows(4)
    result = train_preferences(
        rows, tiny_model_dir(), {**FAST, "max_steps": 2, "lora": True}, tmp_path / "q"
    )
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["hardware"] == {**manifest["hardware"], "cuda": True, "qlora": True}
    assert (result.model_dir / "adapter_config.json").exists()
    assert np.isfinite(preference_margins(result.model_dir, tiny_model_dir(), rows)).all()


@pytest.mark.parametrize("method", ["dpo", "kto", "orpo"])
@pytest.mark.parametrize("enabled", [True, False])
def test_activation_checkpointing_reaches_trl_without_deprecation_warnings(
    tmp_path, method, enabled
):
    import warnings

    from pluralign.train.api import Hardware, _trl_args
    from pluralign.train.dpo_config import WeightedDPOConfig
    from pluralign.train.kto_config import WeightedKTOConfig
    from pluralign.train.orpo_config import WeightedORPOConfig

    config = {"dpo": WeightedDPOConfig, "kto": WeightedKTOConfig, "orpo": WeightedORPOConfig}
    cfg = config[method](gradient_checkpointing=enabled)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # a deprecated argument name would raise
        args = _trl_args(cfg, tmp_path, Hardware(cuda=False, bf16=False, qlora=False), 8)
    on = getattr(args, "activation_checkpointing", None)
    assert (args.gradient_checkpointing if on is None else on) is enabled
