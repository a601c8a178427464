"""``pluralign demo``: the whole pipeline on a simulated assembly, offline, in a few minutes.

The demo is :mod:`pluralign.pipeline` on a simulated input (:func:`demo_config`): simulate →
store → summary → panel (LEXIMIN from the simulated volunteer pool, quotas from the population
shares, soft weights) → aggregate (the panel's votes) → constitution → preference data (the
simulator's prompt bank: train + held-out prompts, soft weights) → model (the embedded
SmolLM2-135M-Instruct) → LoRA + weighted DPO → evaluate (the base model's own preference before,
the trained model's after, per opinion and demographic group, bootstrap intervals; greedy answers
of both to held-out prompts) → moral graph → report. ``--quick`` fine-tunes a tiny random model
built on the spot instead (a minute and a half: for a look at the plumbing, not at a model).
Each stage writes ``OUT/<stage>/`` and a manifest; a re-run skips up-to-date stages and
``--from STAGE`` runs one stage and every later one again. It ends by printing the path of
``OUT/report.html``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pluralign.clikit import OutOption, SeedOption, console

if TYPE_CHECKING:  # the run engine loads with the command, not with `pluralign --help`
    from pluralign.runner import RunResult, StageContext

DB_FILE = "pluralign.db"
SLUG = "demo"

DEMO_OVERRIDES: dict[str, Any] = {
    "inputs": {"simulate": {"participants": 240, "statements": 60}},
    "panel": {"size": 60, "method": "leximin"},
    "data": {"prompts_per_member": 40, "templates": "missing"},
    "model": {"base": "smollm2"},
    "moral_graph": {"enabled": True},
    "report": {"title": "pluralign demo (simulated assembly, SmolLM2-135M-Instruct)"},
}
"""What the demo sets; everything else is the pipeline's default (:mod:`pluralign.config`)."""

QUICK_OVERRIDES: dict[str, Any] = {
    "threads": 1,
    "model": {"base": "tiny"},
    "train": {"lora": False, "learning_rate": 3e-3, "max_steps": 30,
              "per_device_train_batch_size": 16, "save_steps": 20, "max_length": 256,
              "precompute_ref_log_probs": False},
    # a random model's own preference says nothing: the quick demo reports the implicit reward
    # against the untrained model (before = a tie by construction), as the tiny demo always did
    "evaluate": {"max_new_tokens": 24, "margin": "implicit"},
    "report": {"title": "pluralign demo --quick (simulated assembly, tiny random model)"},
}
"""What ``demo --quick`` sets on top: the tiny random model, trained with its own settings."""


def demo_config(out: Path, seed: int = 0, objective: str | None = None, quick: bool = False):
    """The demo's :class:`~pluralign.config.PipelineConfig`: the pipeline on a simulation.
    ``objective``: the training objective (``weighted``, the default, or ``group-robust``,
    docs/training.md); ``quick``: with the tiny random model."""
    from pluralign.config import parse_pipeline_config

    data = {**DEMO_OVERRIDES, **(QUICK_OVERRIDES if quick else {}), "run_dir": str(out),
            "seed": seed}
    if objective is not None:
        data["train"] = {**data.get("train", {}), "objective": objective}
    return parse_pipeline_config(data, source="demo settings")


def _demo_stage_table() -> list[tuple[str, Callable[[StageContext], None], tuple[str, ...],
                                      dict[str, Any]]]:
    from pluralign.pipeline import build_stages

    return [(s.name, s.run, s.after, dict(s.settings))
            for s in build_stages(demo_config(Path("pluralign-demo")))]


def __getattr__(name: str) -> Any:
    """``DEMO_STAGES``: (name, function, stages it reads, settings) of the demo, in run order
    (built on first use, so mounting the CLI stays light)."""
    if name == "DEMO_STAGES":
        return _demo_stage_table()
    raise AttributeError(f"module 'pluralign.demo' has no attribute {name!r}")


def db_path(ctx: StageContext) -> Path:
    """The demo's SQLite store (one per run folder)."""
    return ctx.run_dir / DB_FILE


def run_demo(out: Path, *, seed: int = 0, from_stage: str | None = None,
             progress=None, objective: str | None = None, quick: bool = False) -> RunResult:
    """Run the demo into ``out``; returns the :class:`~pluralign.runner.RunResult`."""
    from pluralign.pipeline import run_pipeline

    return run_pipeline(demo_config(Path(out), seed, objective, quick), from_stage=from_stage,
                        progress=progress)


def demo_cmd(
    out: OutOption = Path("pluralign-demo"),
    seed: SeedOption = 0,
    from_stage: Annotated[
        str | None,
        typer.Option("--from", help="Run this stage and all later ones again even if up to date."),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option("--objective", help="Training objective: weighted (default) | group-robust "
                     "(the worst-off opinion group's loss first; docs/training.md)."),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option("--quick", help="Fine-tune a tiny random model instead of the embedded "
                     "SmolLM2 (about a minute: the plumbing, not a real model)."),
    ] = False,
) -> None:
    """The whole pipeline on a simulated assembly, fine-tuning the embedded SmolLM2-135M-Instruct
    (a few minutes on 2 CPU cores); ends with the path of OUT/report.html."""
    from rich.table import Table

    from pluralign.run_cli import print_outcomes, progress_bar

    with progress_bar() as progress:
        result = run_demo(out, seed=seed, from_stage=from_stage, progress=progress,
                          objective=objective, quick=quick)
    print_outcomes(result, f"pluralign demo → {out}")
    summary = json.loads((Path(out) / "summary" / "summary.json").read_text())
    shares = Table("latent group", "population", "volunteer pool",
                   title="who volunteered (why sortition and weights matter)")
    for group, share in summary.get("group_shares", {}).items():
        shares.add_row(group, f"{share['population']:.0%}", f"{share['pool']:.0%}")
    console.print(shares)
    _print_consensus_accuracy(Path(out))
    console.print(str((Path(out) / "report.html").resolve()), soft_wrap=True)


def _print_consensus_accuracy(out: Path) -> None:
    """Held-out accuracy before → after on consensus prompts, per opinion group."""
    from rich.table import Table

    path = out / "evaluate" / "metrics.json"
    if not path.is_file():
        return
    metrics = json.loads(path.read_text())
    table = Table("prompts", "group", "pairs", "before", "after (95% CI)", "implicit reward",
                  title="held-out preference accuracy (opinion groups): base model before, "
                  "trained model after")
    for g in metrics.get("groups", []):
        if g["grouping"] == "group" and g["subset"] in ("consensus", "divisive"):
            a = g["after"]
            implicit = g.get("implicit") or {}
            table.add_row(g["subset"], g["group"], str(g["n"]), f"{g['before']['estimate']:.2f}",
                          f"{a['estimate']:.2f} [{a['low']:.2f}, {a['high']:.2f}]",
                          f"{implicit['estimate']:.2f}" if implicit else "")
    console.print(table)
    gen = out / "evaluate" / "generations.jsonl"
    if gen.is_file():
        rows = [json.loads(line) for line in gen.read_text(encoding="utf-8").splitlines()]
        changed = sum(r["changed"] for r in rows)
        console.print(f"greedy answers to {len(rows)} held-out prompts: {changed} changed "
                      f"after training ({gen})", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
