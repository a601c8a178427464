"""Rounds: iterative bootstrapping (``rounds:`` in pipeline.yaml, ``--rounds N``; docs/rounds.md).

Round 1 is the pipeline itself: its stages write ``RUN/<stage>/`` exactly as a one-round run
does, so a finished run gains rounds without repeating round 1. Round k ≥ 2 adds its stages
under ``RUN/round-k/``:

``model``     round k−1's tuned model as the round's base (``model.json``: path, sha256 of the
              weights);
``synth``     questions and preference pairs written by that model, loaded locally through the
              transformers provider, with the round's synthesis steps (``rounds.steps``);
``data``      the round's training pairs (its synthesis, plus the people's pairs of round 1 when
              ``rounds.keep_people``; never a held-out prompt) and round 1's ``heldout.jsonl``,
              copied byte for byte;
``train``     preference training from round k−1's weights (its reference model too);
``evaluate``  on those same held-out pairs: before = the run's base model, after = round k's.

After each round ``RUN/rounds.json`` is rewritten (atomically) with every round so far: its
``generator`` (the model that wrote its data), ``base``, ``model`` (its output) and headline
metrics. The early-stop rule (``rounds.min_improvement``): the metric is the held-out preference
accuracy over all pairs after training (``evaluate/metrics.json``, overall subset ``all``); after
round k, no further round runs when it rose by ``min_improvement`` or less over round k−1's
(round 0: the base model's, round 1's "before"). Each round is one call of the stage runner over
every stage so far, so finished stages are skipped by their manifests and a round killed half-way
resumes where it stopped (:mod:`pluralign.run.runner`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pluralign.errors import InputError, PluralignError
from pluralign.io import write_json_atomic
from pluralign.run.runner import (
    RunResult,
    Stage,
    StageFiles,
    StageOutcome,
    StageResults,
    run_stages,
    spec_stage,
)

ROUNDS_FILE = "rounds.json"
ROUND_STAGES = ("model", "synth", "data", "train", "evaluate")
"""The stages a round after the first adds (``synth`` left out when its steps are ``[]``)."""
METRIC = ("held-out preference accuracy over all pairs after training "
          "(evaluate/metrics.json, overall subset 'all')")


def round_folder(k: int) -> str:
    """The folder of round ``k``'s stages, relative to the run: ``.`` for round 1."""
    return "." if k == 1 else f"round-{k}"


def final_round(run_dir: Path) -> str:
    """The folder of the run's last finished round (``.`` without ``rounds.json``)."""
    path = Path(run_dir) / ROUNDS_FILE
    if not path.is_file():
        return "."
    rounds = json.loads(path.read_text(encoding="utf-8")).get("rounds") or []
    return rounds[-1]["dir"] if rounds else "."


def stage_name(k: int, stage: str) -> str:
    """The runner name (and folder) of ``stage`` in round ``k``: ``train``, ``round-2/train``."""
    return stage if k == 1 else f"round-{k}/{stage}"


def check_rounds(cfg) -> None:
    """Errors the schema cannot see: round 1 of a simulated input has no synthesis."""
    first = cfg.rounds.steps_of(1)
    if cfg.inputs.simulate is not None and first:
        raise InputError(
            "field 'rounds.steps[0]': round 1 of a simulated input trains on the simulated "
            f"panel's preferences and runs no synthesis, but lists {list(first)}",
            hint="give [] for round 1, e.g. steps: [[], [questions, answers]]",
        )


# -- the stages of a later round ---------------------------------------------------------------
def round_stages(cfg, k: int) -> list[Stage]:
    """The stages round ``k`` ≥ 2 adds (module docstring): contract stages, their inputs
    gathered from the run (:mod:`pluralign.run.gather`), each result read back from its folder
    when a resumed round skips the stage."""
    if k < 2:
        raise ValueError("round 1 is the pipeline's own stages")
    from pluralign.data.settings import RoundDataSettings
    from pluralign.data.stage import ROUND as ROUND_DATA
    from pluralign.evaluate.stage import STAGE as EVALUATE
    from pluralign.llm.stage import STAGE as SYNTH
    from pluralign.models.settings import TunedModelSettings
    from pluralign.models.stage import TUNED
    from pluralign.run import gather as G
    from pluralign.train.stage import STAGE as TRAIN

    name = lambda st: stage_name(k, st)  # noqa: E731
    previous = stage_name(k - 1, "train")
    steps = cfg.rounds.steps_of(k)
    synth = steps != ()
    out = [spec_stage(TUNED, TunedModelSettings(round=k), G.tuned_model_inputs,
                      wiring={"previous": previous}, name=name("model"), after=(previous,),
                      description="the previous round's model as the base")]
    if synth:
        wiring: dict[str, Any] = {"round": k}
        if steps is not None:
            wiring["steps"] = list(steps)
        out.append(spec_stage(SYNTH, cfg.synth.settings(), G.round_synth_inputs, wiring=wiring,
                              name=name("synth"), after=("constitution", name("model")),
                              folders={"model": name("model")},
                              description="synthesis by the previous round's model"))
    out.append(spec_stage(ROUND_DATA, RoundDataSettings(round=k,
                                                        keep_people=cfg.rounds.keep_people),
                          G.round_data_inputs, wiring={"synth": synth}, name=name("data"),
                          after=("data", *((name("synth"),) if synth else ())),
                          folders={"synth": name("synth")},
                          description="the round's pairs; round 1's held-out pairs"))
    folders = {"data": name("data"), "model": name("model")}
    out.append(spec_stage(TRAIN, cfg.train.settings(), G.train_inputs, name=name("train"),
                          after=(name("data"), name("model")), folders=folders,
                          description="training from the previous round's weights"))
    out.append(spec_stage(EVALUATE, cfg.evaluate.settings(), G.evaluate_inputs,
                          name=name("evaluate"), after=(name("data"), "model", name("train")),
                          folders={"data": name("data"), "train": name("train")},
                          description="the same held-out pairs, base model vs this round's"))
    return out


# -- rounds.json -------------------------------------------------------------------------------
def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _count(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open(encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """A round's headline metrics from its ``metrics.json``."""
    overall = {o["subset"]: o for o in metrics.get("overall", []) if o.get("grouping") == "all"}
    every = overall.get("all")
    if every is None:
        raise InputError("metrics.json has no overall 'all' row", hint="re-run the evaluate stage")
    groups = [g for g in metrics.get("groups", [])
              if g.get("grouping") == "group" and g.get("subset") == "all"]
    worst = min(groups, key=lambda g: g["after"]["estimate"], default=None)
    return {
        "accuracy": every["after"],
        "accuracy_before": every["before"],
        "pairs": every["n"],
        "margin": metrics.get("settings", {}).get("margin"),
        "subsets": {s: o["after"]["estimate"] for s, o in overall.items() if s != "all"},
        "worst_group": ({"group": worst["group"], "accuracy": worst["after"]["estimate"]}
                        if worst else None),
    }


def round_record(run_dir: Path, k: int, previous: dict[str, Any] | None) -> dict[str, Any]:
    """Round ``k``'s entry of ``rounds.json`` (its stages have run)."""
    base_dir = run_dir / ("model" if k == 1 else stage_name(k, "model"))
    data = run_dir / stage_name(k, "data")
    synth = run_dir / stage_name(k, "synth")
    usage = _read(synth / "usage.json")
    metrics = _read(run_dir / stage_name(k, "evaluate") / "metrics.json")
    if metrics is None:
        raise PluralignError(f"round {k} has no evaluate/metrics.json")
    head = headline(metrics)
    reference = (previous["metrics"]["accuracy"]["estimate"] if previous
                 else head["accuracy_before"]["estimate"])
    head["gain"] = head["accuracy"]["estimate"] - reference
    train = _read(run_dir / stage_name(k, "train") / "summary.json") or {}
    names = [stage_name(k, s) for s in ROUND_STAGES] if k > 1 else None
    seconds = sum((_read(p / "manifest.json") or {}).get("seconds", 0.0)
                  for p in ([run_dir / n for n in names] if names
                            else [d for d in run_dir.iterdir() if d.is_dir()
                                  and not d.name.startswith("round-") and d.name != "report"]))
    synth_pairs = _count(synth / "pairs.jsonl")
    train_pairs = _count(data / "train.jsonl")
    steps = None
    if usage is not None:
        manifest = _read(synth / "manifest.json") or {}
        steps = manifest.get("settings", {}).get("steps") or ["questions", "answers", "critique",
                                                             "revision"]
    return {
        "round": k,
        "dir": round_folder(k),
        "generator": usage.get("generator") if usage else None,
        "base": (_read(base_dir / "model.json") or {}).get("path"),
        "model": str((run_dir / stage_name(k, "train") / "model").resolve()),
        "steps": steps if usage is not None else [],
        "pairs": {"synthesised": synth_pairs, "train": train_pairs,
                  "heldout": _count(data / "heldout.jsonl")},
        "metrics": head,
        "train": {k_: train[k_] for k_ in ("steps", "loss", "train_loss") if k_ in train},
        "seconds": round(seconds, 1),
    }


def write_rounds(run_dir: Path, cfg, records: list[dict], stopped: dict | None) -> Path:
    """``RUN/rounds.json`` (atomically): every round so far and the early-stop decision."""
    path = Path(run_dir) / ROUNDS_FILE
    write_json_atomic(path, {
        "format": "pluralign.rounds/1",
        "count": cfg.rounds.count,
        "completed": len(records),
        "metric": METRIC,
        "min_improvement": cfg.rounds.min_improvement,
        "keep_people": cfg.rounds.keep_people,
        "stopped": stopped,
        "rounds": records,
    }, sort_keys=False, default=str)
    return path


def stop_reason(record: dict, min_improvement: float | None) -> str | None:
    """Why no round follows ``record`` (None: go on): its accuracy rose by ``min_improvement``
    or less over the previous round's."""
    if min_improvement is None:
        return None
    gain = record["metrics"]["gain"]
    if gain <= min_improvement:
        return (f"round {record['round']} raised the held-out accuracy by {gain:+.4f}, not more "
                f"than rounds.min_improvement = {min_improvement}")
    return None


# -- the run -----------------------------------------------------------------------------------
def all_stage_names(cfg, first: list[Stage]) -> list[str]:
    names = [s.name for s in first]
    for k in range(2, cfg.rounds.count + 1):
        names += [s.name for s in round_stages(cfg, k)]
    return names


def read_rounds(run_dir: Path) -> dict[str, Any] | None:
    """``RUN/rounds.json`` (None before the first round of a run of several rounds ends)."""
    return _read(Path(run_dir) / ROUNDS_FILE)


def run_round_stages(
    cfg,
    first: list[Stage],
    report: Stage | None,
    *,
    from_stage: str | None = None,
    on_start: Callable[[Stage], None] | None = None,
    on_done: Callable[[Stage, StageOutcome], None] | None = None,
    on_round: Callable[[dict], None] | None = None,
) -> RunResult:
    """Run round 1 (``first``: the pipeline's stages without the report), then each later round,
    writing ``rounds.json`` after each and stopping early by ``rounds.min_improvement``; then
    the ``report`` stage over everything that ran. ``on_round`` receives each round's entry."""
    run_dir = Path(cfg.run_dir)
    known = [*all_stage_names(cfg, first), *([report.name] if report else [])]
    if from_stage is not None and from_stage not in known:
        raise PluralignError(f"unknown stage '{from_stage}'", hint=f"stages: {', '.join(known)}")
    outcomes: dict[str, StageOutcome] = {}
    plan: list[Stage] = []
    pending_from = from_stage
    forced = False

    def done(stage: Stage, outcome: StageOutcome) -> None:
        if stage.name not in outcomes:
            outcomes[stage.name] = outcome
            if on_done:
                on_done(stage, outcome)

    def run(new: list[Stage]) -> None:
        nonlocal pending_from, forced
        plan.extend(new)
        start = None
        if pending_from is not None and pending_from in {s.name for s in plan}:
            start, pending_from, forced = pending_from, None, True
        elif forced and new:
            start = new[0].name  # everything after --from STAGE runs again
        run_stages(plan, run_dir, seed=cfg.seed, from_stage=start, on_start=on_start, on_done=done)

    records: list[dict] = []
    stopped = None
    for k in range(1, cfg.rounds.count + 1):
        run(list(first) if k == 1 else round_stages(cfg, k))
        records.append(round_record(run_dir, k, records[-1] if records else None))
        reason = stop_reason(records[-1], cfg.rounds.min_improvement)
        if reason is not None and k < cfg.rounds.count:
            stopped = {"after_round": k, "reason": reason}
        write_rounds(run_dir, cfg, records, stopped)
        if on_round:
            on_round(records[-1])
        if stopped:
            break
    if report is not None:
        settings = {**report.settings, "rounds": len(records), "stopped": stopped}
        run([replace(report, settings=settings, after=tuple(s.name for s in plan))])
    results = StageResults(run_dir, {s.name: s.result_cls or StageFiles for s in plan})
    return RunResult(run_dir, tuple(outcomes[s.name] for s in plan), results)
