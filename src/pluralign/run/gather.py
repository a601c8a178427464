"""What a run hands each contract stage: its inputs, built from the earlier stages' results
(``ctx.result(name)``: read back from their folders when a resumed run skipped them) and the
stage's own folder where a stage works in place (training's checkpoints, the tiny model).

One function per stage, ``<stage>_inputs(ctx) -> <Stage>Inputs``; :mod:`pluralign.run.pipeline`
and :mod:`pluralign.run.rounds` pass them to :func:`pluralign.run.runner.spec_stage`.
"""

from __future__ import annotations

from pathlib import Path

from pluralign.run.runner import StageContext

LLM_CACHE = "llm-cache"
"""The run's LLM request cache (``RUN/llm-cache``)."""
LLM_USAGE = "llm-usage.jsonl"
"""Each LLM stage's request count, one line per call (``RUN/llm-usage.jsonl``)."""


def train_inputs(ctx: StageContext):
    """The training's inputs: the run's training pairs and base model; it trains into its
    stage folder (the libraries' output in ``train.log``, the bar on the run's console)."""
    from pluralign.clikit import console
    from pluralign.train.stage import TrainInputs

    return TrainInputs(ctx.stage_dir("data") / "train.jsonl", ctx.result("model").path, ctx.out,
                       console=console, log="train.log")


def model_inputs(ctx: StageContext):
    """The model stage's inputs: for the tiny model, the run's texts (the training pairs, the
    constitution's clauses, the deliberation's statements when the run reads them) and its
    folder to be built in."""
    from pluralign.models.stage import ModelInputs

    if ctx.settings["model"]["base"] != "tiny":
        return ModelInputs()
    from pluralign.data.preferences import read_jsonl

    texts: list[str] = []
    train = ctx.stage_dir("data") / "train.jsonl"
    if train.is_file():
        for p in read_jsonl(train).pairs:
            texts.extend((p.prompt, p.chosen, p.rejected))
    const = ctx.stage_dir("constitution") / "constitution.yaml"
    if const.is_file():
        from pluralign.constitution.document import read_clauses

        texts.extend(c.text for c in read_clauses(const))
    if "aggregate" in ctx.settings:  # the deliberation's statements
        texts.extend(t for t in ctx.result("aggregate").matrix.texts if t)
    return ModelInputs(list(dict.fromkeys(t for t in texts if t.strip())), ctx.out)


def simulate_inputs(ctx: StageContext):
    """The simulation's inputs: the built-in statement bank (its settings are all it needs)."""
    from pluralign.simulate.stage import SimulateInputs

    return SimulateInputs()


def store_inputs(ctx: StageContext):
    """The store stage's inputs: the simulation's folder and the run's store file."""
    from pluralign.data.store_stage import DB_FILE, StoreInputs

    return StoreInputs(ctx.stage_dir("simulate"), ctx.run_dir / DB_FILE)


def summary_inputs(ctx: StageContext):
    """The summary's inputs: the run's store and the simulation's truth."""
    from pluralign.data.store_stage import SummaryInputs

    return SummaryInputs(ctx.result("store"), ctx.result("simulate").truth)


def panel_inputs(ctx: StageContext):
    """The panel's inputs: the given pool, quotas, population shares or panel; for a simulated
    input the simulator's pool and population shares (run files, not outside inputs). The panel
    is selected in its folder, which keeps the run's files beside it (docs/run_folder.md)."""
    from pluralign.panel.stage import PanelInputs

    files = {k: Path(v) for k, v in ctx.settings["files"].items()}
    if ctx.settings["from_simulation"]:
        sim = ctx.stage_dir("simulate")
        files.setdefault("pool", sim / "pool.csv")
        if "quotas" not in files:
            files.setdefault("population", sim / "population.json")
    return PanelInputs(ctx.out, keep_pool=True, **files)


def aggregate_inputs(ctx: StageContext):
    """The votes aggregated in this run: the panel's (simulated input), a Polis folder or the
    store's assembly (``settings['source']``)."""
    from pluralign.aggregate import from_store, read_polis
    from pluralign.aggregate.stage import AggregateInputs

    src = ctx.settings["source"]
    if src["kind"] == "simulate":
        folder = ctx.stage_dir("simulate")
        if src.get("panel_only"):
            import pandas as pd

            from pluralign.simulate import panel_conversation

            panel = set(pd.read_csv(ctx.stage_dir("panel") / "panel.csv", dtype=str)["id"])
            folder = panel_conversation(folder, panel, ctx.out / "panel-votes")
        matrix = read_polis(folder)
    elif src["kind"] == "polis":
        matrix = read_polis(src["path"])
    else:
        matrix = from_store(src["db"], src["slug"])
    return AggregateInputs(matrix, src["title"])


def constitution_inputs(ctx: StageContext):
    """The constitution's inputs: the run's aggregation (when the run has a deliberation) or the
    given constitution; a run also writes the grounded summary beside it, and a drafted
    constitution without clauses stops the run (a later stage would have nothing to train)."""
    from pluralign.constitution.stage import ConstitutionInputs

    given = ctx.settings.get("given")
    if given:
        return ConstitutionInputs(given=Path(given))
    return ConstitutionInputs(aggregate=ctx.result("aggregate"), summary=True,
                              require_clauses=True)


def sim_data_inputs(ctx: StageContext):
    """The data stage's inputs for a simulated assembly: the simulation, the panel (its soft
    weights; its population shares as the targets of representative weighting), the opinion
    groups of the aggregation, and the extra preference files."""
    from pluralign.data.stage import DataInputs

    panel = ctx.stage_dir("panel")
    representative = ctx.settings["data"]["weighting"] == "representative"
    return DataInputs(simulation=ctx.stage_dir("simulate"), panel=panel / "panel.csv",
                      targets=panel / "population.json" if representative else None,
                      groups=ctx.stage_dir("aggregate") / "groups.csv",
                      extra=tuple(Path(p) for p in ctx.settings["extra"]))


def pairs_data_inputs(ctx: StageContext):
    """The data stage's inputs for a real deliberation: the synthesis's pairs (when the run
    synthesised) and the extra preference files."""
    from pluralign.data.stage import DataInputs

    return DataInputs(synthesised=ctx.stage_dir("synth") / "pairs.jsonl",
                      extra=tuple(Path(p) for p in ctx.settings["extra"]))


def evaluate_inputs(ctx: StageContext):
    """The evaluation's inputs: the held-out pairs, the base and the trained model, the
    constitution's clauses when the run has one."""
    from pluralign.data.preferences import make_provenance
    from pluralign.errors import InputError
    from pluralign.evaluate.stage import EvaluateInputs

    data = ctx.stage_dir("data") / "heldout.jsonl"
    rows = [p.to_dict() for p in ctx.result("data").heldout.pairs]
    if not rows:
        raise InputError("no held-out pairs to evaluate on", where=str(data),
                         hint="raise data.heldout_fraction or add preference data")
    clauses = ()
    const = ctx.stage_dir("constitution") / "constitution.yaml"
    if const.is_file():
        from pluralign.constitution.document import read_clauses

        clauses = tuple(read_clauses(const))
    prov = make_provenance("evaluate", inputs={"data": data}, seed=ctx.seed,
                           settings=ctx.settings["evaluate"])
    return EvaluateInputs(rows, ctx.result("model").path, ctx.result("train").model_dir,
                          clauses, prov)


def moral_graph_inputs(ctx: StageContext):
    """The moral graph's inputs: none (the stage simulates its own values assembly)."""
    from pluralign.moralgraph.stage import MoralGraphInputs

    return MoralGraphInputs()


def report_inputs(ctx: StageContext):
    """The report's inputs: the run folder, reported on into ``RUN/report.html``."""
    from pluralign.report.stage import ReportInputs

    return ReportInputs(ctx.run_dir, ctx.run_dir / "report.html")


def provider_settings(ctx: StageContext):
    """The LLM stages' provider: the configured one, else the embedded model locally (the tiny
    model itself when the run fine-tunes the tiny model: fast tests and ``demo --quick``); the
    request cache lives in ``RUN/llm-cache`` unless configured elsewhere. The local provider
    decodes ``concurrency`` requests together in one batch."""
    from pluralign.llm.config import ProviderSettings

    given = ctx.settings.get("llm")
    cache = ctx.run_dir / LLM_CACHE
    if given:
        cfg = ProviderSettings.model_validate(given)
        return cfg if cfg.cache_dir else cfg.model_copy(update={"cache_dir": cache})
    model = ctx.result("model")
    checkpoint = model.path if model.source == "tiny" else Path("smollm2")
    return ProviderSettings(checkpoint=checkpoint, cache_dir=cache, concurrency=8)


def tuned_model_inputs(ctx: StageContext):
    """A later round's base: the model the previous round trained (``settings['previous']``:
    ``train``, ``round-2/train``)."""
    from pluralign.models.stage import TunedModelInputs

    previous = ctx.settings["previous"]
    return TunedModelInputs(ctx.run_dir / previous / "model", previous)


def round_synth_inputs(ctx: StageContext):
    """A later round's synthesis: :func:`synth_inputs` with the round's base (the previous
    round's model) writing through the local provider. Its request cache is keyed by the
    weights' sha256, so a retrained previous round never answers from the old model's cache;
    ``usage.json`` names the model and that sha256."""
    from dataclasses import replace

    model = ctx.result("model")
    cache = ctx.run_dir / LLM_CACHE / f"model-{model.info['sha256'][:16]}"
    generator = {"checkpoint": str(model.path), "cache_dir": str(cache), "concurrency": 8}
    inputs = synth_inputs(replace(ctx, settings={**ctx.settings, "llm": generator}))
    return replace(inputs, generator_sha256=model.info["sha256"])


def round_data_inputs(ctx: StageContext):
    """A later round's data: round 1's data folder and the round's synthesised pairs (when the
    round synthesises, ``settings['synth']``)."""
    from pluralign.data.stage import RoundDataInputs

    synth = ctx.stage_dir("synth") / "pairs.jsonl" if ctx.settings["synth"] else None
    return RoundDataInputs(ctx.run_dir / "data", synth)


def synth_inputs(ctx: StageContext):
    """The synthesis's inputs: the constitution's clauses, the provider (above), the stage's
    folder (written as the texts come: resumable) and the round's synthesis steps."""
    from pluralign.constitution.document import read_clauses
    from pluralign.llm.stage import SynthInputs

    clauses = read_clauses(ctx.stage_dir("constitution") / "constitution.yaml")
    steps = ctx.settings.get("steps")
    return SynthInputs(clauses, provider_settings(ctx), ctx.out,
                       tuple(steps) if steps else None, ctx.run_dir / LLM_USAGE, ctx.name)
