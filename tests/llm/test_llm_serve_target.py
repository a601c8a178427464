"""What `pluralign serve TARGET` serves: the embedded model by default, a checkpoint, a LoRA
adapter on its base, or a run folder's trained model (folders faked: no model is loaded)."""

from __future__ import annotations

import json

import pytest

from pluralign.errors import InputError
from pluralign.llm.serve import resolve_target


def _checkpoint(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


def _adapter(folder, base):
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base}))
    return folder


def test_targets(tmp_path):
    assert resolve_target(None) == ("smollm2", None)
    assert resolve_target("SmolLM2") == ("smollm2", None)
    ckpt = _checkpoint(tmp_path / "ckpt")
    assert resolve_target(ckpt) == (ckpt, None)
    lora = _adapter(tmp_path / "lora", str(ckpt))
    assert resolve_target(lora) == (ckpt, lora)
    # an adapter trained on the embedded model names its cache folder: portable by name
    emb = _adapter(tmp_path / "emb", "/home/x/.cache/pluralign/models/"
                   "smollm2-135m-instruct-b179c9523d0e-fp32-v1")
    assert resolve_target(emb) == ("smollm2", emb)
    run = tmp_path / "run"
    merged = _checkpoint(run / "train" / "model")
    _adapter(run / "train" / "adapter", str(ckpt))
    assert resolve_target(run) == (merged, None)
    assert resolve_target(run / "train") == (merged, None)
    (merged / "config.json").unlink()
    assert resolve_target(run) == (ckpt, run / "train" / "adapter")


def test_bad_targets_name_the_folder(tmp_path):
    with pytest.raises(InputError, match="not a folder"):
        resolve_target(tmp_path / "missing")
    with pytest.raises(InputError, match="nothing to serve") as info:
        resolve_target(tmp_path)
    assert info.value.where == str(tmp_path)
    lora = _adapter(tmp_path / "lora", "org/some-hub-model")
    with pytest.raises(InputError, match="not a local checkpoint folder"):
        resolve_target(lora)
