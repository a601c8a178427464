"""Section loaders of the report: one function per section, reading its files from the run folder
(layout in docs/run_folder.md) and returning ``None`` when they are absent."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.report import plots
from pluralign.report.public_section import public_eval_section
from pluralign.report.section import (
    Section,
    fmt,
    read_csv,
    read_json,
    rel,
    scalars,
)


def run_section(run: Path) -> Section | None:
    manifests = sorted(run.glob("*/manifest.json"))
    top = run / "manifest.json"
    if not manifests and not top.is_file():
        return None
    s = Section(
        "run",
        "Run",
        "What produced this run: each stage's seed, settings, input "
        "hashes and timing (from the stage manifests).",
    )
    if top.is_file():
        s.sources.append(rel(run, top))
        obj = read_json(top)
        if isinstance(obj, dict):
            s.keyvalues(scalars(obj), "Run manifest")
    rows = []
    for path in manifests:
        s.sources.append(rel(run, path))
        m = read_json(path)
        if not isinstance(m, dict):
            raise InputError("a stage manifest must be a JSON object", where=str(path))
        versions = m.get("versions") or {}
        rows.append(
            {
                "stage": m.get("stage", path.parent.name),
                "seed": m.get("seed"),
                "seconds": m.get("seconds"),
                "started": m.get("started"),
                "fingerprint": str(m.get("fingerprint", ""))[:12],
                "pluralign": versions.get("pluralign") if isinstance(versions, dict) else "",
                "settings": m.get("settings"),
                "inputs": {
                    k: str(v.get("sha256", ""))[:12] if isinstance(v, dict) else v
                    for k, v in (m.get("inputs") or {}).items()
                },
            }
        )
    if rows:
        s.table(rows, caption="Stages")
    return s


def panel_section(run: Path) -> Section | None:
    panel_path = run / "panel" / "panel.csv"
    if not panel_path.is_file():
        return None
    s = Section(
        "panel",
        "Panel composition",
        "The panel's share of each feature value next to "
        "the population's (simulate/population.json), the volunteer pool's, and the "
        "quota range (quota min/max divided by the panel size).",
        [rel(run, panel_path)],
    )
    panel = read_csv(panel_path)
    if "id" not in panel.columns:
        raise InputError("panel file has no 'id' column", where=at(panel_path, 1))
    pool = None
    for candidate in (run / "panel" / "pool.csv", run / "simulate" / "pool.csv"):
        if candidate.is_file():
            pool = read_csv(candidate)
            s.sources.append(rel(run, candidate))
            break
    population: dict[str, dict[str, float]] = {}
    pop_path = run / "simulate" / "population.json"
    if pop_path.is_file():
        s.sources.append(rel(run, pop_path))
        obj = read_json(pop_path)
        features_obj = obj.get("features") if isinstance(obj, dict) else None
        if isinstance(features_obj, dict):
            population = {
                str(f): {str(v): float(x) for v, x in vals.items() if isinstance(x, int | float)}
                for f, vals in features_obj.items()
                if isinstance(vals, dict)
            }
    quotas = None
    quota_path = run / "panel" / "quotas.csv"
    if quota_path.is_file():
        quotas = read_csv(quota_path)
        s.sources.append(rel(run, quota_path))
    skip = {"id", "probability", "weight", "selected"}
    features = [c for c in panel.columns if c not in skip and panel[c].nunique() <= 20]
    k = len(panel)
    data: dict[str, dict[str, dict[str, float]]] = {}
    for f in features:
        values = set(panel[f]) | set(population.get(f, {}))
        if pool is not None and f in pool:
            values |= set(pool[f])
        entry: dict[str, dict[str, float]] = {}
        for v in sorted(values):
            e = {"panel": float((panel[f] == v).mean())}
            if v in population.get(f, {}):
                e["population"] = population[f][v]
            if pool is not None and f in pool:
                e["pool"] = float((pool[f] == v).mean())
            if quotas is not None and {"feature", "value", "min", "max"} <= set(quotas.columns):
                row = quotas[(quotas["feature"] == f) & (quotas["value"] == v)]
                if len(row):
                    try:
                        e["quota_min"] = float(row["min"].iloc[0]) / k
                        e["quota_max"] = float(row["max"].iloc[0]) / k
                    except ValueError as exc:
                        raise InputError(
                            f"non-numeric quota for {f}={v}", where=str(quota_path)
                        ) from exc
            entry[v] = e
        data[f] = entry
    s.keyvalues({"panel size": k, "features": ", ".join(features) or "(none)"})
    if data:
        s.figure(plots.composition(data), "Population vs panel shares; black bars: quota range.")
        rows = [
            {
                "feature": f,
                "value": v,
                **{
                    key: e.get(key)
                    for key in ("population", "pool", "panel", "quota_min", "quota_max")
                },
            }
            for f, entry in data.items()
            for v, e in entry.items()
        ]
        s.table(rows, caption="Shares per feature value", limit=200)
    return s


def probabilities_section(run: Path) -> Section | None:
    prob_path = run / "panel" / "probabilities.csv"
    report_path = run / "panel" / "report.json"
    if not prob_path.is_file() and not report_path.is_file():
        return None
    s = Section(
        "probabilities",
        "Selection probabilities",
        "How likely each pool member was to be selected by the sortition lottery.",
    )
    if report_path.is_file():
        s.sources.append(rel(run, report_path))
        report = read_json(report_path)
        if isinstance(report, dict):
            s.keyvalues(scalars(report), "Sortition report")
    if prob_path.is_file():
        s.sources.append(rel(run, prob_path))
        probs = read_csv(prob_path)
        if "probability" not in probs.columns:
            raise InputError("no 'probability' column", where=at(prob_path, 1))
        try:
            values = probs["probability"].astype(float)
        except ValueError as exc:
            raise InputError(
                f"non-numeric probability ({exc})", where=at(prob_path, column="probability")
            ) from exc
        s.figure(plots.probabilities(values.tolist()), "Histogram of selection probabilities")
        s.keyvalues(
            {
                "people": len(values),
                "min": float(values.min()),
                "max": float(values.max()),
                "sum (= panel size)": float(values.sum()),
            }
        )
    return s


def opinion_section(run: Path) -> Section | None:
    folder = run / "aggregate"
    image, groups, summary = (
        folder / "opinion_map.png",
        folder / "groups.csv",
        folder / "summary.json",
    )
    if not any(p.is_file() for p in (image, groups, summary)):
        return None
    s = Section(
        "opinions",
        "Opinion map",
        "Participants placed by their votes (PCA) and coloured by opinion group.",
    )
    if image.is_file():
        s.sources.append(rel(run, image))
        s.figure(plots.png_file_uri(image.read_bytes()), "Opinion map")
    if summary.is_file():
        s.sources.append(rel(run, summary))
        obj = read_json(summary)
        if isinstance(obj, dict):
            s.keyvalues(scalars(obj), "Aggregation summary")
    if groups.is_file():
        s.sources.append(rel(run, groups))
        g = read_csv(groups)
        if "group" in g.columns:
            counts = g["group"].value_counts().sort_index()
            s.table(
                [
                    {
                        "opinion group": k if k not in ("", "-1") else "(not clustered)",
                        "participants": int(v),
                    }
                    for k, v in counts.items()
                ],
                caption="Opinion group sizes",
            )
    return s


def consensus_section(run: Path) -> Section | None:
    path = run / "aggregate" / "statements.csv"
    if not path.is_file():
        return None
    s = Section(
        "consensus",
        "Consensus statements",
        "Statements ranked by group-aware "
        "consensus (the product over opinion groups of (agrees+1)/(votes+2)); "
        "g<k>_agreement is the share of opinion group k that agreed.",
        [rel(run, path)],
    )
    df = read_csv(path)
    sort_col = next(
        (c for c in ("gac", "consensus", "agreement", "bridging") if c in df.columns), None
    )
    if sort_col is not None:
        import pandas as pd

        df = (
            df.assign(_key=pd.to_numeric(df[sort_col], errors="coerce"))
            .sort_values("_key", ascending=False)
            .drop(columns="_key")
        )
    import re

    first = [
        c
        for c in ("id", "statement", "text", "gac", "bridging", "agreement", "consensus")
        if c in df.columns
    ]
    per_group = [c for c in df.columns if re.fullmatch(r"g\d+_agreement", c)]
    counts = [c for c in ("agrees", "disagrees", "passes") if c in df.columns]
    rest = [c for c in df.columns if c not in (*first, *per_group, *counts)]
    columns = (first + per_group + counts + rest)[:14]
    s.table(
        df.to_dict("records"), columns, caption=f"Top statements by {sort_col or 'order'}", limit=20
    )
    return s


def constitution_section(run: Path) -> Section | None:
    path = run / "constitution" / "constitution.yaml"
    if not path.is_file():
        return None
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"invalid YAML ({exc})", where=at(path, mark.line + 1 if mark else None)
        ) from exc
    s = Section(
        "constitution",
        "Constitution",
        "Each clause with the statements and votes behind it (provenance).",
        [rel(run, path)],
    )
    clauses = doc.get("clauses", []) if isinstance(doc, dict) else doc
    if isinstance(doc, dict):
        meta: dict[str, Any] = {}
        for k, v in doc.items():
            if k == "clauses":
                continue
            if isinstance(v, dict):  # one level flattened: provenance.seed, ...
                meta.update({f"{k}.{kk}": vv for kk, vv in v.items()})
            else:
                meta[k] = v
        if meta:
            s.keyvalues(meta, "Constitution provenance")
    for i, clause in enumerate(clauses or [], start=1):
        if isinstance(clause, str):
            s.blocks.append(
                {"type": "clause", "number": i, "text": clause, "items": [], "votes": None}
            )
            continue
        if not isinstance(clause, dict):
            raise InputError(f"clause {i} is neither text nor a mapping", where=str(path))
        text = clause.get("text") or clause.get("clause") or ""
        statements = clause.get("statements")
        votes = None
        if (
            isinstance(statements, list)
            and statements
            and all(isinstance(st, dict) for st in statements)
        ):
            votes = _statement_votes(statements)
        items = [
            (k, fmt(v))
            for k, v in clause.items()
            if k not in ("text", "clause") and not (k == "statements" and votes)
        ]
        s.blocks.append(
            {"type": "clause", "number": i, "text": text, "items": items, "votes": votes}
        )
    return s


def _statement_votes(statements: list[dict]) -> dict[str, Any]:
    """A small table of a clause's statements: votes overall and agree/disagree/pass per group."""
    groups: list[str] = []
    for st in statements:
        for g in st.get("groups") or {}:
            if str(g) not in groups:
                groups.append(str(g))
    columns = ["statement", "agree", "disagree", "pass", "gac", "bridging"]
    columns += [f"group {g} (a/d/p)" for g in groups]
    rows = []
    for st in statements:
        per_group = {str(g): v for g, v in (st.get("groups") or {}).items()}
        row = [fmt(st.get(c if c != "statement" else "id")) for c in columns[:6]]
        for g in groups:
            v = per_group.get(g) or {}
            row.append(
                f"{v.get('agree', '')}/{v.get('disagree', '')}/{v.get('pass', '')}"
                if isinstance(v, dict)
                else fmt(v)
            )
        rows.append(row)
    return {"columns": columns, "rows": rows}


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
        records = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON ({exc.msg})", where=at(path, number)) from exc
            if isinstance(obj, dict):
                records.append(obj)
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
    if summary.is_file():
        s.sources.append(rel(run, summary))
        obj = read_json(summary)
        if isinstance(obj, dict):
            s.keyvalues(scalars(obj), "Training summary")
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


def moral_graph_section(run: Path) -> Section | None:
    path = next(
        (
            p
            for p in (
                run / "moralgraph" / "graph.json",
                run / "moral_graph" / "graph.json",
                run / "aggregate" / "moral_graph.json",
            )
            if p.is_file()
        ),
        None,
    )
    if path is None:
        return None
    s = Section(
        "moral-graph",
        "Moral graph",
        "Values (cards) ranked by PageRank over the "
        "upgrades participants judged wiser (edges: source value → wiser value), the "
        "winning value per context, and the clauses drawn from them.",
        [rel(run, path)],
    )
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object with values and edges", where=str(path))
    values = [v for v in obj.get("values") or [] if isinstance(v, dict)]
    edges = [e for e in obj.get("edges") or [] if isinstance(e, dict)]
    s.keyvalues({"values": len(values), "edges": len(edges)})
    meta = obj.get("pluralign") if isinstance(obj.get("pluralign"), dict) else {}
    contexts = [c for c in meta.get("contexts") or [] if isinstance(c, dict)]
    if contexts:
        titles = {str(v.get("id")): v.get("title", "") for v in values}
        s.table(
            [
                {
                    "context": c.get("id"),
                    "winning value": c.get("winner"),
                    "title": titles.get(str(c.get("winner")), ""),
                }
                for c in contexts
            ],
            caption="Winning value per context",
        )
    if values:
        ranked = sorted(values, key=lambda v: -float(v.get("pageRank") or v.get("pagerank") or 0))
        cols = [
            c
            for c in ("id", "title", "pageRank", "pagerank", "description")
            if any(c in v for v in values)
        ]
        s.table(ranked, cols or None, caption="Values")
    if edges:
        s.table(
            [
                {
                    "source": e.get("sourceValueId", e.get("from_id")),
                    "wiser": e.get("wiserValueId", e.get("to_id")),
                    "contexts": e.get("contexts"),
                    "wiser likelihood": (e.get("summary") or {}).get("wiserLikelihood"),
                    "counts": e.get("counts"),
                }
                for e in edges
            ],
            caption="Edges (upgrades)",
        )
    clauses = path.parent / "clauses.json"
    if clauses.is_file():
        s.sources.append(rel(run, clauses))
        rows = read_json(clauses)
        if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
            cols = [
                c for c in ("context", "text", "value_id", "title") if any(c in r for r in rows)
            ]
            s.table(rows, cols or None, caption="Clauses from the moral graph")
    return s


SECTIONS: tuple[Callable[[Path], Section | None], ...] = (
    run_section,
    panel_section,
    probabilities_section,
    opinion_section,
    consensus_section,
    constitution_section,
    moral_graph_section,
    training_section,
    evaluation_section,
    judge_section,
    public_eval_section,
)
