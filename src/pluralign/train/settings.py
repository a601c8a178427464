"""Settings of the training stage, every training default here: ``pipeline.yaml``'s ``train:``
section, ``pluralign train``'s options and ``train.yaml``, and the per-method configs
(:mod:`pluralign.train.dpo_config`, ``kto_config``, ``orpo_config``, which TRL's trainers take)
read their defaults from :class:`TrainSettings`.

The defaults are the ones measured for LoRA on the embedded SmolLM2-135M-Instruct on a CPU
(docs/training.md §13): learning rate 5e-4 with LoRA, an RPO term of weight 1 on the chosen reply,
10 % warm-up, replies cut at 192 tokens, the reference log-probabilities computed once. Before,
the pipeline had these while ``pluralign train`` and the library had TRL's full fine-tuning
defaults (5e-6, no LoRA): the same data trained differently by the command and by the run.
The tiny random model (``demo --quick``) sets its own (``pluralign.run.demo``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pluralign.contract import Settings, setting

METHODS = ("dpo", "kto", "orpo")
OBJECTIVES = ("weighted", "group-robust")
GROUP_WEIGHT_INITS = ("uniform", "proportional")
DPO_LOSS_TYPES = ("sigmoid", "ipo", "hinge")
KL_ESTIMATES = ("batch", "none")
GROUP_STEP_SIZE = 1.0
"""Default η of the group-robust objective (how it was chosen: docs/training.md §11)."""
AUTO_STEP = "auto"
"""``group_step_size: auto``: η = √(8·ln K / T) for K groups and T optimizer steps."""


@dataclass(frozen=True)
class TrainSettings(Settings):
    """Hyperparameters of weighted preference training (DPO, KTO, ORPO; docs/training.md §4).

    Every method's fields are here; a method reads the ones it has
    (:func:`pluralign.train.config.method_fields`), and setting one it does not have is an error
    (``pipeline.yaml``, ``train.yaml``); :func:`pluralign.train.config.config_of` builds the
    method's config (and checks the method's rules across fields)."""

    section = "train"

    method: str = setting("dpo", "Preference method: dpo, kto or orpo.", choices=METHODS)
    learning_rate: float = setting(
        5e-4, "Peak learning rate of AdamW (5e-4 suits LoRA; full fine-tuning wants ~5e-6).",
        gt=0)
    num_train_epochs: float = setting(
        1.0, "Passes over the data (ignored when max_steps > 0).", gt=0)
    max_steps: int = setting(-1, "Optimizer steps to run; -1 means use num_train_epochs.",
                             ge=-1)
    per_device_train_batch_size: int = setting(
        4, "Preference pairs per micro-batch and device (KTO: unpaired rows, two per pair).",
        ge=1)
    gradient_accumulation_steps: int = setting(
        1, "Micro-batches per optimizer step. The loss is normalised by the weight sum of the "
        "whole accumulated batch, so accumulation changes memory use, not the objective.", ge=1)
    warmup_ratio: float = setting(
        0.1, "Fraction of steps with linear learning-rate warm-up.", ge=0, lt=1)
    lr_scheduler_type: str = setting(
        "linear", "transformers scheduler name (linear, cosine, constant, ...).")
    weight_decay: float = setting(0.0, "AdamW weight decay.", ge=0)
    max_grad_norm: float = setting(1.0, "Gradient clipping norm (0 disables).", ge=0)
    max_length: int | None = setting(
        192, "Truncate prompt+reply to this many tokens (null: no limit).", ge=8)
    logging_steps: int = setting(1, "Log the training curve every N optimizer steps.", ge=1)
    save_steps: int = setting(
        10, "Write a checkpoint every N optimizer steps (0: only at the end).", ge=0)
    save_total_limit: int | None = setting(2, "Keep at most this many checkpoints.", ge=1)
    gradient_checkpointing: bool = setting(
        False, "Recompute activations in backward to save memory.")
    lora: bool = setting(True, "Train a LoRA adapter instead of all weights (PEFT).")
    lora_r: int = setting(8, "LoRA rank.", ge=1)
    lora_alpha: int = setting(16, "LoRA scaling alpha.", ge=1)
    lora_dropout: float = setting(0.0, "Dropout on the LoRA path.", ge=0, lt=1)
    lora_target_modules: list[str] = setting(
        factory=lambda: ["all-linear"], help="Module names that get adapters; 'all-linear' "
        "(alone) targets every linear layer except the output head.", cli=False)
    qlora: bool | None = setting(
        None, "Load the base model in 4-bit NF4 (bitsandbytes) and train LoRA on top. null: on "
        "when lora is on and CUDA with bitsandbytes is available; true on a machine without "
        "CUDA is an error.", cli=False)
    bf16: bool | None = setting(
        None, "bfloat16 mixed precision. null: on when CUDA supports it; true without such a "
        "GPU is an error.", cli=False)
    merge_duplicates: bool = setting(
        True, "Merge rows with identical prompt, chosen and rejected into one row whose weight "
        "is the sum (same objective: weight w counts as w copies), and drop weight-0 rows; an "
        "epoch then has far fewer steps when panel members often pick the same pair. Weighted "
        "DPO also folds a pair and its reverse (the same replies, the other one preferred) into "
        "one row whose loss covers both orders (same objective, one forward pass for both).",
        cli=False)
    torch_threads: int | None = setting(
        None, "CPU threads torch may use during training (null: torch's default). 1 is often "
        "fastest for tiny models, and much faster on a machine busy with other jobs.", ge=1)
    precompute_ref_log_probs: bool = setting(
        True, "DPO/KTO: compute the reference log-probabilities once before training (frees "
        "the reference model during training).", cli=False)
    objective: str = setting(
        "weighted", "weighted: minimise Σ wᵢ·ℓᵢ / Σ wᵢ. group-robust: minimise the worst "
        "group's weighted loss, max over group weights α of Σ_g α_g·L_g, α updated by mirror "
        "ascent (GR-DPO / GR-IPO, Ramesh et al. 2024); per-example weights act within each "
        "group.", choices=OBJECTIVES)
    group_by: str = setting(
        "group", "group-robust: the column that names each row's group: group, source, "
        "opinion, latent, demographic:FEATURE, or a provenance key (provenance.KEY).")
    group_step_size: float | str = setting(
        GROUP_STEP_SIZE, "group-robust: η, the mirror-ascent step of the group weights; per "
        "optimizer step a group's log-weight grows by η times its loss estimate (0: the "
        "weights stay fixed). auto: √(8·ln K / T) for K groups and T optimizer steps (the "
        "exponentiated-weights regret bound's step for losses in [0, 1]).", cli=False)
    group_weights_init: str = setting(
        "uniform", "group-robust: initial group weights, uniform (1/K, as Ramesh et al.) or "
        "proportional (each group's share of the total weight: with step size 0 that is the "
        "weighted loss).", choices=GROUP_WEIGHT_INITS, cli=False)
    beta: float = setting(
        0.1, "DPO and KTO: β, the strength of the tie to the reference model (higher: stay "
        "closer); ORPO: λ, the weight of the odds-ratio term against the SFT term.", gt=0)
    loss_type: str = setting(
        "sigmoid", "DPO: the per-pair loss, sigmoid (DPO), ipo or hinge.",
        choices=DPO_LOSS_TYPES, cli=False)
    sft_weight: float = setting(
        1.0, "DPO: α of a negative log-likelihood term on the chosen reply added to each pair's "
        "loss, ℓᵢ + α·(−log π(y_c|x) / |y_c|) (RPO, Pang et al. 2024, arXiv:2404.19733); it "
        "keeps DPO from lowering the likelihood of what people chose. 0 disables it.", ge=0)
    desirable_weight: float = setting(
        1.0, "KTO: λ_D, multiplier of the losses of desirable (chosen) rows.", gt=0, cli=False)
    undesirable_weight: float = setting(
        1.0, "KTO: λ_U, multiplier of the losses of undesirable (rejected) rows.", gt=0,
        cli=False)
    kl_estimate: str = setting(
        "batch", "KTO: the reference point z₀, batch (the paper's weighted batch estimate; "
        "needs a batch size >= 2) or none (z₀ = 0).", choices=KL_ESTIMATES, cli=False)
    seed: int | None = setting(
        None, "Seed of data order and adapter initialisation (null: the run's seed).")
