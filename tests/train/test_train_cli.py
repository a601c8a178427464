"""``pluralign model tiny`` and ``pluralign train`` as a user runs them, plus accelerate launch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("trl")

from trainkit import (  # noqa: E402
    accelerate_train,
    assert_trained_in_one_process,
    make_rows,
    tiny_model_dir,
    train_args,
)

from conftest import run_cli  # noqa: E402
from pluralign.cli import main  # noqa: E402


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _config(path: Path, **settings) -> Path:
    base = {
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "learning_rate": 1e-3,
        "save_steps": 1,
        "torch_threads": 1,
    }
    base.update(settings)
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in base.items()))
    return path


@pytest.mark.slow
def test_model_tiny_then_train_each_method(tmp_path, capsys):
    data = _write_jsonl(tmp_path / "prefs.jsonl", make_rows(4, [1, 2, 0, 1]))
    main(
        [
            "model",
            "tiny",
            "--texts",
            str(data),
            "--out",
            str(tmp_path / "tiny"),
            "--hidden-size",
            "16",
            "--layers",
            "1",
            "--heads",
            "2",
            "--vocab-size",
            "300",
            "--pretrain-steps",
            "2",
        ]
    )
    assert (tmp_path / "tiny" / "config.json").exists()
    for method in ("dpo", "kto", "orpo"):
        out = tmp_path / f"run-{method}"
        cfg = _config(tmp_path / "t.yaml")
        main([*train_args(data, cfg, out, model=tmp_path / "tiny"), "--method", method])
        assert (out / "model" / "config.json").exists()
        assert (out / "checkpoints" / "checkpoint-2").is_dir()
        curve = [json.loads(ln) for ln in (out / "curve.jsonl").read_text().splitlines()]
        assert [c["step"] for c in curve] == [1, 2]
        assert json.loads((out / "train_manifest.json").read_text())["method"] == method
        assert f"trained {method} for 2 steps" in capsys.readouterr().out


def test_bad_weight_names_file_and_line(tmp_path):
    rows = make_rows(2)
    rows[1]["weight"] = -1
    data = _write_jsonl(tmp_path / "prefs.jsonl", rows)
    proc = run_cli(
        "train",
        "--data",
        data,
        "--model",
        tiny_model_dir(),
        "--out",
        tmp_path / "o",
        env={"COLUMNS": "400"},
    )
    assert proc.returncode == 1
    assert "prefs.jsonl, line 2, column 'weight'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing written for bad input


def test_unknown_config_key_is_reported(tmp_path, capsys):
    data = _write_jsonl(tmp_path / "prefs.jsonl", make_rows(2))
    cfg = tmp_path / "t.yaml"
    cfg.write_text("bta: 0.1\n")
    with pytest.raises(SystemExit) as done:
        main(train_args(data, cfg, tmp_path / "o"))
    assert done.value.code == 1
    assert "unknown setting(s) for dpo: bta" in capsys.readouterr().err


@pytest.mark.slow
def test_accelerate_launch_one_process(tmp_path):
    """The multi-GPU entry point, run with one CPU process: ``accelerate launch -m pluralign``."""
    data = _write_jsonl(tmp_path / "prefs.jsonl", make_rows(4, [1, 3, 1, 0.5]))
    cfg = _config(tmp_path / "t.yaml", gradient_accumulation_steps=2, per_device_train_batch_size=1)
    launch = ["--num_processes", "1", "--num_machines", "1", "--cpu"]
    launch += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    proc = accelerate_train(launch, data, cfg, tmp_path / "acc")
    assert_trained_in_one_process(proc, tmp_path / "acc", steps=2)
