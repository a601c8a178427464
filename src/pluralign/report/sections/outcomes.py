"""Report sections about the trained model: the training curves and summary, and the
constitutional judge's verdicts (the per-group accuracy is :mod:`.evaluation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.report import plots
from pluralign.report.blocks import (
    Cell,
    Section,
    iter_jsonl,
    last_round,
    read_json,
    read_json_object,
    rel,
)

SERIES_NAMES = {
    "loss": "loss",
    "rewards/margins": "reward margin",
    "rewards/accuracies": "batch reward accuracy",
}


def training_section(run: Path) -> Section | None:
    train = last_round(run) / "train"
    path = train / "curve.jsonl"
    summary_path = train / "summary.json"
    manifest_path = train / "train_manifest.json"
    if not path.is_file() and not summary_path.is_file():
        return None
    s = Section(
        "training",
        "Training",
        "Weighted preference training on the panel's pairs: each pair counts with its member's "
        "weight, so the panel counts as the population would. The curves are per logged step, "
        "on training batches (the held-out result is above).",
    )
    if path.is_file():
        s.sources.append(rel(run, path))
        records = [obj for _, obj in iter_jsonl(path)]
        names: list[str] = []
        for r in records:
            names += [
                k
                for k, v in r.items()
                if k not in ("step", "epoch")
                and k not in names
                and isinstance(v, int | float)
                and not isinstance(v, bool)
            ]

        def rank(name: str) -> int:
            for i, key in enumerate(("loss", "margins", "accurac", "reward")):
                if name == key or (key != "loss" and key in name):
                    return i
            return 9

        series = {}
        for name in sorted(names, key=rank)[:3]:
            pts = [(r.get("step", i), r[name]) for i, r in enumerate(records) if name in r]
            if pts:
                series[SERIES_NAMES.get(name, name)] = ([p[0] for p in pts], [p[1] for p in pts])
        if series:
            s.figure(plots.curves(series), "Training curves (x: optimiser step)")
    summary = read_json_object(summary_path) or {}
    manifest = read_json_object(manifest_path) or {}
    if summary_path.is_file():
        s.sources.append(rel(run, summary_path))
    if manifest_path.is_file():
        s.sources.append(rel(run, manifest_path))
    facts = training_facts(summary, manifest)
    if facts:
        s.keyvalues(facts, "Training summary")
    return s


def training_facts(summary: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a reader needs (the full summary and settings are in the appendix)."""
    settings = manifest.get("settings") if isinstance(manifest.get("settings"), dict) else {}
    out: dict[str, Any] = {}
    method = summary.get("method") or manifest.get("method")
    if method:
        objective = settings.get("objective") or summary.get("objective")
        out["method"] = f"{str(method).upper()}" + (f", {objective}" if objective else "")
    if "lora" in settings:
        out["parameters trained"] = (
            f"LoRA adapter (rank {settings.get('lora_r')})" if settings["lora"] else "all (full)"
        )
    steps = summary.get("steps") or manifest.get("steps")
    if steps is not None:
        out["steps"] = steps
    if manifest.get("n_rows") is not None:
        trained = manifest.get("n_rows_trained")
        out["preference pairs"] = f"{manifest['n_rows']:,}" + (
            f" ({trained:,} distinct after merging identical pairs)"
            if isinstance(trained, int) and trained != manifest["n_rows"]
            else ""
        )
    for key, label in (
        ("loss", "final loss"),
        ("train_loss", "mean loss"),
        ("rewards/accuracies", "final reward accuracy (training batch)"),
    ):
        if isinstance(summary.get(key), int | float):
            out[label] = float(summary[key])
    runtime = summary.get("train_runtime") or manifest.get("elapsed_s")
    if isinstance(runtime, int | float):
        out["training time"] = f"{runtime:.1f} s"
    return out


def judge_section(run: Path) -> Section | None:
    path = next(
        (p for p in (run / "evaluate" / "judge.json", run / "judge" / "judge.json") if p.is_file()),
        None,
    )
    if path is None:
        return None
    s = Section(
        "judge",
        "Constitutional judge",
        "A judge model compares the untrained (A) and trained (B) model's answers against the "
        "constitution, in both presentation orders (B wins only when both orders pick it); win "
        "rate of B with its 95% bootstrap interval, overall and per clause "
        "(pluralign llm judge). 0.5: no difference.",
        [rel(run, path)],
        part="result",
    )
    obj = read_json(path)
    if isinstance(obj, list):
        s.table([r if isinstance(r, dict) else {"value": r} for r in obj])
        return s
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object or a list", where=str(path))
    models = {
        k: obj.get(k)
        for k in ("model_a", "model_b", "judge")
        if isinstance(obj.get(k), str | int | float)
    }
    if models:
        s.keyvalues({k.replace("_", " "): v for k, v in models.items()}, "Models")
    overall = obj.get("overall") if isinstance(obj.get("overall"), dict) else None
    rows = []
    if overall:
        rows.append(_win_row("overall", overall))
    per_clause = obj.get("per_clause")
    if isinstance(per_clause, dict) and all(isinstance(v, dict) for v in per_clause.values()):
        per_clause = [{"clause_id": k, **v} for k, v in per_clause.items()]
    if isinstance(per_clause, list):
        for r in per_clause:
            if isinstance(r, dict):
                rows.append(_win_row(str(r.get("text") or r.get("clause_id") or ""), r))
    if rows:
        s.table(
            rows,
            ["", "judged", "B wins", "A wins", "ties", "win rate of B"],
            caption="Per clause",
            numeric=("judged", "B wins", "A wins", "ties", "win rate of B"),
        )
    failed = obj.get("failed_requests") or (overall or {}).get("failures")
    if failed:
        s.text(f"{failed} judgement(s) failed (no parseable verdict) and are left out.", "note")
    return s


def _win_row(name: str, r: dict[str, Any]) -> dict[str, Any]:
    rate, low, high = r.get("win_rate_b"), r.get("ci_low"), r.get("ci_high")
    sub = f"[{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
    return {
        "": name,
        "judged": r.get("n"),
        "B wins": r.get("wins_b"),
        "A wins": r.get("wins_a"),
        "ties": r.get("ties"),
        "win rate of B": Cell("n/a" if rate is None else f"{rate:.2f}", sub, cls="num"),
    }
