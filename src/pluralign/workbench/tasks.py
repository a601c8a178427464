"""What the workbench's jobs run, and how their pages read progress from the job folder.

- **interview** (folder ``interview-N/``): one turn, :func:`pluralign.workbench.interview.ask`
  with the configured provider on the message and the earlier turns in the job's settings
  (``progress.json`` says whether the model is answering or drafting the clause); the turn is
  stored by :func:`store_turn` in the transaction that marks the job done.
- **practice** (folder ``practice-N/``): ``constitution.yaml`` (written by the page) →
  :func:`pluralign.llm.synth.synth_questions` → ``questions.jsonl`` →
  :func:`pluralign.llm.synth.synth_revisions` (answer → critique → revision) → ``pairs.jsonl``,
  with every quality-gate decision in ``*.gates.jsonl``. The provider is the one the web app is
  configured with (its settings travel in the job's settings); requests are cached in
  ``llm-cache/`` beside the job folders.
- **integration** (folder ``integration-N/``): one round of the run engine
  (:func:`pluralign.run.pipeline.run_rounds`, the stages of ``pluralign run``) on a done practice
  job's constitution and ``pairs.jsonl`` with the configured base model and ``max_steps``: the
  folder is a run folder (docs/run_folder.md) with ``constitution/``, ``model/``, ``data/`` (the
  pairs split by prompt into ``train.jsonl`` and ``heldout.jsonl``), ``train/`` (``curve.jsonl``
  grows as it trains; ``train/model/`` is the model), ``evaluate/`` (the held-out evaluation)
  and ``report.html``, each stage with its manifest; a job started again in the same folder
  skips the finished stages and resumes the training from its last checkpoint.

The readers never fail on a file being written: a torn last line is skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pluralign.errors import PluralignError
from pluralign.io import iter_jsonl, write_json_atomic

CONSTITUTION = "constitution.yaml"
QUESTIONS = "questions.jsonl"
PAIRS = "pairs.jsonl"
PROGRESS = "progress.json"
TRAIN = "train"


def read_rows(path: Path) -> list[dict]:
    """The objects of a job's JSONL file as far as it is written (missing: none): the one
    JSONL reader (:func:`pluralign.io.iter_jsonl`), its last line skipped while it is being
    written; a broken line before it is an error naming the file and the line."""
    if not Path(path).is_file():
        return []
    return [row for _, row in iter_jsonl(path, growing=True)]


def _provider(settings: dict, folder: Path, cache: bool = True):
    from pluralign.llm.config import ProviderSettings
    from pluralign.llm.provider import open_provider

    llm = dict(settings.get("llm") or {"checkpoint": "smollm2"})
    if cache:
        llm.setdefault("cache_dir", str(folder.parent / "llm-cache"))
    return open_provider(ProviderSettings(**llm))


def interview(settings: dict, folder: Path) -> dict:
    """One interview turn: the model's answer to ``settings["message"]`` after
    ``settings["history"]`` and the clause drafted from it (no request cache: a message sent
    again is asked again)."""
    from dataclasses import asdict

    from pluralign.workbench.interview import ask

    history = [(str(q), str(a)) for q, a in settings.get("history") or []]
    provider = _provider(settings, folder, cache=False)

    def step(name: str) -> None:
        write_json_atomic(folder / PROGRESS, {"step": name})

    candidate = ask(provider, history, str(settings["message"]), on_step=step)
    write_json_atomic(folder / PROGRESS, {"step": "done"})
    return {"candidate": asdict(candidate), "model": provider.model_name()}


def store_turn(s, job, result: dict) -> None:
    """Store a finished interview job's turn (in the session that marks the job done) and
    name it in the job's result."""
    from pluralign.constitution.interview import Candidate
    from pluralign.workbench.interview import add_turn

    turn = add_turn(s, job.assembly_id, Candidate(**result["candidate"]), result["model"])
    result["turn"] = {"id": turn.id, "number": turn.number}


def practice(settings: dict, folder: Path) -> dict:
    """Questions, then critique → revision pairs, from the job folder's constitution."""
    from pluralign.constitution.document import read_clauses
    from pluralign.llm.synth import (
        GenerationSettings,
        load_questions,
        synth_questions,
        synth_revisions,
    )

    clauses = read_clauses(folder / CONSTITUTION)
    per_clause = int(settings.get("questions_per_clause", 2))
    synth = GenerationSettings(seed=int(settings.get("seed", 0)))
    provider = _provider(settings, folder)
    write_json_atomic(folder / PROGRESS, {"step": "questions", "total": len(clauses) * per_clause})
    q = synth_questions(
        provider, clauses, folder / QUESTIONS, per_clause, synth, dedup="tfidf", show_progress=False
    )
    questions = load_questions(folder / QUESTIONS)
    write_json_atomic(folder / PROGRESS, {"step": "revisions", "total": len(questions)})
    r = synth_revisions(provider, clauses, questions, folder / PAIRS, synth, show_progress=False)
    write_json_atomic(folder / PROGRESS, {"step": "done", "total": len(questions)})
    if q.errors or r.errors:
        from pluralign.errors import ProviderError

        if not questions or (r.failed and not r.written):
            raise ProviderError("the model failed: " + "; ".join((*q.errors, *r.errors))[:500])
    return {
        "clauses": len(clauses),
        "questions": q.written + q.already_done,
        "pairs": r.written + r.already_done,
        "skipped": q.skipped + r.skipped,
        "failed": q.failed + r.failed,
        "model": provider.model_name(),
    }


def integration_config(settings: dict, folder: Path):
    """The :class:`~pluralign.run.config.PipelineConfig` of an integration job: the practice
    job's constitution and pairs as given data (no deliberation input), one round without
    synthesis, the run folder being the job folder."""
    from pluralign.run.config import PipelineConfig

    train = {"max_steps": int(settings.get("max_steps", 20)), "logging_steps": 1}
    return PipelineConfig.model_validate(
        {
            "run_dir": str(folder),
            "seed": int(settings.get("seed", 0)),
            "inputs": {
                "constitution": settings["constitution"],
                "preferences": [settings["pairs"]],
            },
            "model": {"base": settings.get("base_model") or "smollm2"},
            "train": {**train, **(settings.get("train") or {})},
            "rounds": {"count": 1, "steps": [[]]},  # practice was the synthesis
        }
    )


def integration(settings: dict, folder: Path) -> dict:
    """Round 1 of the run engine on the practice data (module docstring)."""
    from pluralign.run.pipeline import run_rounds
    from pluralign.run.rounds import headline

    def stage(st) -> None:
        write_json_atomic(folder / PROGRESS, {"stage": st.name})

    done = run_rounds(integration_config(settings, folder), 1, on_stage=stage)
    write_json_atomic(folder / PROGRESS, {"stage": "done"})
    summary = json.loads((folder / TRAIN / "summary.json").read_text(encoding="utf-8"))
    metrics = json.loads((folder / "evaluate" / "metrics.json").read_text(encoding="utf-8"))
    return {
        "model_dir": str(folder / TRAIN / "model"),
        "steps": int(summary.get("steps", 0)),
        "metrics": {k: float(v) for k, v in summary.items() if isinstance(v, int | float)},
        "heldout": headline(metrics),
        "report": str(done.run_dir / "report.html"),
        "stages": {o.name: o.status for o in done.outcomes},
    }


TASKS = {"interview": interview, "practice": practice, "integration": integration}
RECORDS = {"interview": store_turn}
"""What a kind's finished job writes into the store with its ``done`` state (one transaction)."""


# ------------------------------------------------------------------ progress, for the pages


def interview_progress(folder: Path) -> str:
    """The step of a running interview turn: ``starting``, ``answer``, ``draft`` or ``done``."""
    try:
        return str(json.loads((Path(folder) / PROGRESS).read_text(encoding="utf-8"))["step"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return "starting"


def practice_progress(folder: Path, sample: int = 3, rejections: int = 5) -> dict:
    """Counts, the last ``sample`` pairs (or questions, before the first pair) and the last
    ``rejections`` gate rejections of a practice job's folder."""
    folder = Path(folder)
    try:
        progress = json.loads((folder / PROGRESS).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        progress = {"step": "starting", "total": 0}
    questions = read_rows(folder / QUESTIONS)
    pairs = read_rows(folder / PAIRS)
    gates = [
        *read_rows(folder / f"{QUESTIONS}.gates.jsonl"),
        *read_rows(folder / f"{PAIRS}.gates.jsonl"),
    ]
    rejected = [g for g in gates if g.get("verdict") == "rejected"]
    chained = len(pairs) + len(read_rows(folder / f"{PAIRS}.skipped.jsonl"))
    step = progress.get("step")
    return {
        "step": step,
        "total": int(progress.get("total") or 0),
        "done": len(questions) if step in ("questions", "starting") else chained,
        "questions": len(questions),
        "pairs": len(pairs),
        "checked": len(gates),
        "rejected": len(rejected),
        "by_reason": Counter(g.get("reason") or "?" for g in rejected).most_common(),
        "sample_pairs": pairs[-sample:],
        "sample_questions": questions[-sample:] if not pairs else [],
        "rejections": rejected[-rejections:],
    }


def integration_progress(folder: Path) -> dict:
    """The run's stage, the loss curve so far (``curve.jsonl``), the model folder once written
    and the held-out evaluation once done."""
    train = Path(folder) / TRAIN
    curve = [r for r in read_rows(train / "curve.jsonl") if "loss" in r and "step" in r]
    model = train / "model"
    try:
        stage = json.loads((Path(folder) / PROGRESS).read_text(encoding="utf-8"))["stage"]
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        stage = "starting"
    heldout = None
    try:
        from pluralign.run.rounds import headline

        metrics = Path(folder) / "evaluate" / "metrics.json"
        heldout = headline(json.loads(metrics.read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError, KeyError, TypeError, PluralignError):
        pass
    report = Path(folder) / "report.html"
    return {
        "stage": stage,
        "heldout": heldout,
        "report": str(report) if report.is_file() else None,
        "curve": curve,
        "last": curve[-1] if curve else None,
        "model_dir": str(model) if (model / "config.json").exists() else None,
        "model_files": sorted((p.name, p.stat().st_size) for p in model.iterdir() if p.is_file())
        if model.is_dir()
        else [],
    }


def loss_path(curve: list[dict], width: int = 600, height: int = 200, pad: int = 8) -> dict:
    """SVG polyline points of the loss against the step, scaled into ``width`` × ``height``
    (first and last step at the edges, lowest and highest loss at the bottom and top)."""
    if not curve:
        return {"points": "", "min": None, "max": None}
    steps = [float(r["step"]) for r in curve]
    losses = [float(r["loss"]) for r in curve]
    s0, s1 = min(steps), max(steps)
    lo, hi = min(losses), max(losses)
    sx = (width - 2 * pad) / (s1 - s0) if s1 > s0 else 0.0
    sy = (height - 2 * pad) / (hi - lo) if hi > lo else 0.0
    pts = []
    for s, v in zip(steps, losses, strict=True):
        x = pad + (s - s0) * sx if sx else width / 2
        y = height - pad - (v - lo) * sy if sy else height / 2
        pts.append(f"{x:.1f},{y:.1f}")
    return {"points": " ".join(pts), "min": lo, "max": hi}
