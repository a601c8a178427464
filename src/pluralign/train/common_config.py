"""Settings every weighted preference trainer shares (optimisation, LoRA/QLoRA, checkpoints).

Each method adds its own fields in ``<method>_config.py`` (TRL's layout). Every default (and help
text) is :class:`~pluralign.train.settings.TrainSettings`'s, the one home of training defaults;
``__post_init__`` validates the fields and raises :class:`~pluralign.errors.InputError` naming
the field, so a bad YAML value is reported before any model is loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from pluralign.errors import InputError
from pluralign.train.settings import (  # noqa: F401 - the names' old home
    AUTO_STEP,
    GROUP_STEP_SIZE,
    GROUP_WEIGHT_INITS,
    OBJECTIVES,
    TrainSettings,
)


def _help(text: str, default: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": text})
    return field(default=default, metadata={"help": text})


def _setting(name: str, text: str | None = None) -> Any:
    """A config field whose default (and, unless ``text`` is given, help) is
    :class:`~pluralign.train.settings.TrainSettings`'s: the one home of training defaults."""
    from pluralign.contract import default, help_of

    return _help(text or help_of(TrainSettings, name), default(TrainSettings, name))


@dataclass
class CommonConfig:
    """Shared hyperparameters. Subclasses set :attr:`method`."""

    method = "base"

    learning_rate: float = _setting("learning_rate")
    num_train_epochs: float = _setting("num_train_epochs")
    max_steps: int = _setting("max_steps")
    per_device_train_batch_size: int = _setting("per_device_train_batch_size")
    gradient_accumulation_steps: int = _setting("gradient_accumulation_steps")
    warmup_ratio: float = _setting("warmup_ratio")
    lr_scheduler_type: str = _setting("lr_scheduler_type")
    weight_decay: float = _setting("weight_decay")
    max_grad_norm: float = _setting("max_grad_norm")
    max_length: int | None = _setting("max_length")
    seed: int = _help("Seed of data order and adapter initialisation.", 0)
    logging_steps: int = _setting("logging_steps")
    save_steps: int = _setting("save_steps")
    save_total_limit: int | None = _setting("save_total_limit")
    gradient_checkpointing: bool = _setting("gradient_checkpointing")
    # LoRA / QLoRA
    lora: bool = _setting("lora")
    lora_r: int = _setting("lora_r")
    lora_alpha: int = _setting("lora_alpha")
    lora_dropout: float = _setting("lora_dropout")
    lora_target_modules: list[str] = _setting("lora_target_modules")
    qlora: bool | None = _setting("qlora")
    bf16: bool | None = _setting("bf16")
    merge_duplicates: bool = _setting("merge_duplicates")
    torch_threads: int | None = _setting("torch_threads")
    objective: str = _setting("objective")
    group_by: str = _setting("group_by")
    group_step_size: float | str = _setting("group_step_size")
    group_weights_init: str = _setting("group_weights_init")

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
