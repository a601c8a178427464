"""Run by ``test_train_ddp.py`` in one process (``python``) and in two
(``accelerate launch --multi_gpu --num_processes 2``: torchrun + gloo + DDP on CPU).

Trains the tiny model for two epochs of 5 pairs with uneven weights and two groups at a global
batch of 4 (4 per process alone, 2 per process on two), so the second and fourth steps are an
epoch's short last batch (1 real pair; on two processes accelerate pads it with repeats). The
group weights move only in a step with rows of both groups after the first (at the start every
loss is log 2, and a group without a row sleeps): the third, by 20·(L̂_a − L̂_b), η = 20 so
that this small difference of losses moves them visibly. For each objective it
records, on rank 0, every step's gradient after DDP's all-reduce, the final parameters and the
group weights: ``OUT/<case>.pt``. Case ``padded`` counts accelerate's repeats (the fix disabled),
to show the comparison can fail.

The optimizer is plain SGD: AdamW's first step moves each parameter by about lr·sign(g), so an
entry whose gradient is ~1e-8 (float32 rounding of a sum taken in another order, up to 16 %
relative here) moves by up to lr either way, and the next step's gradients then differ by ~1e-5
for reasons that have nothing to do with the objective. With SGD a parameter moves by lr·g and
the comparison tests the objective.

Usage: ``python ddp_exactness.py MODEL_DIR OUT_DIR``
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

ROWS = [
    ("Should buses be free for everyone?", "Ask the riders first.", "No.", 2.0, "a"),
    (
        "How should the city spend the parks budget?",
        "On shade and benches.",
        "Sell them.",
        0.5,
        "b",
    ),
    ("Is it fair to raise local taxes?", "Only with care for the poor.", "Always.", 1.0, "a"),
    ("What should the library open hours be?", "Evenings too.", "Never.", 3.0, "b"),
    ("Should bikes share the pavement?", "Not where people walk.", "Yes, fast.", 0.25, "a"),
]


def run(case: str, model_dir: Path, out: Path) -> None:
    from transformers import TrainerCallback
    from transformers.training_args import OptimizerNames

    from pluralign.train import weighting
    from pluralign.train.api import Hardware, build_trainer
    from pluralign.train.config import load_train_config
    from pluralign.train.group_robust import GroupRobustState
    from pluralign.train.rows import load_rows

    processes = int(os.environ.get("WORLD_SIZE", "1"))
    robust = case == "group-robust"
    settings = {
        "lora": False, "sft_weight": 0.0, "warmup_ratio": 0.0, "precompute_ref_log_probs": False,
        "max_length": 512,  # the reference settings (trainkit.REFERENCE)
        "per_device_train_batch_size": 4 // processes,
        "num_train_epochs": 2.0,
        "save_steps": 0,
        "learning_rate": 1e-2,
        "lr_scheduler_type": "constant",
        "max_grad_norm": 0.0,
        "merge_duplicates": False,
        "objective": "group-robust" if robust else "weighted",
        "group_step_size": 20.0,
    }
    rows = load_rows(
        [
            {"prompt": p, "chosen": c, "rejected": r, "weight": w, "group": g}
            for p, c, r, w, g in ROWS
        ]
    )
    cfg = load_train_config(settings, "dpo")
    state = None
    if robust:
        state = GroupRobustState.start(
            [r.group for r in rows], [r.weight for r in rows], 20.0, "uniform"
        )
    grads: list[torch.Tensor] = []

    class Grads(TrainerCallback):
        def on_pre_optimizer_step(self, args, st, control, **kw):
            model = trainer.accelerator.unwrap_model(trainer.model)
            grads.append(
                torch.cat(
                    [
                        p.grad.detach().flatten().clone()
                        for p in model.parameters()
                        if p.requires_grad
                    ]
                )
            )

    original = weighting.real_rows
    if case == "padded":  # count accelerate's repeats, as before the fix
        weighting.real_rows = lambda n, process, remainder: torch.ones(n, dtype=torch.bool)
    try:
        trainer = build_trainer(
            rows,
            model_dir,
            cfg,
            out / case,
            Hardware(False, False, False),
            callbacks=[Grads()],
            group_robust=state,
        )
        trainer.args.optim = OptimizerNames.SGD  # see the module docstring
        trainer.train()
    finally:
        weighting.real_rows = original
    if trainer.is_world_process_zero():
        model = trainer.accelerator.unwrap_model(trainer.model)
        torch.save(
            {
                "processes": processes,
                "steps": trainer.state.global_step,
                "grads": grads,
                "params": torch.cat([p.detach().flatten() for p in model.parameters()]),
                "group_weights": None if not robust else trainer.group_robust.weights.tolist(),
            },
            out / f"{case}.pt",
        )
    trainer.accelerator.wait_for_everyone()


def main() -> None:
    torch.set_num_threads(1)
    model_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    from pluralign.train.api import quiet_libraries

    quiet_libraries()
    cases = ["weighted", "group-robust"]
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        cases.append("padded")
    for case in cases:
        run(case, model_dir, out)


if __name__ == "__main__":
    main()
