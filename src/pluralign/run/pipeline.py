"""``pluralign run pipeline.yaml``: the stages of a run built from its configuration.

:func:`build_stages` turns a :class:`~pluralign.run.config.PipelineConfig` into runner
:class:`~pluralign.run.runner.Stage` s — a contract stage's ``STAGE`` spec with its inputs
gathered from the run (:mod:`pluralign.run.gather`), each with the settings and outside input
files that make its fingerprint;
:func:`run_pipeline` runs them with :func:`pluralign.run.runner.run_stages` (manifests, skip
when up to date, ``--from``, resume).
``pluralign demo`` is this pipeline on a simulated input (:mod:`pluralign.run.demo`).

Stage order::

    simulated input:  simulate → store → summary → panel → aggregate → constitution → data
                      → model → train → evaluate [→ moral_graph] → report
    real input:       [panel] → aggregate → constitution → model → synth → data → train
                      → evaluate → report
    given data:       constitution → model → [synth] → data → train → evaluate → report
                      (no deliberation input: a given constitution and preference files; the
                      web workbench's integration, docs/rounds.md)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.contract import Settings, StageSpec
from pluralign.run import gather as G
from pluralign.run.config import PipelineConfig
from pluralign.run.runner import RunResult, Stage, StageContext, run_stages, spec_stage


def _checkpoint_identity(path: Path) -> dict[str, Any]:
    """A local checkpoint's identity without hashing gigabytes: its small files' contents
    (config, tokenizer) are hashed, large ones by name and size."""
    from pluralign.io import sha256_file

    if not path.is_dir():
        from pluralign.errors import InputError

        raise InputError("model folder not found", where=str(path),
                         hint="set model.base to 'tiny' or a transformers checkpoint folder")
    files = {}
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        size = f.stat().st_size
        files[f.relative_to(path).as_posix()] = sha256_file(f) if size < (1 << 20) else size
    return {"path": str(path), "files": files}


@dataclass(frozen=True)
class PipelineResult(RunResult):
    """What :func:`run_pipeline` did: each stage's outcome and each stage's result
    (``result["aggregate"]`` is the :class:`~pluralign.aggregate.AggregateResult`,
    ``result["evaluate"]`` the :class:`~pluralign.evaluate.stage.EvaluateResult`, each stage's
    its ``STAGE`` spec's result class), read back from the run folder for the stages a resumed
    run skipped."""

    config: PipelineConfig | None = None

    def __getitem__(self, name: str) -> Any:
        return self.results[name]

    @property
    def report(self) -> Path | None:
        """``RUN/report.html`` when the run wrote it."""
        path = Path(self.run_dir) / "report.html"
        return path if path.is_file() else None


def build_stages(cfg: PipelineConfig) -> list[Stage]:
    """The runner stages of ``cfg`` in order (see the module docstring)."""
    from pluralign.run.rounds import check_rounds

    inp = cfg.inputs
    _check_inputs_exist(cfg)
    check_rounds(cfg)
    stages: list[Stage] = []

    def add_spec(spec: StageSpec, settings: Settings, gather: Callable[[StageContext], Any],
                 wiring: dict, after: tuple[str, ...] = (),
                 inputs: dict[str, Path] | None = None) -> None:
        stages.append(spec_stage(spec, settings, gather, wiring=wiring, after=after,
                                 inputs=inputs))

    sim = inp.simulate is not None
    has_panel = sim or inp.pool is not None or inp.panel is not None
    if sim:
        from pluralign.data.store_stage import STORE, SUMMARY, StoreSettings, SummarySettings
        from pluralign.simulate.stage import STAGE as SIMULATE

        add_spec(SIMULATE, inp.simulate.settings(), G.simulate_inputs, {})
        add_spec(STORE, StoreSettings(), G.store_inputs, {}, ("simulate",))
        add_spec(SUMMARY, SummarySettings(), G.summary_inputs, {}, ("store", "simulate"))
    if has_panel:
        files = {k: getattr(inp, k) for k in ("panel", "pool", "quotas", "population")
                 if getattr(inp, k) is not None}
        from pluralign.panel.stage import STAGE as PANEL

        add_spec(PANEL, cfg.panel.settings(), G.panel_inputs,
                 {"files": {k: str(v) for k, v in files.items()}, "from_simulation": sim},
                 ("simulate",) if sim else (), files)

    deliberation = sim or inp.polis is not None or inp.store is not None
    if sim:
        source = {"kind": "simulate", "panel_only": cfg.aggregate.panel_only,
                  "title": "simulated assembly"}
        agg_inputs: dict[str, Path] = {}
        agg_after: tuple[str, ...] = ("simulate", "panel")
    elif not deliberation:
        source, agg_inputs, agg_after = {}, {}, ()
    elif inp.polis is not None:
        source = {"kind": "polis", "path": str(inp.polis), "title": Path(inp.polis).name}
        agg_inputs = {"polis": inp.polis}
        agg_after = ()
    else:
        source = {"kind": "store", "db": inp.store.db, "slug": inp.store.slug,
                  "title": inp.store.slug, "votes_sha256": _store_digest(inp.store)}
        agg_inputs, agg_after = {}, ()
    # the constitution's consensus thresholds: aggregate lists what the constitution drafts
    from pluralign.aggregate.stage import STAGE as AGGREGATE
    from pluralign.constitution.stage import STAGE as CONSTITUTION

    const_settings = cfg.constitution.settings()
    agg_settings = cfg.aggregate.settings().replace(consensus=const_settings.rule)
    agg = {**agg_settings.to_dict(), "source": source}
    const: dict[str, Any] = {}
    if deliberation:
        add_spec(AGGREGATE, agg_settings, G.aggregate_inputs, {"source": source}, agg_after,
                 agg_inputs)
        const["aggregate"] = agg
    const_inputs = dict(agg_inputs)
    if inp.constitution is not None:
        const["given"] = str(inp.constitution)
        const_inputs["constitution"] = inp.constitution
    add_spec(CONSTITUTION, const_settings, G.constitution_inputs, const,
             ("aggregate",) if deliberation else (), const_inputs)

    from pluralign.data.stage import STAGE as DATA

    extra = {f"extra{i}": p for i, p in enumerate(inp.preferences)}
    data = {"extra": [str(p) for p in inp.preferences]}
    from pluralign.models.embedded import EMBEDDED, FORMAT, is_embedded_name
    from pluralign.models.stage import STAGE as MODEL

    model: dict[str, Any] = {}  # what the model is, beside its settings
    if is_embedded_name(cfg.model.base):
        model["checkpoint"] = {"embedded": EMBEDDED.identity(), "format": FORMAT}
    elif cfg.model.base != "tiny":
        model["checkpoint"] = _checkpoint_identity(Path(cfg.model.base))
    if sim:
        add_spec(DATA, cfg.data.settings(), G.sim_data_inputs, data,
                 ("simulate", "panel", "aggregate"), extra)
        add_spec(MODEL, cfg.model.settings(), G.model_inputs, model, ("data", "constitution"))
    else:
        if deliberation:
            model["aggregate"] = agg  # the tiny model learns the deliberation's words
        add_spec(MODEL, cfg.model.settings(), G.model_inputs, model,
                 ("aggregate", "constitution") if deliberation else ("constitution",),
                 agg_inputs)
        llm = cfg.model.llm.model_dump(mode="json") if cfg.model.llm is not None else None
        steps = cfg.rounds.steps_of(1)  # a staged curriculum (docs/rounds.md)
        if steps != ():
            from pluralign.llm.stage import STAGE as SYNTH

            add_spec(SYNTH, cfg.synth.settings(), G.synth_inputs,
                     {"llm": llm, **({"steps": list(steps)} if steps else {})},
                     ("constitution", "model"))
        add_spec(DATA, cfg.data.settings(), G.pairs_data_inputs, data,
                 ("synth",) if steps != () else ("constitution",), extra)
    from pluralign.train.stage import STAGE as TRAIN

    add_spec(TRAIN, cfg.train.settings(), G.train_inputs, {}, ("data", "model"))
    from pluralign.evaluate.stage import STAGE as EVALUATE

    add_spec(EVALUATE, cfg.evaluate.settings(), G.evaluate_inputs, {},
             ("data", "model", "train"))
    if cfg.moral_graph.enabled:
        from pluralign.moralgraph.stage import STAGE as MORAL_GRAPH

        add_spec(MORAL_GRAPH, cfg.moral_graph.settings(), G.moral_graph_inputs, {})
    from pluralign.report.stage import STAGE as REPORT

    add_spec(REPORT, cfg.report.settings(), G.report_inputs, {}, tuple(s.name for s in stages))
    return stages


def _check_inputs_exist(cfg: PipelineConfig) -> None:
    from pluralign.errors import InputError

    inp = cfg.inputs
    named = [(f"inputs.{k}", getattr(inp, k)) for k in
             ("polis", "pool", "quotas", "population", "panel", "constitution")]
    named += [(f"inputs.preferences[{i}]", p) for i, p in enumerate(inp.preferences)]
    for field, path in named:
        if path is not None and not Path(path).exists():
            raise InputError(f"field '{field}': not found", where=str(path),
                             hint="relative paths are relative to the pipeline file's folder")


def _store_digest(store) -> str:
    """sha256 of the store assembly's latest votes and statements, so that new votes re-run the
    stages that read them."""
    from pluralign.aggregate import from_store

    return from_store(store.db, store.slug).source_sha256


def run_pipeline(cfg: PipelineConfig, *, from_stage: str | None = None,
                 progress=None, on_round: Callable[[dict], None] | None = None,
                 on_stage: Callable[[Stage], None] | None = None) -> PipelineResult:
    """Run ``cfg``'s stages into ``cfg.run_dir``; ``progress`` is a rich Progress (optional);
    ``on_stage`` is called with each stage that starts to run (not the skipped ones).
    With ``rounds.count`` > 1 the rounds follow round 1
    (:func:`pluralign.run.rounds.run_round_stages`; ``on_round`` receives each round's
    ``rounds.json`` entry)."""
    from pluralign.io import write_json_atomic

    stages = build_stages(cfg)
    rounds = cfg.rounds.count > 1
    if rounds:
        from pluralign.run.rounds import all_stage_names

        total = len(all_stage_names(cfg, stages[:-1])) + 1
    else:
        total = len(stages)
    on_start = on_done = None
    if progress is not None:
        task = progress.add_task("run", total=total)

        def on_start(st: Stage) -> None:
            progress.update(task, description=f"{st.name}: {st.description}")

        def on_done(st: Stage, outcome) -> None:
            progress.advance(task)
            progress.console.print(f"  {st.name:<16} {outcome.status:<8} {outcome.seconds:6.1f} s")
    if on_stage is not None:
        shown = on_start

        def on_start(st: Stage) -> None:
            on_stage(st)
            if shown is not None:
                shown(st)

    if cfg.threads is not None:
        import torch

        torch.set_num_threads(cfg.threads)
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        run_dir / "pipeline.json", cfg.model_dump(mode="json"), sort_keys=True, default=str
    )
    inp = cfg.inputs
    kind = ("simulate" if inp.simulate else "polis" if inp.polis else "store" if inp.store
            else "none")
    from pluralign import __version__

    write_json_atomic(run_dir / "manifest.json", {  # flat: the report's "Run" section shows it
        "pluralign": __version__, "seed": cfg.seed, "deliberation": kind,
        "panel": "given" if inp.panel else "sortition" if (inp.pool or inp.simulate) else "none",
        "model": cfg.model.base, "llm": cfg.model.llm.label() if cfg.model.llm else "base model",
        "train_method": cfg.train.method, "configuration": "pipeline.json"},
        sort_keys=True, default=str)
    if rounds:  # docs/rounds.md: round k+1 synthesises with, and trains from, round k's model
        from pluralign.run.rounds import run_round_stages

        done = run_round_stages(cfg, stages[:-1], stages[-1], from_stage=from_stage,
                                on_start=on_start, on_done=on_done, on_round=on_round)
    else:
        done = run_stages(stages, run_dir, seed=cfg.seed, from_stage=from_stage,
                          on_start=on_start, on_done=on_done)
    return PipelineResult(done.run_dir, done.outcomes, done.results, cfg)


def run_rounds(cfg: PipelineConfig, count: int | None = None, *, from_stage: str | None = None,
               progress=None, on_round: Callable[[dict], None] | None = None,
               on_stage: Callable[[Stage], None] | None = None) -> PipelineResult:
    """Run ``cfg`` with ``count`` rounds of iterative bootstrapping (None: ``cfg.rounds.count``;
    docs/rounds.md): the API behind ``pluralign run --rounds N``. ``on_round`` receives each
    round's ``rounds.json`` entry as it finishes (:func:`pluralign.run.rounds.read_rounds` reads
    the file at any time)."""
    from pluralign.run.config import with_rounds

    return run_pipeline(with_rounds(cfg, count), from_stage=from_stage, progress=progress,
                        on_round=on_round, on_stage=on_stage)
