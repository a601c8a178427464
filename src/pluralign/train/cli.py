"""``pluralign train`` (weighted DPO/KTO/ORPO) and ``pluralign model tiny`` (offline tiny model)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import OutOption, SeedOption, console
from pluralign.contract import default, from_options, help_of
from pluralign.train.tiny_settings import TinySettings

_T = TinySettings

model_app = typer.Typer(help="Build local models for demos and tests.", no_args_is_help=True)


def train(
    data: Annotated[
        Path,
        typer.Option(
            "--data", help="Preference JSONL (prompt, chosen, rejected, weight, group, source)."
        ),
    ],
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            help="Checkpoint folder to start from, or 'smollm2' (the embedded SmolLM2-135M).",
        ),
    ],
    out: OutOption,
    method: Annotated[
        str | None,
        typer.Option("--method", help="dpo, kto or orpo (default: the config's method, else dpo)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="train.yaml with hyperparameters (docs/training.md)."),
    ] = None,
    lora: Annotated[
        bool,
        typer.Option(
            "--lora", help="Train a LoRA adapter (QLoRA automatically on CUDA with bitsandbytes)."
        ),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in OUT/checkpoints.")
    ] = False,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            help="weighted (Σ wᵢ·ℓᵢ / Σ wᵢ) or group-robust (the worst group's loss: GR-DPO / "
            "GR-IPO); default: the config's, else weighted.",
        ),
    ] = None,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="group-robust: the column naming each row's group (group, opinion, latent, "
            "demographic:FEATURE, a provenance key); default: the config's, else group.",
        ),
    ] = None,
) -> None:
    """Train a model on weighted preference pairs (loss = Σ wᵢ·ℓᵢ / Σ wᵢ per effective batch)."""
    from pluralign.train.api import train_preferences

    _quiet_libraries()
    cfg = _with_objective(config, method, objective, group_by)
    result = train_preferences(
        data,
        model,
        cfg,
        out,
        method=method.lower() if method else None,
        lora=True if lora else None,
        resume=resume,
        progress=True,
    )
    last = result.curve[-1] if result.curve else {}
    console.print(
        f"trained {result.method} for {result.steps} steps; final loss "
        f"{last.get('loss', float('nan')):.4f}, "
        f"reward margin {last.get('rewards/margins', float('nan')):.4f}"
    )
    if result.group_weights is not None:
        weights = ", ".join(f"{g} {a:.3f}" for g, a in result.group_weights.items())
        console.print(
            f"group weights: {weights} (every step: {result.out_dir}/group_weights.jsonl)"
        )
    console.print(f"model: {result.model_dir}")
    console.print(f"curve: {result.curve_path}")


def _with_objective(config, method, objective, group_by):
    """The config (file or defaults) with ``--objective``/``--group-by`` applied on top."""
    if objective is None and group_by is None:
        return config
    from pluralign.train.config import load_train_config

    cfg = load_train_config(config, method.lower() if method else None)
    extra = {"objective": objective, "group_by": group_by}
    return type(cfg)(**{**cfg.to_dict(), **{k: v for k, v in extra.items() if v is not None}})


def _quiet_libraries() -> None:
    from pluralign.train.api import quiet_libraries

    quiet_libraries()


@model_app.command("tiny")
def tiny(
    texts: Annotated[
        Path,
        typer.Option(
            "--texts",
            help="Text file (one text per line) or preference JSONL to train the tokenizer on.",
        ),
    ],
    out: OutOption,
    vocab_size: Annotated[int, typer.Option("--vocab-size", help=help_of(_T, "vocab_size"))
                          ] = default(_T, "vocab_size"),
    hidden_size: Annotated[int, typer.Option("--hidden-size", help=help_of(_T, "hidden_size"))
                           ] = default(_T, "hidden_size"),
    layers: Annotated[int, typer.Option("--layers", help=help_of(_T, "layers"))] = default(
        _T, "layers"),
    heads: Annotated[int, typer.Option("--heads", help=help_of(_T, "heads"))] = default(
        _T, "heads"),
    pretrain_steps: Annotated[int, typer.Option(
        "--pretrain-steps", help=help_of(_T, "pretrain_steps"))] = default(_T, "pretrain_steps"),
    seed: SeedOption = 0,
) -> None:
    """Build a tiny Llama-style model with its own byte-level BPE tokenizer, fully offline."""
    from pluralign.train.tiny import build_tiny_model, read_texts

    shape = from_options(TinySettings, vocab_size=vocab_size, hidden_size=hidden_size,
                         layers=layers, heads=heads, pretrain_steps=pretrain_steps)
    _quiet_libraries()
    path = build_tiny_model(read_texts(texts), out, **shape.to_dict(), seed=seed)
    console.print(f"tiny model: {path}")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.add_typer(model_app, name="model")
