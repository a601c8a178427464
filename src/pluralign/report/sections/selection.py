"""Report sections about the run and who took part: the stage manifests, the panel's composition
and the lottery's selection probabilities."""

from __future__ import annotations

from pathlib import Path

from pluralign.errors import InputError, at
from pluralign.report import plots
from pluralign.report.section import Section, read_csv, read_json, rel


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
    s.json_keyvalues(run, top, "Run manifest")
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
    s.json_keyvalues(run, report_path, "Sortition report")
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
