"""Helpers for the training tests: one tiny model per test session, rows, and step gradients
computed through the real ``Trainer.get_batch_samples`` + ``Trainer.training_step`` path."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PROMPTS = [
    "Should buses be free for everyone?",
    "How should the city spend the parks budget?",
    "Is it fair to raise local taxes?",
    "What should the library open hours be?",
    "Should bikes share the pavement?",
    "Who should decide on new housing?",
]
GOOD = [
    "Ask the people who use it most, then decide together.",
    "Yes, with care for those in need.",
]
BAD = ["No.", "Whatever the richest want."]


def make_rows(n: int, weights=None) -> list[dict]:
    """n preference rows with varied lengths; ``weights`` defaults to 1."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "prompt": PROMPTS[i % len(PROMPTS)]
                + (" Please explain." if i >= len(PROMPTS) else ""),
                "chosen": GOOD[i % 2] + (" Thanks." * (i % 3)),
                "rejected": BAD[i % 2] + (" Really." * (i % 2)),
                "weight": 1.0 if weights is None else float(weights[i]),
                "group": f"g{i % 2}",
                "source": "test",
            }
        )
    return rows


def _one_thread() -> None:
    """Tiny models gain nothing from intra-op threads, and on a busy CI machine spinning threads
    cost many times the work (docs/training.md, torch_threads)."""
    import torch

    torch.set_num_threads(1)


@functools.cache
def tiny_model_dir() -> Path:
    """Build the session's tiny model once (a few seconds), in a temporary folder."""
    from pluralign.models.tiny import build_tiny_model

    _one_thread()
    texts = []
    for r in make_rows(12):
        texts += [r["prompt"], r["chosen"], r["rejected"]]
    out = Path(tempfile.mkdtemp(prefix="pluralign-tiny-")) / "tiny"
    return build_tiny_model(
        texts * 4, out, vocab_size=400, hidden_size=32, layers=2, heads=4, pretrain_steps=10, seed=0
    )


def train_args(data: Path, config: Path, out: Path, model: Path | None = None) -> list[str]:
    """``train --data DATA --model MODEL --config CONFIG --out OUT`` (default model: the
    session's tiny one)."""
    model = model or tiny_model_dir()
    args = ["--data", data, "--model", model, "--config", config, "--out", out]
    return ["train", *map(str, args)]


def accelerate_train(
    launch: list[str], data: Path, config: Path, out: Path, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """``accelerate launch LAUNCH -m pluralign train ...`` on the tiny model, as a user runs it
    (this checkout's src first on PYTHONPATH)."""
    env = dict(os.environ)
    src = Path(__file__).resolve().parents[2] / "src"
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    accelerate = Path(sys.executable).parent / "accelerate"
    return subprocess.run(
        [str(accelerate), "launch", *launch, "-m", "pluralign", *train_args(data, config, out)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_trained_in_one_process(proc: subprocess.CompletedProcess, out: Path, steps: int):
    """The launch succeeded and trained ``steps`` steps in one process, writing the model."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "train_manifest.json").read_text())
    assert manifest["steps"] == steps and manifest["hardware"]["processes"] == 1
    assert (out / "model" / "config.json").exists()


REFERENCE = {"lora": False, "sft_weight": 0.0, "warmup_ratio": 0.0,
             "precompute_ref_log_probs": False, "max_length": 512}
"""What the formula tests pin: every weight trained, no RPO term, no warm-up, the reference model
live, 512 tokens (the defaults are LoRA on the embedded model: ``pluralign.train.settings``)."""


def reference_settings(method: str = "dpo") -> dict:
    """:data:`REFERENCE`, the settings ``method`` has."""
    from pluralign.train.config import method_fields

    return {k: v for k, v in REFERENCE.items() if k in method_fields(method)}


def make_trainer(method: str, rows: list[dict], tmp_path: Path, model_dir: Path | None = None,
                 **overrides):
    """A weighted trainer on the tiny model, or ``model_dir`` (CPU, no dropout, fp32)."""
    from pluralign.train.api import Hardware, build_trainer
    from pluralign.train.config import load_train_config
    from pluralign.train.rows import load_rows

    settings = {
        **reference_settings(method),
        "per_device_train_batch_size": 2,
        "max_steps": 1,
        "save_steps": 0,
        "learning_rate": 1e-3,
        "lr_scheduler_type": "constant",
        "max_grad_norm": 0.0,
    }
    settings.update(overrides)
    cfg = load_train_config(settings, method)
    return build_trainer(
        load_rows(rows),
        model_dir or tiny_model_dir(),
        cfg,
        Path(tmp_path),
        Hardware(cuda=False, bf16=False, qlora=False),
    )


def collate(trainer, indices) -> dict:
    """The collated micro-batch of the prepared training rows at ``indices``."""
    ds = trainer.train_dataset
    return trainer.data_collator([ds[int(i)] for i in indices])


def step_gradients(trainer, batches: list[dict]):
    """Loss and gradients of one optimizer step made of ``batches`` (micro-batches), through the
    real Trainer code: ``get_batch_samples`` (our weight sum) then ``training_step`` per batch."""

    model = trainer.model
    model.train()
    model.zero_grad(set_to_none=True)
    trainer.current_gradient_accumulation_steps = len(batches)
    samples, num_items = trainer.get_batch_samples(iter(batches), len(batches), trainer.args.device)
    total = 0.0
    for batch in samples:
        total += float(trainer.training_step(model, batch, num_items))
    grads = {
        n: p.grad.detach().clone()
        for n, p in model.named_parameters()
        if p.requires_grad and p.grad is not None
    }
    assert grads, "no gradient reached the parameters"
    model.zero_grad(set_to_none=True)
    return total, grads


def assert_grads_close(a: dict, b: dict, rtol=1e-4, atol=1e-6):
    import torch

    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=rtol, atol=atol, msg=name)
