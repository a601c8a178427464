"""The model stage on the stage contract: a checkpoint folder is recorded in ``model.json``, and
``ModelResult.read`` gives back what ``write`` wrote (a resumed run hands the same model on)."""

from __future__ import annotations

import json

import pytest

from pluralign.errors import InputError
from pluralign.models.settings import ModelSettings, TinySettings
from pluralign.models.stage import STAGE, ModelInputs, ModelResult, run


def _checkpoint(folder):
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "my-model"}))
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ x }}"}))
    return folder


def test_a_checkpoint_is_recorded_and_read_back(tmp_path):
    folder = _checkpoint(tmp_path / "ckpt")
    result = run(ModelInputs(), ModelSettings(base=str(folder)), seed=0)
    assert result.path == folder.resolve() and result.source == str(folder)
    assert result.info["base"] == "my-model" and result.info["chat_template"] is True
    out = tmp_path / "model"
    out.mkdir()
    result.write(out)
    assert ModelResult.read(out) == result
    assert json.loads((out / "model.json").read_text())["path"] == str(folder.resolve())
    assert STAGE.result_cls is ModelResult and STAGE.settings_cls is ModelSettings


def test_a_folder_without_a_checkpoint_is_a_clean_error(tmp_path):
    with pytest.raises(InputError, match="no config.json"):
        run(ModelInputs(), ModelSettings(base=str(tmp_path)), seed=0)


def test_settings_nest_the_tiny_shape():
    settings = ModelSettings(tiny={"layers": 1})
    assert settings.tiny == TinySettings(layers=1)
    assert ModelSettings(**settings.to_dict()) == settings
    with pytest.raises(InputError, match="model.tiny.layers"):
        ModelSettings(tiny=TinySettings(layers=0))
