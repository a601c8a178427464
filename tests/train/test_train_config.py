"""Training configuration: YAML parsing, validation errors that name the field, docs coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from pluralign.errors import InputError
from pluralign.train.config import CONFIGS, load_train_config

DOCS = Path(__file__).resolve().parents[2] / "docs" / "training.md"


def test_yaml_values_reach_the_method_config(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        "method: kto\nbeta: 0.3\nlearning_rate: 1.0e-4\nkl_estimate: none\n"
        "per_device_train_batch_size: 1\nlora: true\nlora_r: 4\n"
    )
    cfg = load_train_config(path)
    assert cfg.method == "kto"
    assert (cfg.beta, cfg.learning_rate, cfg.kl_estimate, cfg.lora, cfg.lora_r) == (
        0.3,
        1e-4,
        "none",
        True,
        4,
    )
    assert load_train_config(path, "kto").beta == 0.3
    assert load_train_config(None, "orpo").method == "orpo"
    assert load_train_config({}).method == "dpo"


@pytest.mark.parametrize(
    ("method", "settings", "field"),
    [
        ("dpo", {"beta": 0}, "beta"),
        ("dpo", {"loss_type": "squared"}, "loss_type"),
        ("dpo", {"learning_rate": -1}, "learning_rate"),
        ("dpo", {"per_device_train_batch_size": 0}, "per_device_train_batch_size"),
        ("dpo", {"max_steps": 0}, "max_steps"),
        ("dpo", {"qlora": True, "lora": False}, "qlora"),
        ("dpo", {"lora_target_modules": []}, "lora_target_modules"),
        ("dpo", {"torch_threads": 0}, "torch_threads"),
        ("kto", {"per_device_train_batch_size": 1}, "per_device_train_batch_size"),
        ("kto", {"kl_estimate": "sometimes"}, "kl_estimate"),
        ("kto", {"undesirable_weight": -1.0}, "undesirable_weight"),
    ],
)
def test_bad_values_name_the_field(method, settings, field):
    with pytest.raises(InputError) as err:
        load_train_config(settings, method)
    assert f"'{field}'" in str(err.value)


def test_a_setting_of_another_method_is_an_error():
    with pytest.raises(InputError, match="for orpo: precompute_ref_log_probs"):
        load_train_config({"precompute_ref_log_probs": True}, "orpo")  # no reference model
    with pytest.raises(InputError, match="for kto: sft_weight"):
        load_train_config({"sft_weight": 0.5}, "kto")


def test_every_method_takes_its_defaults_from_the_train_settings():
    """One home of training defaults: each method's config defaults are TrainSettings' (the
    pipeline's train: section, `pluralign train`'s options), and TrainSettings builds each."""
    import dataclasses

    from pluralign.train.config import config_of, method_fields
    from pluralign.train.settings import TrainSettings

    settings = TrainSettings()
    assert (settings.learning_rate, settings.lora, settings.sft_weight) == (5e-4, True, 1.0)
    for method, cls in CONFIGS.items():
        config = cls()
        for f in dataclasses.fields(cls):
            if f.name != "seed":
                assert getattr(config, f.name) == getattr(settings, f.name), (method, f.name)
        built = config_of(TrainSettings(method=method), seed=7)
        assert type(built) is cls and built.seed == 7
        assert method_fields(method) == {f.name for f in dataclasses.fields(cls)}
    with pytest.raises(InputError, match="field 'train.per_device_train_batch_size'"):
        config_of(TrainSettings(method="kto", per_device_train_batch_size=1))  # a KTO rule


def test_unknown_key_and_method_mismatch_are_errors(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("method: dpo\nbetta: 0.2\n")
    with pytest.raises(InputError, match="betta"):
        load_train_config(path)
    path.write_text("method: dpo\n")
    with pytest.raises(InputError, match="'dpo' but 'orpo'"):
        load_train_config(path, "orpo")
    with pytest.raises(InputError, match="unknown method"):
        load_train_config({}, "ppo")
    path.write_text("- a list\n")
    with pytest.raises(InputError, match="mapping"):
        load_train_config(path)
    with pytest.raises(InputError, match="not found"):
        load_train_config(tmp_path / "missing.yaml")


def test_every_setting_is_documented():
    """docs/training.md's config reference names every field of every method."""
    text = DOCS.read_text(encoding="utf-8")
    missing = sorted(
        {
            f"{m}.{name}"
            for m, cls in CONFIGS.items()
            for name in cls.field_help()
            if f"`{name}`" not in text
        }
    )
    assert not missing, f"undocumented settings: {missing}"
    for cls in CONFIGS.values():
        assert all(help_text for help_text in cls.field_help().values())


def test_train_settings_take_the_file_then_the_options_given(tmp_path):
    """``pluralign train --config train.yaml --beta 0.3``: the file's values over the defaults,
    the options given on the command line over the file's."""
    from pluralign.train.config import train_settings

    path = tmp_path / "train.yaml"
    path.write_text("method: kto\nlearning_rate: 1.0e-3\nbeta: 0.2\nkl_estimate: none\n")
    settings = train_settings(path, None, beta=0.3)
    assert (settings.method, settings.learning_rate, settings.beta, settings.kl_estimate) == (
        "kto", 1e-3, 0.3, "none")
    assert settings.lora and settings.warmup_ratio == 0.1  # the rest: the defaults
    with pytest.raises(InputError, match="'kto' but 'dpo'"):
        train_settings(path, "dpo")
    with pytest.raises(InputError, match="for kto: sft_weight"):
        train_settings(path, None, sft_weight=0.5)
    with pytest.raises(InputError, match="--beta: must be > 0"):
        train_settings(path, None, beta=0.0)
    path.write_text("beta: 0\n")
    with pytest.raises(InputError, match="config field 'beta'"):
        train_settings(path)
