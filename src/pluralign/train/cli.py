"""``pluralign train`` (weighted DPO/KTO/ORPO) and ``pluralign model tiny`` (offline tiny model)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pluralign.clikit import OutOption, SeedOption, console
from pluralign.contract import default, from_options, help_of
from pluralign.models.settings import TinySettings
from pluralign.train.settings import TrainSettings

_T = TinySettings

model_app = typer.Typer(help="Build local models for demos and tests.", no_args_is_help=True)


_S = TrainSettings


def _opt(name: str, flag: str | None = None) -> typer.models.OptionInfo:
    return typer.Option(flag or f"--{name.replace('_', '-')}", help=help_of(_S, name))


TRAIN_OPTIONS = ("method", "lora", "learning_rate", "beta", "sft_weight", "max_steps",
                 "num_train_epochs", "per_device_train_batch_size", "warmup_ratio", "max_length",
                 "save_steps", "objective", "group_by", "torch_threads")
"""The settings ``pluralign train`` has an option for (the rest: ``--config train.yaml``)."""


def train(
    ctx: typer.Context,
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
    config: Annotated[
        Path | None,
        typer.Option("--config", help="train.yaml with hyperparameters (docs/training.md); the "
                     "options given on the command line win over it."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the last checkpoint in OUT/checkpoints.")
    ] = False,
    method: Annotated[str, _opt("method")] = default(_S, "method"),
    lora: Annotated[bool, _opt("lora", "--lora/--no-lora")] = default(_S, "lora"),
    learning_rate: Annotated[float, _opt("learning_rate")] = default(_S, "learning_rate"),
    beta: Annotated[float, _opt("beta")] = default(_S, "beta"),
    sft_weight: Annotated[float, _opt("sft_weight")] = default(_S, "sft_weight"),
    max_steps: Annotated[int, _opt("max_steps")] = default(_S, "max_steps"),
    num_train_epochs: Annotated[float, _opt("num_train_epochs")] = default(
        _S, "num_train_epochs"),
    per_device_train_batch_size: Annotated[int, _opt(
        "per_device_train_batch_size", "--batch-size")] = default(
        _S, "per_device_train_batch_size"),
    warmup_ratio: Annotated[float, _opt("warmup_ratio")] = default(_S, "warmup_ratio"),
    max_length: Annotated[int, _opt("max_length")] = default(_S, "max_length"),
    save_steps: Annotated[int, _opt("save_steps")] = default(_S, "save_steps"),
    objective: Annotated[str, _opt("objective")] = default(_S, "objective"),
    group_by: Annotated[str, _opt("group_by")] = default(_S, "group_by"),
    torch_threads: Annotated[int | None, _opt("torch_threads")] = default(_S, "torch_threads"),
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of data order and adapter initialisation (default: the config's, "
        "else 0).")] = None,
) -> None:
    """Train a model on weighted preference pairs (loss = Σ wᵢ·ℓᵢ / Σ wᵢ per effective batch).

    Every default is pipeline.yaml's train: section's (LoRA on the embedded model,
    docs/training.md §4); --config train.yaml sets any setting, the options given win."""
    from pluralign.train.config import train_settings
    from pluralign.train.stage import TrainInputs
    from pluralign.train.stage import run as train_run

    values = locals()
    given = {name: values[name] for name in TRAIN_OPTIONS
             if getattr(ctx.get_parameter_source(name), "name", "DEFAULT")
             not in ("DEFAULT", "DEFAULT_MAP")}  # typer carries its own click's enum
    if seed is not None:
        given["seed"] = seed
    method_given = given.pop("method", None)
    settings = train_settings(config, method_given, **given)
    result = train_run(TrainInputs(data, model, out, resume=resume, console=console),
                       settings, 0)
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
    from pluralign.models.tiny import build_tiny_model, read_texts

    shape = from_options(TinySettings, vocab_size=vocab_size, hidden_size=hidden_size,
                         layers=layers, heads=heads, pretrain_steps=pretrain_steps)
    _quiet_libraries()
    path = build_tiny_model(read_texts(texts), out, **shape.to_dict(), seed=seed)
    console.print(f"tiny model: {path}")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.add_typer(model_app, name="model")
