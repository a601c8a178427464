"""Report sections about who took part: the panel's composition against the population and the
pool, and the lottery's selection probabilities (the stage manifests are in the appendix)."""

from __future__ import annotations

from pathlib import Path

from pluralign.errors import InputError, at
from pluralign.report import plots
from pluralign.report.blocks import Cell, Section, read_csv, read_json, rel


def panel_section(run: Path) -> Section | None:
    panel_path = run / "panel" / "panel.csv"
    if not panel_path.is_file():
        return None
    s = Section(
        "panel",
        "Panel composition",
        "Who sat on the panel: its share of each feature value next to the population's, "
        "the volunteer pool's (who signed up), and the quota range the lottery had to meet "
        "(quota min/max divided by the panel size).",
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
    pop_path = next(
        (
            p
            for p in (run / "simulate" / "population.json", run / "panel" / "population.json")
            if p.is_file()
        ),
        run / "simulate" / "population.json",
    )
    if pop_path.is_file():
        s.sources.append(rel(run, pop_path))
        obj = read_json(pop_path)
        features_obj = obj.get("features", obj) if isinstance(obj, dict) else None
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
        columns = [
            c
            for c in ("population", "pool", "panel")
            if any(c in e for entry in data.values() for e in entry.values())
        ]
        groups = []
        for f, entry in data.items():
            rows = []
            for v, e in entry.items():
                row = [v] + [_share(e.get(c)) for c in columns]
                lo, hi = e.get("quota_min"), e.get("quota_max")
                banded = lo is not None and hi is not None
                outside = banded and not lo - 1e-9 <= e["panel"] <= hi + 1e-9
                row.append(
                    Cell(
                        f"{lo:.0%}–{hi:.0%}" if lo is not None and hi is not None else "",
                        badge="outside" if outside else "",
                        cls="num",
                    )
                )
                rows.append(row)
            groups.append((Cell(f.replace("_", " "), cls="subset"), rows))
        s.grouped_table(
            ["value", *columns, "quota"],
            groups,
            caption="Shares per feature value",
            numeric=(*columns, "quota"),
        )
    return s


def _share(value) -> Cell:
    return Cell("" if value is None else f"{value:.1%}", cls="num")


def probabilities_section(run: Path) -> Section | None:
    prob_path = run / "panel" / "probabilities.csv"
    report_path = run / "panel" / "report.json"
    if not prob_path.is_file() and not report_path.is_file():
        return None
    s = Section(
        "probabilities",
        "Selection probabilities",
        "How likely each pool member was to be selected by the sortition lottery: a fair "
        "lottery gives everyone a real chance, and the smallest probability says how real.",
    )
    if report_path.is_file():
        s.sources.append(rel(run, report_path))
        obj = read_json(report_path)
        if isinstance(obj, dict):
            s.keyvalues(sortition_facts(obj), "The lottery")
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
        facts = {"people in the pool": len(values)}
        if not report_path.is_file():
            facts |= {
                "smallest probability": float(values.min()),
                "largest probability": float(values.max()),
            }
        facts["sum (= expected panel size)"] = float(values.sum())
        s.keyvalues(facts, "Selection probabilities")
    return s


SORTITION_FACTS = (
    ("method", "method"),
    ("k", "panel size"),
    ("pool_size", "pool size"),
    ("min_probability", "smallest selection probability"),
    ("max_probability", "largest selection probability"),
    ("geometric_mean", "geometric mean of the probabilities"),
    ("gini", "Gini coefficient of the probabilities"),
    ("never_selected", "pool members who could never be selected"),
    ("timed_out", "solver timed out"),
)


def sortition_facts(report: dict) -> dict:
    """The lottery's headline numbers (the solver's statistics are in the appendix)."""
    out = {label: report[key] for key, label in SORTITION_FACTS if key in report}
    weights = report.get("weights")
    if isinstance(weights, dict) and weights.get("target"):
        out["soft weights"] = f"raked to the {weights['target']}'s margins" + (
            "" if weights.get("converged", True) else " (did not converge)"
        )
    return out
