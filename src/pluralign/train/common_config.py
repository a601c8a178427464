"""Settings every weighted preference trainer shares (optimisation, LoRA/QLoRA, checkpoints).

Each method adds its own fields in ``<method>_config.py`` (TRL's layout). Fields carry help text in
their metadata; ``__post_init__`` validates them and raises :class:`~pluralign.errors.InputError`
naming the field, so a bad YAML value is reported before any model is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from pluralign.errors import InputError

OBJECTIVES = ("weighted", "group-robust")
GROUP_WEIGHT_INITS = ("uniform", "proportional")
GROUP_STEP_SIZE = 1.0
"""Default η of the group-robust objective (how it was chosen: docs/training.md)."""
AUTO_STEP = "auto"
"""``group_step_size: auto``: η = √(8·ln K / T) for K groups and T optimizer steps."""


def _help(text: str, default: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": text})
    return field(default=default, metadata={"help": text})


@dataclass
class CommonConfig:
    """Shared hyperparameters. Subclasses set :attr:`method`."""

    method = "base"

    learning_rate: float = _help("Peak learning rate of AdamW.", 5e-6)
    num_train_epochs: float = _help("Passes over the data (ignored when max_steps > 0).", 1.0)
    max_steps: int = _help("Optimizer steps to run; -1 means use num_train_epochs.", -1)
    per_device_train_batch_size: int = _help("Preference pairs per micro-batch and device.", 4)
    gradient_accumulation_steps: int = _help(
        "Micro-batches per optimizer step. The loss is normalised by the weight sum of the whole "
        "accumulated batch, so accumulation changes memory use, not the objective.",
        1,
    )
    warmup_ratio: float = _help("Fraction of steps with linear learning-rate warm-up.", 0.0)
    lr_scheduler_type: str = _help(
        "transformers scheduler name (linear, cosine, constant, ...).", "linear"
    )
    weight_decay: float = _help("AdamW weight decay.", 0.0)
    max_grad_norm: float = _help("Gradient clipping norm (0 disables).", 1.0)
    max_length: int | None = _help(
        "Truncate prompt+reply to this many tokens (None: no limit).", 512
    )
    seed: int = _help("Seed of data order and adapter initialisation.", 0)
    logging_steps: int = _help("Log the training curve every N optimizer steps.", 1)
    save_steps: int = _help("Write a checkpoint every N optimizer steps (0: only at the end).", 50)
    save_total_limit: int | None = _help("Keep at most this many checkpoints.", 2)
    gradient_checkpointing: bool = _help("Recompute activations in backward to save memory.", False)
    # LoRA / QLoRA
    lora: bool = _help("Train a LoRA adapter instead of all weights (PEFT).", False)
    lora_r: int = _help("LoRA rank.", 8)
    lora_alpha: int = _help("LoRA scaling alpha.", 16)
    lora_dropout: float = _help("Dropout on the LoRA path.", 0.0)
    lora_target_modules: list[str] = _help(
        "Module names that get adapters; 'all-linear' (alone) targets every linear layer "
        "except the output head.",
        ["all-linear"],
    )
    qlora: bool | None = _help(
        "Load the base model in 4-bit NF4 (bitsandbytes) and train LoRA on top. None: on when "
        "lora is on and CUDA with bitsandbytes is available; true on a machine without CUDA is an "
        "error.",
        None,
    )
    bf16: bool | None = _help(
        "bfloat16 mixed precision. None: on when CUDA supports it; true without such a GPU is "
        "an error.",
        None,
    )
    merge_duplicates: bool = _help(
        "Merge rows with identical prompt, chosen and rejected into one row whose weight is the "
        "sum (same objective: weight w counts as w copies), and drop weight-0 rows; an epoch then "
        "has far fewer steps when panel members often pick the same pair. Weighted DPO also "
        "folds a pair and its reverse (the same replies, the other one preferred) into one row "
        "whose loss covers both orders (same objective, one forward pass for both).",
        True,
    )
    torch_threads: int | None = _help(
        "CPU threads torch may use during training (None: torch's default). 1 is often fastest "
        "for tiny models, and much faster on a machine busy with other jobs.",
        None,
    )
    precompute_ref_log_probs: bool = _help(
        "Compute the reference log-probabilities once before training (frees the reference model "
        "during training). DPO/KTO only.",
        False,
    )
    objective: str = _help(
        "weighted: minimise Σ wᵢ·ℓᵢ / Σ wᵢ. group-robust: minimise the worst group's weighted "
        "loss, max over group weights α of Σ_g α_g·L_g, α updated by mirror ascent (GR-DPO / "
        "GR-IPO, Ramesh et al. 2024); per-example weights act within each group.",
        "weighted",
    )
    group_by: str = _help(
        "group-robust: the column that names each row's group: group, source, opinion, latent, "
        "demographic:FEATURE, or a provenance key (provenance.KEY).",
        "group",
    )
    group_step_size: float | str = _help(
        "group-robust: η, the mirror-ascent step of the group weights; per optimizer step a "
        "group's log-weight grows by η times its loss estimate (0: the weights stay fixed). "
        "auto: √(8·ln K / T) for K groups and T optimizer steps (the exponentiated-weights "
        "regret bound's step for losses in [0, 1]).",
        GROUP_STEP_SIZE,
    )
    group_weights_init: str = _help(
        "group-robust: initial group weights, uniform (1/K, as Ramesh et al.) or proportional "
        "(each group's share of the total weight: with step size 0 that is the weighted loss).",
        "uniform",
    )

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> None:
            raise InputError(f"{why}, got {getattr(self, name)!r}", where=f"config field '{name}'")

        positive_floats = ("learning_rate",)
        for name in positive_floats:
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                bad(name, "must be a positive number")
        for name in (
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "logging_steps",
            "lora_r",
            "lora_alpha",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                bad(name, "must be an integer >= 1")
        if not isinstance(self.max_steps, int) or (self.max_steps < 1 and self.max_steps != -1):
            bad("max_steps", "must be -1 or an integer >= 1")
        if self.max_steps == -1 and not (self.num_train_epochs > 0):
            bad("num_train_epochs", "must be > 0 when max_steps is -1")
        if not 0 <= self.warmup_ratio < 1:
            bad("warmup_ratio", "must be in [0, 1)")
        if self.weight_decay < 0:
            bad("weight_decay", "must be >= 0")
        if self.max_grad_norm < 0:
            bad("max_grad_norm", "must be >= 0")
        if not 0 <= self.lora_dropout < 1:
            bad("lora_dropout", "must be in [0, 1)")
        if self.max_length is not None and (
            not isinstance(self.max_length, int) or self.max_length < 8
        ):
            bad("max_length", "must be None or an integer >= 8")
        if self.torch_threads is not None and (
            not isinstance(self.torch_threads, int) or self.torch_threads < 1
        ):
            bad("torch_threads", "must be None or an integer >= 1")
        if self.save_steps < 0:
            bad("save_steps", "must be >= 0")
        if (
            not isinstance(self.lora_target_modules, list)
            or not self.lora_target_modules
            or not all(isinstance(m, str) for m in self.lora_target_modules)
        ):
            bad("lora_target_modules", "must be a non-empty list of module names")
        if self.objective not in OBJECTIVES:
            bad("objective", f"must be one of {', '.join(OBJECTIVES)}")
        if not isinstance(self.group_by, str) or not self.group_by.strip():
            bad("group_by", "must be a column name")
        step = self.group_step_size
        if step != AUTO_STEP and (
            isinstance(step, bool)
            or not isinstance(step, (int, float))
            or not (math.isfinite(step) and step >= 0)
        ):
            bad("group_step_size", "must be a finite number >= 0 or auto")
        if self.group_weights_init not in GROUP_WEIGHT_INITS:
            bad("group_weights_init", f"must be one of {', '.join(GROUP_WEIGHT_INITS)}")
        if self.qlora and not self.lora:
            bad("qlora", "needs lora: true (QLoRA trains a LoRA adapter on a 4-bit base)")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields (recorded in the run's provenance)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def field_help(cls) -> dict[str, str]:
        """Field name → help text (docs and ``--help``)."""
        return {f.name: f.metadata.get("help", "") for f in fields(cls)}
