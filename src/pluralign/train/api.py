"""``train_preferences``: one call from preference rows to a trained model folder.

It reads and validates the rows, builds the method's config, picks the hardware paths (bf16 and
QLoRA only with CUDA), runs the weighted TRL trainer with checkpoints, logs the training curve to
``curve.jsonl`` and writes the final model plus a provenance manifest. Layout of ``out_dir``::

    checkpoints/checkpoint-N/   resumable Trainer checkpoints (model, optimizer, scheduler, RNG)
    curve.jsonl                 one JSON object per logged step: step, loss, rewards/*, lr ...
    model/                      final model + tokenizer (LoRA: merged into the base weights)
    adapter/                    LoRA/QLoRA only: the adapter alone
    train_manifest.json         provenance: inputs' sha256, settings, versions, final metrics
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.data.preferences import PreferencePair
from pluralign.errors import DependencyError, InputError, require
from pluralign.io import honour_umask, iter_jsonl, write_json_atomic
from pluralign.train.common_config import CommonConfig
from pluralign.train.config import load_train_config
from pluralign.train.rows import (
    group_rows,
    load_rows,
    merge_duplicates,
    merge_reverses,
    paired_dataset,
    rows_sha256,
    unpaired_dataset,
)


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced. ``model_dir`` loads with ``AutoModelForCausalLM`` (or, for
    QLoRA, is an adapter folder that :func:`pluralign.train.margins.load_causal_lm` loads)."""

    out_dir: Path
    model_dir: Path
    curve_path: Path
    manifest_path: Path
    method: str
    steps: int
    metrics: dict[str, float] = field(default_factory=dict)
    curve: list[dict[str, Any]] = field(default_factory=list)
    adapter_dir: Path | None = None
    group_weights: dict[str, float] | None = None
    """group-robust: the final group weights α (``group_weights.jsonl`` has every step's)."""
    resumed_from_step: int = 0
    """The checkpoint step training resumed from (0: trained from the start)."""

    @property
    def resumed(self) -> bool:
        return self.resumed_from_step > 0

    def summary(self) -> dict[str, Any]:
        """``summary.json`` of a run's train stage: method, steps, whether it resumed, and the
        last logged curve values and the trainer's final metrics (numbers only)."""
        last = self.curve[-1] if self.curve else {}
        return {"method": self.method, "steps": self.steps, "resumed": self.resumed,
                **{k: v for k, v in {**last, **self.metrics}.items()
                   if isinstance(v, int | float)}}

    def write(self, folder: str | Path) -> Path:
        """Write ``summary.json`` into ``folder`` (the model, curve and manifest are written
        into :attr:`out_dir` while training); returns its path."""
        path = Path(folder) / "summary.json"
        write_json_atomic(path, self.summary(), sort_keys=True, default=str)
        return path

    @classmethod
    def read(cls, folder: str | Path) -> TrainResult:
        """The result of a training run written into ``folder`` (its ``train_manifest.json``,
        ``curve.jsonl``, ``model/`` and ``adapter/``): what a resumed pipeline hands on."""
        from pluralign.io import read_json

        out = Path(folder)
        manifest_path = out / "train_manifest.json"
        if not manifest_path.is_file():
            raise InputError("no finished training here (train_manifest.json missing)",
                             where=str(out), hint="run the train stage again")
        manifest = read_json(manifest_path)
        adapter = out / "adapter"
        model = out / "model"
        curve_path = out / "curve.jsonl"
        groups = manifest.get("groups")
        return cls(
            out_dir=out,
            model_dir=model if model.is_dir() else adapter,
            curve_path=curve_path,
            manifest_path=manifest_path,
            method=manifest["method"],
            steps=int(manifest["steps"]),
            metrics={k: float(v) for k, v in manifest.get("metrics", {}).items()},
            curve=[obj for _, obj in iter_jsonl(curve_path)] if curve_path.is_file() else [],
            adapter_dir=adapter if adapter.is_dir() else None,
            group_weights=(dict(zip(groups["names"], groups["final_weights"], strict=True))
                           if groups else None),
            resumed_from_step=int(manifest.get("resumed_from_step", 0)),
        )


@dataclass(frozen=True)
class Hardware:
    """Resolved hardware choices of a run."""

    cuda: bool
    bf16: bool
    qlora: bool


def resolve_hardware(cfg: CommonConfig) -> Hardware:
    """bf16 and QLoRA follow the libraries' guidance: on when CUDA supports them, unless the
    config says otherwise; asking for them without CUDA is an error naming the field."""
    import importlib.util

    import torch

    cuda = torch.cuda.is_available()
    if cfg.bf16 and not (cuda and torch.cuda.is_bf16_supported()):
        raise InputError(
            "bf16 needs a CUDA GPU with bfloat16 support",
            where="config field 'bf16'",
            hint="remove bf16 (it is chosen automatically on a capable GPU)",
        )
    bf16 = cfg.bf16 if cfg.bf16 is not None else bool(cuda and torch.cuda.is_bf16_supported())
    has_bnb = importlib.util.find_spec("bitsandbytes") is not None
    if cfg.qlora:
        if not cuda:
            raise InputError(
                "QLoRA (4-bit bitsandbytes) needs a CUDA GPU",
                where="config field 'qlora'",
                hint="use lora: true without qlora on CPU",
            )
        if not has_bnb:
            raise DependencyError(
                "QLoRA needs the 'bitsandbytes' package", hint="pip install bitsandbytes"
            )
    qlora = cfg.qlora if cfg.qlora is not None else bool(cfg.lora and cuda and has_bnb)
    return Hardware(cuda=cuda, bf16=bf16, qlora=qlora)


def _trl_args(cfg: CommonConfig, out: Path, hw: Hardware, n_rows: int):
    common = dict(
        output_dir=str(out / "checkpoints"),
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        warmup_steps=cfg.warmup_ratio,
        lr_scheduler_type=cfg.lr_scheduler_type,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        max_length=cfg.max_length,
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_steps=cfg.logging_steps,
        save_strategy="steps" if cfg.save_steps else "no",
        save_steps=cfg.save_steps or 500,
        save_total_limit=cfg.save_total_limit,
        **_checkpointing(cfg.gradient_checkpointing),
        bf16=hw.bf16,
        use_cpu=not hw.cuda,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    if cfg.method == "dpo":
        from trl import DPOConfig

        return DPOConfig(
            **common,
            beta=cfg.beta,
            loss_type=[cfg.loss_type],
            precompute_ref_log_probs=cfg.precompute_ref_log_probs,
        )
    if cfg.method == "kto":
        from trl import KTOConfig

        return KTOConfig(
            **common,
            beta=cfg.beta,
            desirable_weight=cfg.desirable_weight,
            undesirable_weight=cfg.undesirable_weight,
            # TRL's loss_type only decides whether KL completions are built; the loss is KTO's.
            loss_type="kto" if cfg.kl_estimate == "batch" else "apo_zero_unpaired",
            train_sampling_strategy="sequential" if cfg.kl_estimate == "batch" else "random",
            precompute_ref_log_probs=cfg.precompute_ref_log_probs,
        )
    from trl.experimental.orpo import ORPOConfig

    return ORPOConfig(**common, beta=cfg.beta)


def _checkpointing(enabled: bool) -> dict:
    """Activation (gradient) checkpointing under the name the installed transformers uses:
    ``activation_checkpointing`` from transformers 5.x (``gradient_checkpointing`` is a deprecated
    alias there that warns), ``gradient_checkpointing`` before."""
    import dataclasses

    from transformers import TrainingArguments

    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    key = (
        "activation_checkpointing"
        if "activation_checkpointing" in names
        else "gradient_checkpointing"
    )
    return {key: enabled}


def _peft_config(cfg: CommonConfig):
    if not cfg.lora:
        return None
    from peft import LoraConfig

    targets = cfg.lora_target_modules
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules="all-linear" if targets == ["all-linear"] else list(targets),
        task_type="CAUSAL_LM",
    )


def build_trainer(
    rows: list[PreferencePair],
    model_dir: str | Path,
    cfg: CommonConfig,
    out: Path,
    hw: Hardware,
    callbacks: list | None = None,
    group_robust=None,
    forward_share=None,
    groups=None,
):
    """The weighted TRL trainer for ``cfg.method`` (exposed for tests and the benchmark). With
    ``group_robust`` (a :class:`~pluralign.train.group_robust.GroupRobustState`) the trainer
    optimises the group-robust objective from that state; ``groups`` (a
    :class:`~pluralign.train.rows.GroupRows` of the same rows) gives each group's weight on each
    row (default: each row counts for its own ``group``). ``forward_share`` (DPO): each row's
    share of its weight on chosen ≻ rejected, for rows that
    :func:`~pluralign.train.rows.merge_reverses` or ``group_rows`` folded with their reverse."""
    if forward_share is not None and cfg.method != "dpo":
        raise ValueError("rows folded with their reverse are for the DPO objective")
    if group_robust is not None and groups is None:
        from pluralign.train.rows import group_rows

        groups = group_rows(rows, group_robust.names, merge=False)
        if len(groups.rows) != len(rows):
            raise ValueError("group-robust rows need positive weights")
    if group_robust is not None and (groups.folded != (forward_share is not None)):
        raise ValueError("folded group rows need their forward shares, and only they")
    trainer = _build_trainer(
        rows,
        model_dir,
        cfg,
        out,
        hw,
        callbacks,
        None if group_robust is None else groups,
        forward_share,
    )
    if group_robust is not None:
        log = out / "group_weights.jsonl"
        trainer.enable_group_robust(group_robust, log)
    return trainer


def _build_trainer(rows, model_dir, cfg, out, hw, callbacks, groups, forward_share=None):
    import torch
    from transformers import AutoTokenizer, BitsAndBytesConfig

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    conversational = bool(getattr(tokenizer, "chat_template", None))
    args = _trl_args(cfg, out, hw, len(rows))
    quant = None
    if hw.qlora:
        quant = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if hw.bf16 else torch.float16,
        )
    kwargs = dict(
        args=args, processing_class=tokenizer, peft_config=_peft_config(cfg), callbacks=callbacks
    )
    if cfg.method == "dpo":
        from pluralign.train.dpo_trainer import WeightedDPOTrainer

        return WeightedDPOTrainer(
            model=str(model_dir),
            train_dataset=paired_dataset(rows, conversational, groups, forward_share),
            quantization_config=quant,
            sft_weight=cfg.sft_weight,
            **kwargs,
        )
    if cfg.method == "kto":
        from pluralign.train.kto_trainer import WeightedKTOTrainer

        return WeightedKTOTrainer(
            model=str(model_dir),
            train_dataset=unpaired_dataset(rows, conversational, groups),
            quantization_config=quant,
            kl_estimate=cfg.kl_estimate,
            **kwargs,
        )
    from pluralign.train.orpo_trainer import WeightedORPOTrainer

    if quant is not None:
        args.model_init_kwargs = {
            "quantization_config": quant,
            "device_map": {"": int(os.environ.get("LOCAL_RANK", 0))},
        }
    return WeightedORPOTrainer(
        model=str(model_dir),
        train_dataset=paired_dataset(rows, conversational, groups),
        **kwargs,
    )


def _curve_callback(path: Path, resume_step: int):
    from transformers import TrainerCallback

    keep = (
        "loss",
        "learning_rate",
        "grad_norm",
        "rewards/margins",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/accuracies",
        "kl",
        "nll_loss",
        "weight_sum",
        "epoch",
    )
    prefixes = ("group_weight/", "group_loss/")  # the group-robust objective's α and L̂

    class CurveLogger(TrainerCallback):
        """Append each training log as one JSON line: the report's training curves. A value
        that is not a finite number (a diverged loss) is left out of its line, which stays
        strict JSON for the readers (:func:`pluralign.io.iter_jsonl`)."""

        def on_train_begin(self, args, state, control, **kw):
            if not state.is_world_process_zero:
                return
            from pluralign.io import filter_jsonl

            filter_jsonl(path, lambda row: row.get("step", 0) <= resume_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if not state.is_world_process_zero or not logs or "loss" not in logs:
                return
            row = {"step": state.global_step}
            values = {k.replace("learning_rate", "lr"): float(v) for k, v in logs.items()
                      if k in keep or k.startswith(prefixes)}
            row.update({k: v for k, v in values.items() if math.isfinite(v)})
            with path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")

    return CurveLogger()


def _progress_callback(console=None):
    """A rich bar over the optimizer steps with the last logged loss beside it. ``console``: the
    rich console to draw on (a run's, so that the bar nests inside the run's own bar); None:
    rich's default."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from transformers import TrainerCallback

    class RichProgress(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kw):
            if state.is_world_process_zero:
                self.bar = Progress(
                    TextColumn("training"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("steps  loss {task.fields[loss]}"),
                    TimeElapsedColumn(),
                    TimeRemainingColumn(),
                    console=console,
                    transient=True,
                )
                self.bar.start()
                self.task = self.bar.add_task(
                    "train", total=state.max_steps, completed=state.global_step, loss="-"
                )

        def on_step_end(self, args, state, control, **kw):
            if self.bar is not None:
                self.bar.update(self.task, completed=state.global_step)

        def on_log(self, args, state, control, logs=None, **kw):
            if self.bar is not None and logs and "loss" in logs:
                self.bar.update(self.task, loss=f"{float(logs['loss']):.4f}")

        def on_train_end(self, args, state, control, **kw):
            if self.bar is not None:
                self.bar.stop()
                self.bar = None

    return RichProgress()


def quiet_libraries() -> None:
    """Silence the per-map, per-shard progress bars and info logs of datasets/transformers (the
    CLI and the demo show their own progress): :func:`pluralign.models.info.quiet_libraries`."""
    from pluralign.models.info import quiet_libraries as quiet

    quiet()


def _last_checkpoint(out: Path) -> Path | None:
    ckpts = sorted(
        (out / "checkpoints").glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])
    )
    return ckpts[-1] if ckpts else None


def train_preferences(
    data: str | Path | Iterable[Mapping[str, Any] | PreferencePair],
    model_dir: str | Path,
    config: str | Path | Mapping[str, Any] | CommonConfig | None,
    out_dir: str | Path,
    *,
    method: str | None = None,
    lora: bool | None = None,
    resume: bool = False,
    progress: bool = False,
    console=None,
) -> TrainResult:
    """Train ``model_dir`` on weighted preference ``data`` with DPO, KTO or ORPO.

    Args:
        data: preference JSONL path, or rows (dicts with prompt, chosen, rejected, weight,
            group, source).
        model_dir: local transformers checkpoint (e.g. from
            :func:`~pluralign.train.build_tiny_model`), or ``"smollm2"`` for the embedded model.
        config: YAML path, mapping or config object (:mod:`pluralign.train.config`);
            None = defaults.
        out_dir: output folder (layout in the module docstring).
        method: ``dpo``, ``kto`` or ``orpo`` (default: the config's, else ``dpo``).
        lora: override the config's ``lora`` flag.
        resume: continue from the last checkpoint in ``out_dir/checkpoints``.
        progress: show a rich progress bar (steps and the last loss).
        console: the rich console the bar draws on (None: rich's default).
    """
    # Validate the user's inputs before the slow heavy imports.
    cfg = load_train_config(config, method)
    robust = cfg.objective == "group-robust"
    rows = load_rows(data, cfg.group_by if robust else None)
    if sum(r.weight for r in rows) <= 0:
        raise InputError(
            "every preference row has weight 0: nothing to train on",
            hint="check the weighting mode that produced the data",
        )
    if lora is not None and lora != cfg.lora:
        cfg = type(cfg)(**{**cfg.to_dict(), "lora": lora})
    require("trl", "train")
    import torch

    hw = resolve_hardware(cfg)
    from pluralign.models import resolve_model

    model_dir = resolve_model(model_dir)  # 'smollm2' / 'embedded': the embedded model
    if not (model_dir / "config.json").exists():
        raise InputError(
            f"no model at {model_dir} (config.json missing)",
            hint="give 'smollm2' (the embedded model), a local checkpoint folder, or build one "
            "with `pluralign model tiny`",
        )
    out = Path(out_dir)
    last = _last_checkpoint(out)
    if resume and last is None:
        raise InputError(
            f"nothing to resume: no checkpoint in {out / 'checkpoints'}",
            hint="run without --resume to start training",
        )
    if not resume and last is not None:
        raise InputError(
            f"{out} already holds checkpoints ({last.name})",
            hint="pass --resume to continue that run, or choose a new --out",
        )
    out.mkdir(parents=True, exist_ok=True)
    resume_step = int(last.name.split("-")[-1]) if (resume and last) else 0
    curve_path = out / "curve.jsonl"
    callbacks = [_curve_callback(curve_path, resume_step)]
    if progress:
        callbacks.append(_progress_callback(console))

    threads_before = torch.get_num_threads()
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    try:
        return _run(
            rows, data, model_dir, cfg, hw, out, last, resume, resume_step, curve_path, callbacks
        )
    finally:
        torch.set_num_threads(threads_before)


def _group_robust_state(
    rows: list[PreferencePair], n_train_rows: int, cfg: CommonConfig, checkpoint: Path | None
):
    """The group weights to start from: fresh (uniform or proportional), or those stored in the
    checkpoint being resumed (which must belong to the same groups and settings). ``rows``: the
    data's rows (their groups and weights), ``n_train_rows``: the rows trained on (merged)."""
    from pluralign.train.common_config import AUTO_STEP
    from pluralign.train.group_robust import (
        GroupRobustState,
        group_shares,
        planned_steps,
        theory_step_size,
    )

    step = cfg.group_step_size
    if step == AUTO_STEP:
        processes = int(os.environ.get("WORLD_SIZE", "1") or 1)
        names, _ = group_shares([r.group for r in rows], [r.weight for r in rows])
        step = theory_step_size(len(names), planned_steps(n_train_rows, cfg, processes))
    fresh = GroupRobustState.start(
        [r.group for r in rows],
        [r.weight for r in rows],
        step,
        cfg.group_weights_init,
    )
    if len(fresh.names) < 2:
        warnings.warn(
            f"group-robust training with one group ({fresh.names[0]!r}) is the weighted "
            f"objective (group_by: {cfg.group_by})",
            stacklevel=3,
        )
    if checkpoint is None:
        return fresh
    stored = GroupRobustState.read(checkpoint)
    stored.check_resumable(fresh, str(checkpoint))
    return stored


def _groups_manifest(state) -> dict[str, Any]:
    return {
        "names": list(state.names),
        "shares": [float(x) for x in state.shares],
        "final_weights": [float(x) for x in state.weights],
        "step_size": state.step_size,
        "init": state.init,
        "log": "group_weights.jsonl",
    }


def _run(rows, data, model_dir, cfg, hw, out, last, resume, resume_step, curve_path, callbacks):
    """Train, save the final model and the manifest (``train_preferences`` has validated all)."""
    import torch
    import transformers
    import trl
    from transformers import PrinterCallback

    from pluralign import __version__

    start = time.time()
    robust = cfg.objective == "group-robust"
    fold = cfg.merge_duplicates and cfg.method == "dpo"  # one pass for a pair and its reverse
    shares, state, groups = None, None, None
    if robust:  # identical pairs of several groups share a row, each group's weight kept apart
        from pluralign.train.group_robust import group_shares

        names, _ = group_shares([r.group for r in rows], [r.weight for r in rows])
        groups = group_rows(rows, names, merge=cfg.merge_duplicates, fold=fold)
        train_rows = groups.rows
        shares = groups.forward_share() if groups.folded else None
        state = _group_robust_state(rows, len(train_rows), cfg, last if resume else None)
    else:
        train_rows = merge_duplicates(rows) if cfg.merge_duplicates else rows
        if fold:
            train_rows, shares = merge_reverses(train_rows)
    trainer = build_trainer(train_rows, model_dir, cfg, out, hw, callbacks, group_robust=state,
                            forward_share=shares, groups=groups)
    trainer.remove_callback(PrinterCallback)  # the curve goes to curve.jsonl, not to stdout
    with warnings.catch_warnings():
        # TRL's reference pass calls transformers' deprecated ``is_gradient_checkpointing`` on
        # every step; the notice is for TRL's maintainers, not for the person training.
        warnings.filterwarnings(
            "ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning
        )
        result = trainer.train(resume_from_checkpoint=str(last) if resume else None)
    elapsed = time.time() - start

    final_dir, adapter_dir = out / "model", None
    if trainer.is_world_process_zero():
        tmp = out / ".model.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        model = trainer.accelerator.unwrap_model(trainer.model)
        tokenizer = trainer.processing_class
        if cfg.lora:
            adapter_dir = out / "adapter"
            shutil.rmtree(adapter_dir, ignore_errors=True)
            model.save_pretrained(adapter_dir)
            tokenizer.save_pretrained(adapter_dir)
        if cfg.lora and hw.qlora:
            final_dir = adapter_dir  # 4-bit weights are not merged; load base + adapter
        else:
            if cfg.lora:
                model = model.merge_and_unload()
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            shutil.rmtree(final_dir, ignore_errors=True)
            os.replace(tmp, final_dir)
        honour_umask(out)  # safetensors writes 0600 weights (model, adapter, checkpoints)
    trainer.accelerator.wait_for_everyone()

    curve = [obj for _, obj in iter_jsonl(curve_path)] if curve_path.exists() else []
    metrics = {k: float(v) for k, v in result.metrics.items() if isinstance(v, (int, float))}
    manifest = {
        "kind": "pluralign train run",
        "method": cfg.method,
        "pluralign_version": __version__,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "trl": trl.__version__,
        },
        "data_sha256": rows_sha256(rows),
        "data_source": str(data) if isinstance(data, (str, Path)) else "rows",
        "n_rows": len(rows),
        "n_rows_trained": len(train_rows),
        "weight_sum": sum(r.weight for r in rows),
        "base_model": str(model_dir.resolve()),
        "seed": cfg.seed,
        "settings": cfg.to_dict(),
        "hardware": {
            "cuda": hw.cuda,
            "bf16": hw.bf16,
            "qlora": hw.qlora,
            "processes": trainer.accelerator.num_processes,
        },
        "objective": cfg.objective,
        **({"groups": _groups_manifest(trainer.group_robust)} if robust else {}),
        "resumed_from_step": resume_step,
        "steps": trainer.state.global_step,
        "elapsed_s": round(elapsed, 3),
        "metrics": metrics,
    }
    manifest_path = out / "train_manifest.json"
    if trainer.is_world_process_zero():
        write_json_atomic(manifest_path, manifest, ensure_ascii=True)
    return TrainResult(
        out_dir=out,
        model_dir=final_dir,
        curve_path=curve_path,
        manifest_path=manifest_path,
        method=cfg.method,
        steps=trainer.state.global_step,
        metrics=metrics,
        curve=curve,
        adapter_dir=adapter_dir,
        group_weights=trainer.group_robust.log_row()["weights"] if robust else None,
        resumed_from_step=resume_step,
    )
