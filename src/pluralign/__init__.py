"""pluralign: democratic fine-tuning of language models.

A community decides how a model should behave; pluralign turns that decision into training data,
a fine-tuned model, and evidence that the model now follows it. Each stage is a sub-package with a
small public API; ``import pluralign`` stays light: the names below load on first use
(:func:`pluralign.lazy.lazy_exports`), so importing the package imports no numpy, pandas or torch::

    import pluralign

    cfg = pluralign.load_pipeline_config("pipeline.yaml")
    result = pluralign.run_pipeline(cfg)        # every stage, resumable, into cfg.run_dir
    result["evaluate"].metrics                  # each stage's result (a PipelineResult)
    pluralign.run_demo("pluralign-demo")        # the same on a simulated assembly

The main stage functions are here too (``simulate_assembly``, ``select_panel``,
``draft_constitution``, ``train_preferences``, ``evaluate_models``, ``write_report``); the others
are in their stage package (``pluralign.aggregate.aggregate``, ...). docs/architecture.md says how
the packages fit together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "PipelineConfig": "pluralign.run.config",
    "load_pipeline_config": "pluralign.run.config",
    "parse_pipeline_config": "pluralign.run.config",
    "run_pipeline": "pluralign.run.pipeline",
    "PipelineResult": "pluralign.run.pipeline",
    "RunResult": "pluralign.run.runner",
    "run_demo": "pluralign.run.demo",
    "PluralignError": "pluralign.errors",
    "InputError": "pluralign.errors",
    "simulate_assembly": "pluralign.simulate.engine",
    "select_panel": "pluralign.panel.select",
    "draft_constitution": "pluralign.constitution.draft",
    "train_preferences": "pluralign.train.api",
    "evaluate_models": "pluralign.evaluate.run",
    "write_report": "pluralign.report.build",
}
__all__ = [
    "InputError",
    "PipelineConfig",
    "PipelineResult",
    "PluralignError",
    "RunResult",
    "__version__",
    "draft_constitution",
    "evaluate_models",
    "load_pipeline_config",
    "parse_pipeline_config",
    "run_demo",
    "run_pipeline",
    "select_panel",
    "simulate_assembly",
    "train_preferences",
    "write_report",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.constitution.draft import draft_constitution
    from pluralign.errors import InputError, PluralignError
    from pluralign.evaluate.run import evaluate_models
    from pluralign.panel.select import select_panel
    from pluralign.report.build import write_report
    from pluralign.run.config import PipelineConfig, load_pipeline_config, parse_pipeline_config
    from pluralign.run.demo import run_demo
    from pluralign.run.pipeline import PipelineResult, run_pipeline
    from pluralign.run.runner import RunResult
    from pluralign.simulate.engine import simulate_assembly
    from pluralign.train.api import train_preferences
