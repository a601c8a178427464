"""The report's appendix: each stage's manifest (seed, settings, input hashes, timing) in
pipeline order, the run's configuration, every stage's own summary file in full, and the
glossary of the words the report uses."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.report.blocks import (
    Cell,
    Section,
    flatten,
    last_round,
    read_json,
    read_json_object,
    rel,
)
from pluralign.report.glossary import TERMS

PIPELINE_ORDER = (
    "simulate",
    "store",
    "summary",
    "panel",
    "aggregate",
    "constitution",
    "model",
    "synth",
    "data",
    "train",
    "evaluate",
    "judge",
    "moral_graph",
    "moralgraph",
    "report",
)
"""The pipeline's usual stage order (pluralign.run.pipeline): the tie-break of the dependency
order."""

RAW_FILES = (
    ("panel/report.json", "Sortition report"),
    ("aggregate/summary.json", "Aggregation summary"),
    ("train/summary.json", "Training summary"),
    ("train/train_manifest.json", "Training manifest"),
    ("model/model.json", "Base model"),
    ("summary/summary.json", "Simulation summary"),
)


def read_manifests(run: Path) -> list[dict[str, Any]]:
    """The stage manifests (``RUN/<stage>/manifest.json``) in pipeline order: a stage comes
    after the stages it read (its ``stage:<name>`` inputs); ties in :data:`PIPELINE_ORDER`,
    then by start time."""
    found = []
    for path in sorted(run.glob("*/manifest.json")):
        m = read_json(path)
        if not isinstance(m, dict):
            raise InputError("a stage manifest must be a JSON object", where=str(path))
        found.append({**m, "stage": str(m.get("stage") or path.parent.name), "_path": path})
    return pipeline_order(found)


def pipeline_order(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = {m["stage"]: m for m in manifests}
    needs = {
        m["stage"]: {
            k.split(":", 1)[1]
            for k in (m.get("inputs") or {})
            if isinstance(k, str) and k.startswith("stage:") and k.split(":", 1)[1] in names
        }
        - {m["stage"]}
        for m in manifests
    }

    def rank(name: str) -> tuple:
        pos = PIPELINE_ORDER.index(name) if name in PIPELINE_ORDER else len(PIPELINE_ORDER)
        return (pos, str(names[name].get("started") or ""), name)

    ready = [rank(n) for n, deps in needs.items() if not deps]
    heapq.heapify(ready)
    done: list[str] = []
    while ready:
        name = heapq.heappop(ready)[-1]
        done.append(name)
        for other, deps in needs.items():
            if name in deps:
                deps.discard(name)
                if not deps:
                    heapq.heappush(ready, rank(other))
    done += sorted((n for n in names if n not in done), key=rank)  # a cycle: keep them all
    return [names[n] for n in done]


def run_section(run: Path) -> Section | None:
    manifests = read_manifests(run)
    top = read_json_object(run / "manifest.json")
    config = read_json_object(run / "pipeline.json")
    if not manifests and top is None and config is None:
        return None
    s = Section(
        "run",
        "Run details",
        "What produced this run, for reproducing or auditing it: each stage's seed, "
        "settings, input hashes and timing (from the stage manifests), in pipeline order.",
        part="appendix",
    )
    if top is not None:
        s.sources.append("manifest.json")
        s.keyvalues(flatten(top), "Run")
    rows = []
    for m in manifests:
        s.sources.append(rel(run, m["_path"]))
        versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
        seconds = m.get("seconds")
        rows.append(
            {
                "stage": Cell(
                    m["stage"], str(m.get("started") or "").replace("T", " ").rstrip("Z")
                ),
                "seconds": Cell(
                    f"{seconds:.1f}" if isinstance(seconds, int | float) else "", cls="num"
                ),
                "seed": m.get("seed"),
                "fingerprint": Cell(
                    str(m.get("fingerprint") or "")[:12],
                    cls="mono",
                    sub=f"pluralign {versions['pluralign']}" if versions.get("pluralign") else "",
                ),
            }
        )
    if rows:
        total = sum(m["seconds"] for m in manifests if isinstance(m.get("seconds"), int | float))
        s.table(
            rows,
            caption=f"Stages in pipeline order ({total:.1f} s of stage time)",
            numeric=("seconds",),
            limit=100,
        )
        for m in manifests:
            s.details(f"{m['stage']}: settings, inputs and outputs", _manifest_blocks(s, m))
    if config is not None:
        s.sources.append("pipeline.json")
        sub = s.sub()
        sub.keyvalues(flatten(config))
        s.details("Configuration of the run (pipeline.json)", sub.blocks)
    return s


def _manifest_blocks(s: Section, m: Mapping[str, Any]) -> list[dict[str, Any]]:
    sub = s.sub()
    settings = m.get("settings") if isinstance(m.get("settings"), dict) else {}
    if settings:
        sub.keyvalues(flatten(settings), "Settings")
    inputs = m.get("inputs") if isinstance(m.get("inputs"), dict) else {}
    if inputs:
        sub.keyvalues(
            {
                k: Cell(
                    str(v.get("sha256", ""))[:16] if isinstance(v, dict) else str(v),
                    str(v.get("path", "")) if isinstance(v, dict) else "",
                    cls="mono",
                )
                for k, v in inputs.items()
            },
            "Inputs (sha256)",
        )
    outputs = m.get("outputs")
    if isinstance(outputs, list) and outputs:
        sub.keyvalues({"files": ", ".join(str(o) for o in outputs)}, "Outputs")
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    if versions:
        sub.keyvalues(versions, "Library versions")
    if not sub.blocks:
        sub.text("The manifest records no settings, inputs or outputs.")
    return sub.blocks


def files_section(run: Path) -> Section | None:
    """Every stage's own summary file in full (the sections above show their key numbers)."""
    present = [(run / name, title) for name, title in RAW_FILES if (run / name).is_file()]
    constitution = run / "constitution" / "constitution.yaml"
    metrics = last_round(run) / "evaluate" / "metrics.json"
    if not present and not constitution.is_file() and not metrics.is_file():
        return None
    s = Section(
        "files",
        "Stage summaries in full",
        "The complete summary each stage wrote, nested keys flattened (a.b).",
        part="appendix",
    )
    for path, title in present:
        s.sources.append(rel(run, path))
        obj = read_json(path)
        sub = s.sub()
        if isinstance(obj, dict):
            sub.keyvalues(flatten(obj))
        else:
            sub.text(f"{type(obj).__name__} of {len(obj) if hasattr(obj, '__len__') else 1}")
        s.details(f"{title} ({rel(run, path)})", sub.blocks)
    if constitution.is_file():
        from pluralign.report.sections.deliberation import read_constitution

        doc, _ = read_constitution(constitution)
        if isinstance(doc, dict):
            sub = s.sub()
            sub.keyvalues(flatten({k: v for k, v in doc.items() if k != "clauses"}))
            s.sources.append(rel(run, constitution))
            s.details("Constitution provenance (constitution/constitution.yaml)", sub.blocks)
    if metrics.is_file():
        m = read_json(metrics)
        if isinstance(m, dict):
            sub = s.sub()
            sub.keyvalues(flatten({k: m.get(k) for k in ("format", "settings", "provenance")}))
            s.sources.append(rel(run, metrics))
            s.details("Evaluation settings (evaluate/metrics.json)", sub.blocks)
    return s


def glossary_section(run: Path) -> Section:
    """The words the report uses, explained (always shown)."""
    s = Section("glossary", "Glossary", part="appendix")
    s.blocks.append(
        {"type": "glossary", "items": [(k, name, text) for k, (name, text) in TERMS.items()]}
    )
    return s
