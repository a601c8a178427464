"""The stage functions of a pluralign run (one way to do each thing; ``pipeline`` and ``demo``
use the same functions).

Each takes a :class:`~pluralign.run.runner.StageContext`, reads its settings (everything that
changes its output is in ``ctx.settings`` or a hashed input, so the runner's fingerprint is
right), reads earlier stages' files from the run folder (never only ``ctx.shared``: a resumed run
has none) and writes into ``ctx.out`` with the layout of ``docs/run_folder.md``.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.io import write_json_atomic
from pluralign.run.runner import StageContext

DB_FILE = "pluralign.db"
SLUG = "demo"
LLM_CACHE = "llm-cache"
LLM_USAGE = "llm-usage.jsonl"


# -- simulated input ---------------------------------------------------------------------------
def stage_simulate(ctx: StageContext) -> None:
    """Simulate the assembly and write its files into ``simulate/``."""
    from pluralign.simulate import SimulationConfig, simulate_assembly, write_simulation

    s = ctx.settings
    sim = simulate_assembly(SimulationConfig(participants=s["participants"],
                                             statements=s["statements"],
                                             vote_rate=s.get("vote_rate", 0.5), seed=ctx.seed))
    write_simulation(sim, ctx.out)


def stage_store(ctx: StageContext) -> None:
    """Load the simulated conversation (with pool demographics) into ``RUN/pluralign.db``."""
    from pluralign.data.polis import import_polis
    from pluralign.store import open_store

    path = ctx.run_dir / DB_FILE
    for suffix in ("", "-wal", "-shm"):  # the run owns this store: start it fresh
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(str(path))
    try:
        import_polis(store, ctx.stage_dir("simulate"), SLUG)
    finally:
        store.dispose()
    (ctx.out / "store.json").write_text(json.dumps({"db": str(path), "slug": SLUG}) + "\n")


def stage_summary(ctx: StageContext) -> None:
    """Count what the store holds and what the simulation's truth says (``summary.json``)."""
    from pluralign.store import open_store
    from pluralign.store.queries import assembly_counts, get_assembly

    store = open_store(str(ctx.run_dir / DB_FILE))
    try:
        with store.session() as s:
            summary: dict[str, Any] = assembly_counts(s, get_assembly(s, SLUG).id)
    finally:
        store.dispose()
    truth = json.loads((ctx.stage_dir("simulate") / "truth.json").read_text())
    summary["true_consensus"] = len(truth["consensus"])
    summary["true_divisive"] = len(truth["divisive"])
    summary["latent_groups"] = len(truth["groups"])
    pool_size = sum(g["pool_count"] for g in truth["groups"]) or 1
    summary["group_shares"] = {
        g["id"]: {"population": g["population_share"],
                  "pool": round(g["pool_count"] / pool_size, 4)} for g in truth["groups"]}
    (ctx.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


# -- panel -------------------------------------------------------------------------------------
def _population_shares(path: Path) -> dict[str, dict[str, float]]:
    """Shares from a population JSON: ``{feature: {value: share}}``, or the simulator's file
    (shares under ``features``, with provenance and notes beside them)."""
    from pluralign.panel.inputs import check_population

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read population shares: {exc}", where=str(path)) from exc
    if isinstance(data, dict) and isinstance(data.get("features"), dict):
        data = data["features"]
    return check_population(data, source=str(path))


def stage_panel(ctx: StageContext) -> None:
    """Select the panel by sortition (quotas given, or made from population shares) and write
    ``panel.csv`` (with soft weights), ``probabilities.csv``, ``report.json``, ``quotas.csv``,
    ``weights.csv`` and the pool; or take an existing panel as it is."""
    from pluralign.panel.inputs import quotas_from_population, read_pool, write_quotas
    from pluralign.panel.run import run_select

    s = dict(ctx.settings)
    out = ctx.out
    if s.get("from_simulation"):
        sim = ctx.stage_dir("simulate")
        s.setdefault("pool", str(sim / "pool.csv"))
        if not s.get("quotas"):
            s.setdefault("population", str(sim / "population.json"))
    if s.get("panel"):
        panel = read_pool(s["panel"])
        panel.to_csv(out / "panel.csv", index=False)
    else:
        pool_path = Path(s["pool"])
        pop_path = None
        if s.get("population"):
            pop_path = out / "population.json"
            write_json_atomic(pop_path, _population_shares(Path(s["population"])),
                              sort_keys=True, default=str)
        if s.get("quotas"):
            quotas_path = Path(s["quotas"])
            shutil.copyfile(quotas_path, out / "quotas.csv")
        else:
            if pop_path is None:
                raise InputError("quotas need a quotas CSV or population shares")
            write_quotas(quotas_from_population(json.loads(pop_path.read_text()), s["size"],
                                                s["slack"]), out / "quotas.csv")
        run_select(pool_path=pool_path, quotas_path=out / "quotas.csv", k=s["size"],
                   method=s["method"], seed=ctx.seed, out=out, population_path=pop_path,
                   gap=s["gap"], samples=s["samples"], time_limit=s.get("time_limit"))
        shutil.copyfile(pool_path, out / "pool.csv")
        panel = read_pool(out / "panel.csv")
    if "weight" in panel.columns:
        panel[["id", "weight"]].to_csv(out / "weights.csv", index=False)


# -- deliberation ------------------------------------------------------------------------------
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


def stage_constitution(ctx: StageContext) -> None:
    """Draft the constitution from cross-group consensus, or take the given one."""
    from pluralign.constitution import (
        DraftSettings,
        draft_constitution,
        load_constitution,
        write_constitution,
    )
    from pluralign.constitution.draft import no_consensus_reason

    s = ctx.settings
    if s.get("given"):
        constitution = load_constitution(s["given"])
        if not constitution.clauses:
            raise InputError("the given constitution has no clauses", where=str(s["given"]))
    else:
        draft = DraftSettings(**{k: s[k] for k in ("min_gac", "min_group_agreement",
                                                   "min_group_votes", "interval_z",
                                                   "min_subgroup_agreement", "merge_threshold",
                                                   "embedder", "max_clauses")})
        result = ctx.result("aggregate")
        # one topic model for the constitution and the grounded summary written beside it
        # (topics.json, summary.json, summary.md: templates, no LLM; docs/sensemaking.md §5)
        from pluralign.sensemaking import SensemakingSettings
        from pluralign.sensemaking import run as sensemaking_run

        sense = sensemaking_run(
            result,
            SensemakingSettings(embedder=draft.embedder, max_topics=draft.max_topics,
                                stability_seeds=0),
            seed=ctx.seed,
        )
        sense.write(ctx.out)
        constitution = draft_constitution(result, settings=draft, title=s["title"],
                                          topics=sense.topics)
        if not constitution.clauses:
            raise InputError(
                "the constitution has no clauses: no statement is cross-group consensus; "
                + no_consensus_reason(result, draft, lambda f: f"constitution.{f}"),
                where="pipeline.yaml constitution",
                hint="change that threshold in pipeline.yaml's constitution section, or give "
                "inputs.constitution",
            )
    write_constitution(constitution, ctx.out)


# -- preference data ---------------------------------------------------------------------------
def _extra_pairs(paths: Sequence[str]):
    from pluralign.data.preferences import read_jsonl

    pairs = []
    for p in paths:
        pairs.extend(read_jsonl(p).pairs)
    return pairs


def stage_data_sim(ctx: StageContext) -> None:
    """Each panel member's choices on the simulator's prompt bank: ``train.jsonl`` and
    ``heldout.jsonl`` (held-out prompts never trained on), weighted as configured."""
    from pluralign.data.preferences import make_provenance, read_jsonl, write_jsonl
    from pluralign.data.prefsets import write_sim_preferences

    s = ctx.settings
    panel = ctx.stage_dir("panel") / "panel.csv"
    population = ctx.stage_dir("panel") / "population.json"
    files = write_sim_preferences(
        ctx.stage_dir("simulate"), ctx.out / "train.jsonl", ctx.out / "heldout.jsonl",
        weighting=s["weighting"], panel=panel,
        targets=population if s["weighting"] == "representative" else None,
        groups=ctx.stage_dir("aggregate") / "groups.csv", templates=s["templates"],
        heldout_fraction=s["heldout_fraction"], prompts_per_member=s["prompts_per_member"],
        seed=ctx.seed, balance=s.get("balance", True),
        heldout_unseen=s.get("heldout_unseen", "none"))
    if s.get("extra"):
        train = read_jsonl(files.train)
        prov = make_provenance("preferences.pipeline", inputs={"sim": files.train, **{
            f"extra{i}": p for i, p in enumerate(s["extra"])}}, seed=ctx.seed,
            upstream=dict(train.provenance))
        write_jsonl(files.train, [*train.pairs, *_extra_pairs(s["extra"])], prov)


def stage_data_pairs(ctx: StageContext) -> None:
    """Pairs from the LLM synthesis (``synth/pairs.jsonl``) plus any extra preference JSONL,
    split by prompt into ``train.jsonl`` and ``heldout.jsonl`` (seeded; weights mean 1 per
    split: :mod:`pluralign.data.split`)."""
    from pluralign.data.preferences import make_provenance, read_jsonl, write_jsonl
    from pluralign.data.split import split_by_prompt

    s = ctx.settings
    sources: dict[str, Path] = {}
    pairs = []
    synth = ctx.stage_dir("synth") / "pairs.jsonl"
    if synth.is_file():
        sources["synth"] = synth
        pairs.extend(read_jsonl(synth).pairs)
    for i, p in enumerate(s.get("extra") or []):
        sources[f"extra{i}"] = Path(p)
    pairs.extend(_extra_pairs(s.get("extra") or []))
    if not pairs:
        raise InputError("no preference pairs: the synthesis wrote none and no extra "
                         "preference files were given", hint="add inputs.preferences")
    train, heldout = split_by_prompt(pairs, s["heldout_fraction"], ctx.seed)
    for split, path, part in (("train", "train.jsonl", train),
                              ("heldout", "heldout.jsonl", heldout)):
        prov = make_provenance("preferences.pipeline", inputs=sources, seed=ctx.seed,
                               settings={"heldout_fraction": s["heldout_fraction"]}, split=split)
        write_jsonl(ctx.out / path, part, prov)


# -- model, LLM synthesis, training, evaluation ------------------------------------------------
def model_dir(ctx: StageContext) -> Path:
    """The base model of the run: the embedded model, the tiny model built here, or the
    configured checkpoint (the folder recorded in ``model/model.json``)."""
    info = json.loads((ctx.stage_dir("model") / "model.json").read_text())
    return Path(info["path"])


def _texts_for_tiny(ctx: StageContext) -> list[str]:
    from pluralign.data.preferences import read_jsonl

    texts: list[str] = []
    train = ctx.stage_dir("data") / "train.jsonl"
    if train.is_file():
        for p in read_jsonl(train).pairs:
            texts.extend((p.prompt, p.chosen, p.rejected))
    const = ctx.stage_dir("constitution") / "constitution.yaml"
    if const.is_file():
        from pluralign.constitution.yamlio import read_clauses

        texts.extend(c.text for c in read_clauses(const))
    if "aggregate" in ctx.settings:  # the deliberation's statements
        texts.extend(t for t in ctx.result("aggregate").matrix.texts if t)
    return list(dict.fromkeys(t for t in texts if t.strip()))


def stage_model(ctx: StageContext) -> None:
    """Record the base model (the embedded SmolLM2, converted once, or a checkpoint), or build
    the tiny offline model from the run's texts; ``model.json`` says what it is."""
    from pluralign.models import is_embedded_name, model_info, require_chat_template

    s = ctx.settings
    if is_embedded_name(s["base"]):
        from pluralign.models import embedded_checkpoint

        path = embedded_checkpoint()
    elif s["base"] != "tiny":
        path = Path(s["base"])
        if not (path / "config.json").is_file():
            raise InputError("not a transformers checkpoint folder (no config.json)",
                             where=str(path),
                             hint="set model.base to 'smollm2', 'tiny' or a model folder")
    else:
        from pluralign.train import build_tiny_model

        _quiet()
        t = s["tiny"]
        path = build_tiny_model(_texts_for_tiny(ctx), ctx.out / "tiny",
                                vocab_size=t["vocab_size"], hidden_size=t["hidden_size"],
                                layers=t["layers"], heads=t["heads"],
                                pretrain_steps=t["pretrain_steps"], seed=ctx.seed)
    # generations, the evaluation and the default LLM prompt the model as chat
    require_chat_template(Path(path))
    info = model_info(path, source=s["base"])
    write_json_atomic(ctx.out / "model.json", {"path": str(Path(path).resolve()), **info})


def provider_config(ctx: StageContext):
    """The LLM stages' provider: the configured one, else the embedded model locally (the tiny
    model itself when the run fine-tunes the tiny model: fast tests and ``demo --quick``); the
    request cache lives in ``RUN/llm-cache`` unless configured elsewhere. The local provider
    decodes ``concurrency`` requests together in one batch."""
    from pluralign.llm.config import ProviderConfig

    given = ctx.settings.get("llm")
    cache = ctx.run_dir / LLM_CACHE
    if given:
        cfg = ProviderConfig.model_validate(given)
        return cfg if cfg.cache_dir else cfg.model_copy(update={"cache_dir": cache})
    info = json.loads((ctx.stage_dir("model") / "model.json").read_text())
    checkpoint = model_dir(ctx) if info.get("source") == "tiny" else Path("smollm2")
    return ProviderConfig(checkpoint=checkpoint, cache_dir=cache, concurrency=8)


def stage_synth(ctx: StageContext) -> None:
    """Questions per clause, then answer → critique → revision pairs (``questions.jsonl``,
    ``pairs.jsonl``), resumable; ``usage.json`` records the requests this call sent. A round
    whose ``steps`` leave out critique and revision prefers the answer written with the clause
    as an explicit instruction instead (docs/rounds.md)."""
    import dataclasses

    from pluralign.constitution.yamlio import read_clauses
    from pluralign.llm.provider import open_provider
    from pluralign.llm.synth import (
        SynthSettings,
        load_questions,
        synth_questions,
        synth_revisions,
    )

    _quiet()
    s = ctx.settings
    clauses = read_clauses(ctx.stage_dir("constitution") / "constitution.yaml")
    if s.get("max_clauses"):
        clauses = clauses[: s["max_clauses"]]
    gen = SynthSettings(temperature=s["temperature"], max_tokens=s["max_tokens"], seed=ctx.seed,
                        attempts=s["attempts"], language=s.get("language", "auto"))
    generator = provider_config(ctx)
    with open_provider(generator) as provider:
        q = synth_questions(provider, clauses, ctx.out / "questions.jsonl",
                            s["questions_per_clause"], gen, attempts=s["attempts"],
                            dedup=s["dedup"], show_progress=False)
        r = synth_revisions(provider, clauses, load_questions(ctx.out / "questions.jsonl"),
                            ctx.out / "pairs.jsonl", gen, show_progress=False,
                            critique="critique" in (s.get("steps") or ("critique",)))
        usage = dataclasses.asdict(provider.usage)
    failed = q.failed + r.failed
    record = {"requests": usage["requests"], "cache_hits": usage["cache_hits"],
              "usage": usage, "questions": q.written + q.already_done,
              "pairs": r.written + r.already_done, "failed": failed,
              "generator": generator.label(),
              "gates": {**(q.gates or {}).get("steps", {}), **(r.gates or {}).get("steps", {})}}
    write_json_atomic(ctx.out / "usage.json", record, sort_keys=True, default=str)
    with open(ctx.run_dir / LLM_USAGE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"stage": ctx.name, "requests": usage["requests"],
                             "cache_hits": usage["cache_hits"]}) + "\n")
    if failed:
        raise InputError(f"{failed} LLM requests failed after their retries",
                         hint="run the same command again: finished items are kept")


def stage_train(ctx: StageContext) -> None:
    """Weighted preference training of the base model (``curve.jsonl``, ``model/``,
    ``summary.json``); resumes from the last checkpoint of a killed run."""
    from pluralign.train import train_preferences

    _quiet()
    config = dict(ctx.settings["train"])
    config.setdefault("seed", ctx.seed)
    resume = any((ctx.out / "checkpoints").glob("checkpoint-*"))
    # whatever the libraries print goes to train.log (the curve is in curve.jsonl); the bar of
    # the training steps and loss draws on the run's console, nested in the run's own bar
    from pluralign.clikit import console

    pinned = console.file  # the terminal, not the log the redirect below points stdout to
    console.file = pinned
    try:
        with open(ctx.out / "train.log", "a", encoding="utf-8") as log, \
                contextlib.redirect_stdout(log):
            result = train_preferences(ctx.stage_dir("data") / "train.jsonl", model_dir(ctx),
                                       config, ctx.out, resume=resume, progress=True,
                                       console=console)
    finally:
        console.file = None if pinned is sys.stdout else pinned
    last = result.curve[-1] if result.curve else {}
    summary = {"method": result.method, "steps": result.steps, "resumed": resume,
               **{k: v for k, v in {**last, **result.metrics}.items()
                  if isinstance(v, int | float)}}
    write_json_atomic(ctx.out / "summary.json", summary, sort_keys=True, default=str)


def evaluate_inputs(ctx: StageContext):
    """The evaluation's inputs: the held-out pairs, the base and the trained model, the
    constitution's clauses when the run has one."""
    from pluralign.data.preferences import make_provenance, read_jsonl
    from pluralign.evaluate.stage import EvaluateInputs

    data = ctx.stage_dir("data") / "heldout.jsonl"
    rows = [p.to_dict() for p in read_jsonl(data).pairs]
    if not rows:
        raise InputError("no held-out pairs to evaluate on", where=str(data),
                         hint="raise data.heldout_fraction or add preference data")
    clauses = ()
    const = ctx.stage_dir("constitution") / "constitution.yaml"
    if const.is_file():
        from pluralign.constitution.yamlio import read_clauses

        clauses = tuple(read_clauses(const))
    prov = make_provenance("evaluate", inputs={"data": data}, seed=ctx.seed,
                           settings=ctx.settings["evaluate"])
    return EvaluateInputs(rows, model_dir(ctx), ctx.stage_dir("train") / "model", clauses, prov)


def stage_moral_graph(ctx: StageContext) -> None:
    """A small simulated values assembly and its moral graph (``moral_graph/``)."""
    from pluralign.moralgraph.demo import stage_moralgraph

    stage_moralgraph(ctx)


def stage_report(ctx: StageContext) -> None:
    """One self-contained HTML report of the run: ``RUN/report.html``."""
    from pluralign.report.build import write_report

    path, sections = write_report(ctx.run_dir, ctx.run_dir / "report.html",
                                  ctx.settings.get("title"))
    write_json_atomic(ctx.out / "sections.json", [s.id for s in sections], sort_keys=True,
                      default=str)


def _quiet() -> None:
    """Runs show their own progress: silence the libraries' bars and warnings."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import datasets
        import transformers
    except ImportError:
        return
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
