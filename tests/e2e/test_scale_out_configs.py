"""Smoke tests of the scale-out guide (docs/scale_out.md): its example accelerate/DeepSpeed
files parse with accelerate's own readers, its provider YAML parses into pluralign.llm's config
model, and the example accelerate config launches `pluralign train` with one CPU process."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DOC = REPO / "docs" / "scale_out.md"


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize(
    "name, kind",
    [("accelerate_multi_gpu.yaml", "MULTI_GPU"), ("accelerate_deepspeed_zero2.yaml", "DEEPSPEED")],
)
def test_accelerate_examples_parse(name, kind):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(EXAMPLES / name))  # unknown keys would raise here
    assert cfg.distributed_type.name == kind and cfg.num_machines == 1
    assert cfg.num_processes > 1 and cfg.use_cpu is False
    assert f"examples/{name}" in DOC.read_text()


def test_deepspeed_example_is_zero2_with_train_settings_left_to_pluralign():
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils.deepspeed import HfDeepSpeedConfig

    cfg = load_config_from_file(str(EXAMPLES / "accelerate_deepspeed_zero2.yaml"))
    ds_file = REPO / cfg.deepspeed_config["deepspeed_config_file"]  # relative to the repo root
    assert ds_file == EXAMPLES / "deepspeed_zero2.json"
    ds = HfDeepSpeedConfig(str(ds_file))
    assert ds.is_zero2() and not ds.is_zero3() and not ds.is_offload()
    raw = json.loads(ds_file.read_text())
    for key in (
        "train_micro_batch_size_per_gpu",
        "gradient_accumulation_steps",
        "gradient_clipping",
    ):
        assert raw[key] == "auto", key  # one place to set them: pluralign's train settings


def test_provider_configs_in_the_doc_and_example_parse(tmp_path):
    from pluralign.llm.config import ProviderSettings, provider_settings_from_yaml

    blocks = [b for b in _yaml_blocks(DOC.read_text()) if b.lstrip().startswith("llm:")]
    assert len(blocks) >= 2
    paths = [EXAMPLES / "llm_vllm.yaml"]
    for i, block in enumerate(blocks):
        paths.append(tmp_path / f"block{i}.yaml")
        paths[-1].write_text(block)
    for path in paths:
        cfg = provider_settings_from_yaml(path)
        assert isinstance(cfg, ProviderSettings) and cfg.kind == "http"
        assert cfg.base_url.endswith("/v1") and cfg.api_key_env == "VLLM_API_KEY"
        assert cfg.model == "meta-llama/Llama-3.1-8B-Instruct" and cfg.concurrency >= 16


@pytest.mark.slow
def test_accelerate_launch_with_the_example_config_one_cpu_process(tmp_path):
    sys.path.insert(0, str(REPO / "tests" / "train"))
    from trainkit import accelerate_train, assert_trained_in_one_process, make_rows

    data = tmp_path / "prefs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_rows(4)))
    cfg = tmp_path / "t.yaml"
    cfg.write_text("max_steps: 1\nper_device_train_batch_size: 2\nlearning_rate: 0.001\n")
    launch = ["--config_file", str(EXAMPLES / "accelerate_multi_gpu.yaml")]
    launch += ["--num_processes", "1", "--cpu", "--mixed_precision", "no"]
    proc = accelerate_train(launch, data, cfg, tmp_path / "o", cwd=REPO)
    assert_trained_in_one_process(proc, tmp_path / "o", steps=1)
