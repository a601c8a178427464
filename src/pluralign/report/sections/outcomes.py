"""Report sections about the trained model: training curves, per-group accuracy before and after
training, and the constitutional judge's verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.io import iter_jsonl
from pluralign.report import plots
from pluralign.report.section import Section, read_json, rel, scalars


def training_section(run: Path) -> Section | None:
    path = run / "train" / "curve.jsonl"
    summary = run / "train" / "summary.json"
    if not path.is_file() and not summary.is_file():
        return None
    s = Section(
        "training",
        "Training",
        "Loss and reward statistics logged during weighted preference training.",
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

        chosen = sorted(names, key=rank)[:3]
        series = {}
        for name in chosen:
            pts = [(r.get("step", i), r[name]) for i, r in enumerate(records) if name in r]
            if pts:
                series[name] = ([p[0] for p in pts], [p[1] for p in pts])
        if series:
            s.figure(plots.curves(series), "Training curves")
    s.json_keyvalues(run, summary, "Training summary")
    return s


SUBSET_NOTES = {
    "consensus": "Prompts where the panel broadly agrees: training should raise every group.",
    "consensus-against": "Prompts where the panel broadly rejects the statement: the preferred "
    "response is the one that declines it.",
    "divisive": "Prompts where opinion groups disagree: each group's accuracy is shown side by "
    "side, so who wins and who loses is visible; it is never averaged away.",
}


def evaluation_section(run: Path) -> Section | None:
    path = run / "evaluate" / "metrics.json"
    if not path.is_file():
        return None
    m = read_json(path)
    if not isinstance(m, dict) or "groups" not in m or "overall" not in m:
        raise InputError(
            "not a pluralign evaluate metrics file (needs 'overall' and 'groups')", where=str(path)
        )
    s = Section(
        "evaluation",
        "Per-group accuracy, before and after training",
        "Held-out preference accuracy: the share of pairs whose implicit reward margin "
        "(trained policy vs reference) favours the response the person chose; ties count "
        "half, so the untrained model scores 0.5. Intervals: percentile bootstrap.",
        [rel(run, path)],
    )
    overall = m["overall"]
    s.table([_score_row(g) for g in overall], caption="Overall, per subset of prompts")
    subsets = [g["subset"] for g in overall]
    for subset in subsets:
        if subset in SUBSET_NOTES:
            s.text(f"{subset}: {SUBSET_NOTES[subset]}", "note")
    groupings: list[str] = []
    for g in m["groups"]:
        if g["grouping"] not in groupings:
            groupings.append(g["grouping"])
    for grouping in groupings:
        panels = {
            subset: [g for g in m["groups"] if g["subset"] == subset and g["grouping"] == grouping]
            for subset in subsets
        }
        panels = {k: v for k, v in panels.items() if v}
        s.figure(
            plots.group_accuracy(panels, grouping),
            f"Accuracy by {grouping}, before (grey) and after (blue) training, "
            "per subset of prompts; dashed line: no preference (0.5).",
        )
        s.table(
            [_score_row(g) for rows in panels.values() for g in rows],
            caption=f"By {grouping}",
            limit=200,
        )
    gaps = [
        {
            "subset": g["subset"],
            "grouping": g["grouping"],
            "gap before": (g.get("before") or {}).get("estimate"),
            "gap after": (g.get("after") or {}).get("estimate"),
            "gap after CI": _ci(g.get("after")),
            "worst group after": (g.get("after") or {}).get("worst_group"),
        }
        for g in m.get("gaps", [])
    ]
    if gaps:
        s.table(gaps, caption="Worst-group gap (best group's accuracy minus the worst's)")
    return s


def _ci(obj: Mapping | None) -> str:
    if not obj or obj.get("low") is None:
        return ""
    return f"[{obj['low']:.3f}, {obj['high']:.3f}]"


def _score_row(g: Mapping) -> dict[str, Any]:
    return {
        "subset": g["subset"],
        "grouping": g["grouping"],
        "group": g["group"],
        "n": g["n"],
        "before": g["before"]["estimate"],
        "after": g["after"]["estimate"],
        "after 95% CI": _ci(g["after"]),
        "improvement": g["improvement"]["estimate"],
        "improvement CI": _ci(g["improvement"]),
    }


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
        "constitution, in both presentation orders; win rate of B with its bootstrap interval, "
        "overall and per clause (pluralign llm judge).",
        [rel(run, path)],
    )
    obj = read_json(path)
    if isinstance(obj, list):
        s.table([r if isinstance(r, dict) else {"value": r} for r in obj])
        return s
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object or a list", where=str(path))
    s.keyvalues(scalars(obj))
    if isinstance(obj.get("overall"), dict):
        s.keyvalues(scalars(obj["overall"]), "Overall")
    per_clause = obj.get("per_clause")
    if isinstance(per_clause, dict) and all(isinstance(v, dict) for v in per_clause.values()):
        s.table([{"clause": k, **v} for k, v in per_clause.items()], caption="Per clause")
    for key, value in obj.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            s.table(value, caption=key)
    return s
