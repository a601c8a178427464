"""The run engine: a run of every stage into one folder, resumable.

* :mod:`pluralign.run.config`: ``pipeline.yaml`` (:class:`PipelineConfig`), composed from the
  stages' settings;
* :mod:`pluralign.run.pipeline`: the stages of a configuration, and :func:`run_pipeline`;
* :mod:`pluralign.run.runner`: order, fingerprints, skip when up to date, ``--from``, resume;
* :mod:`pluralign.run.manifest`: each stage's ``manifest.json``;
* :mod:`pluralign.run.demo`: the demo, a configuration of the pipeline on a simulated assembly;
* :mod:`pluralign.run.cli`: ``pluralign run``, ``pluralign init`` and ``pluralign demo``.

The names below load on first use (``pluralign --help`` mounts the CLI without them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "PipelineConfig": "pluralign.run.config",
    "load_pipeline_config": "pluralign.run.config",
    "parse_pipeline_config": "pluralign.run.config",
    "PipelineResult": "pluralign.run.pipeline",
    "build_stages": "pluralign.run.pipeline",
    "run_pipeline": "pluralign.run.pipeline",
    "RunResult": "pluralign.run.runner",
    "Stage": "pluralign.run.runner",
    "run_stages": "pluralign.run.runner",
    "demo_config": "pluralign.run.demo",
    "run_demo": "pluralign.run.demo",
}
__all__ = [
    "PipelineConfig",
    "PipelineResult",
    "RunResult",
    "Stage",
    "build_stages",
    "demo_config",
    "load_pipeline_config",
    "parse_pipeline_config",
    "run_demo",
    "run_pipeline",
    "run_stages",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.run.config import PipelineConfig, load_pipeline_config, parse_pipeline_config
    from pluralign.run.demo import demo_config, run_demo
    from pluralign.run.pipeline import PipelineResult, build_stages, run_pipeline
    from pluralign.run.runner import RunResult, Stage, run_stages
