"""The report's opening section: what ran (deliberation → panel → opinion groups → constitution →
pairs → training), which model (a model-card line from ``model/model.json``), and the result
before → after per group, worst group named. Every fact is read from the run folder and left
out when its file is absent, so older or partial runs still get a headline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pluralign.report import accuracy as A
from pluralign.report.blocks import (
    Cell,
    Section,
    count_lines,
    last_round,
    number,
    read_csv,
    read_json_object,
)
from pluralign.report.glossary import group_label, grouping_label, subset_label

HEADLINE_SUBSETS = ("all", "consensus", "divisive")
"""Columns of the headline table when present (the per-group section lists every subset)."""


def headline_section(run: Path) -> Section | None:
    flow = what_ran(run)
    model = model_card(run)
    metrics = A.load_metrics(run)
    if not flow and model is None and metrics is None:
        return None
    s = Section("summary", "Summary", part="result")
    if flow:
        s.facts(flow, "flow")
    if model is not None:
        s.facts([("Model", model)])
    if metrics is not None:
        result_blocks(s, run, metrics)
    else:
        s.text("This run has no evaluation (evaluate/metrics.json), so no result yet.", "note")
    line = run_line(run)
    if line:
        s.text(line, "small")
    return s


def _obj(run: Path, name: str) -> dict[str, Any]:
    return read_json_object(run / name) or {}


def what_ran(run: Path) -> list[tuple[str, str]]:
    """The pipeline strip: (stage, what it did) for each stage whose files exist."""
    config, top = _obj(run, "pipeline.json"), _obj(run, "manifest.json")
    inputs = config.get("inputs") if isinstance(config.get("inputs"), dict) else {}
    sim, agg = _obj(run, "summary/summary.json"), _obj(run, "aggregate/summary.json")
    out: list[tuple[str, str]] = []
    if inputs.get("simulate") or top.get("deliberation") == "simulate":
        given = inputs.get("simulate") or {}
        people = sim.get("participants") or given.get("participants")
        statements = sim.get("statements") or given.get("statements")
        bits = [
            f"{number(people)} participants" if people else "",
            f"{number(statements)} statements" if statements else "",
        ]
        out.append(("Deliberation", "simulated assembly: " + ", ".join(b for b in bits if b)))
    elif inputs.get("polis"):
        out.append(("Deliberation", f"Polis conversation {Path(str(inputs['polis'])).name}"))
    elif isinstance(inputs.get("store"), dict):
        out.append(("Deliberation", f"assembly '{inputs['store'].get('slug')}' in the store"))
    report = _obj(run, "panel/report.json")
    panel_csv = run / "panel" / "panel.csv"
    if report.get("k") or panel_csv.is_file():
        k = report.get("k") or len(read_csv(panel_csv))
        pool = report.get("pool_size")
        how = f", by sortition ({report['method']})" if report.get("method") else ""
        out.append(
            (
                "Panel",
                f"{number(k)} members" + (f" of {number(pool)} volunteers" if pool else "") + how,
            )
        )
    if agg:
        bits = []
        if agg.get("votes") is not None:
            bits.append(
                f"{number(agg['votes'])} votes on {number(agg.get('statements'))} statements"
            )
        if agg.get("n_groups") is not None:
            sizes = agg.get("group_sizes")
            bits.append(
                f"{agg['n_groups']} opinion groups"
                + (
                    f" ({', '.join(str(x) for x in sizes)} people)"
                    if isinstance(sizes, list)
                    else ""
                )
            )
        if bits:
            out.append(("Opinions", " → ".join(bits)))
    constitution = run / "constitution" / "constitution.yaml"
    if constitution.is_file():
        from pluralign.report.sections.deliberation import read_constitution

        _, clauses = read_constitution(constitution)
        out.append(("Constitution", f"{len(clauses)} clause{'s' if len(clauses) != 1 else ''}"))
    final = last_round(run)
    synth = _obj(final, "synth/usage.json")
    if synth.get("questions") is not None or synth.get("pairs") is not None:
        bits = [f"{number(synth[k])} {k}" for k in ("questions", "pairs") if k in synth]
        out.append(("Synthesis", " → ".join(bits) + " written by the model"))
    train_n, held_n = (count_lines(final / "data" / f) for f in ("train.jsonl", "heldout.jsonl"))
    if train_n is not None or held_n is not None:
        bits = [
            f"{number(train_n)} to train on" if train_n is not None else "",
            f"{number(held_n)} held out" if held_n is not None else "",
        ]
        out.append(("Preference pairs", ", ".join(b for b in bits if b)))
    training = training_line(run)
    if training:
        out.append(("Training", training))
    return out


def training_line(run: Path) -> str:
    summary, manifest = _obj(run, "train/summary.json"), _obj(run, "train/train_manifest.json")
    settings = manifest.get("settings") if isinstance(manifest.get("settings"), dict) else {}
    method = summary.get("method") or manifest.get("method")
    if not method:
        return ""
    bits = [str(method).upper()]
    if settings.get("objective"):
        bits.append(str(settings["objective"]))
    steps = summary.get("steps") or manifest.get("steps")
    if steps:
        bits.append(f"{steps} steps")
    if "lora" in settings:
        bits.append(f"LoRA rank {settings.get('lora_r')}" if settings["lora"] else "full model")
    return ", ".join(bits)


def model_card(run: Path) -> str | None:
    """``name · N parameters · licence · sha256 …`` from ``model/model.json`` (older runs record
    only the name: the rest reads "not recorded"); ``None`` without a model file."""
    info = _obj(run, "model/model.json")
    if not info:
        base = _obj(run, "train/train_manifest.json").get("base_model")
        if not base:
            return None
        info = {"base": Path(str(base)).name}
    name = str(info.get("base") or info.get("name") or "unknown model")
    if name == "tiny" and "parameters" not in info:
        name = "tiny random Llama (built for this run)"
    params, licence, sha = info.get("parameters"), info.get("licence"), info.get("sha256")
    bits = [name]
    if isinstance(params, int | float):
        bits.append(_params(params))
    if licence:
        bits.append(f"licence {licence}")
    if sha:
        of = f" of {info['sha256_of']}" if info.get("sha256_of") else ""
        bits.append(f"sha256 {str(sha)[:16]}…{of}")
    missing = [
        k for k, v in (("parameters", params), ("licence", licence), ("sha256", sha)) if not v
    ]
    if missing:
        bits.append(f"{', '.join(missing)} not recorded by this run")
    return " · ".join(bits)


def _params(n: float) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f} {unit} parameters"
    return f"{int(n)} parameters"


def result_blocks(s: Section, run: Path, m: Mapping) -> None:
    """Overall before → after, the worst group named, and a per-group table worst first."""
    counted = A.units(run, m)
    everyone = A.overall(m, "all")
    lines = []
    if everyone is not None:
        implicit = everyone.get("implicit") or {}
        beside = (
            f"; implicit reward {implicit['estimate']:.2f} {A._iv(implicit)}"
            if implicit.get("estimate") is not None
            else ""
        )
        text = f"{A.describe(everyone, m, A.unit_count(everyone, counted))}"
        lines.append(("All held-out pairs", f"{text} over {everyone['n']:,} pairs{beside}"))
    names = A.groupings(m)
    if not names:
        s.facts(lines, "result")
        return
    grouping = names[0]
    label = grouping_label(grouping)
    subsets = [x for x in HEADLINE_SUBSETS if any(g["subset"] == x for g in m["groups"])]
    extra = [x for x in A.subsets(m) if x not in subsets]
    subsets += extra[: max(0, 3 - len(subsets))]
    tally = [f"{subset_label(x)}: {verdict(m, x, grouping, counted)}" for x in subsets]
    lines.append((f"Groups that gained ({label}s)", " · ".join(tally)))
    worst_names = {}
    for subset in subsets:
        table = A.table_of(m, subset, grouping)
        worst = A.worst_of(table)
        if worst is None:
            continue
        worst_names[subset] = worst["group"]
        lines.append(
            (
                f"Worst {label}, {subset_label(subset)}",
                f"{group_label(grouping, str(worst['group']))}: "
                f"{A.describe(worst, m, A.unit_count(worst, counted))}",
            )
        )
    s.facts(lines, "result")
    if A.before_is_tie(m):
        s.text(
            "'Before' is 0.5 by construction here (the untrained model scored against "
            "itself ties on every pair); 'after' is the trained model.",
            "small",
        )
    order = [g["group"] for g in A.table_of(m, subsets[0], grouping)] if subsets else []
    for subset in subsets[1:]:
        order += [g["group"] for g in A.table_of(m, subset, grouping) if g["group"] not in order]
    rows = []
    for group in order:
        row: dict[str, Any] = {label: group_label(grouping, str(group))}
        for subset in subsets:
            score = next(
                (
                    g
                    for g in m["groups"]
                    if (g["subset"], g["grouping"], g["group"]) == (subset, grouping, group)
                ),
                None,
            )
            cell = A.arrow_cell(score, A.unit_count(score, counted) if score else None)
            if worst_names.get(subset) == group:
                cell = Cell(cell.text, cell.sub, cls=cell.cls + " worst")
            row[subset] = cell
        rows.append(row)
    s.table(
        rows,
        [label, *subsets],
        caption=f"Accuracy before → after training, per {label} and kind of prompts",
        numeric=tuple(subsets),
        limit=30,
        links={x: f"g-{x}" for x in subsets if x != "all"},
    )
    s.text(
        "Worst group first; red: the worst group of each column; underneath: the 95% "
        "interval after training; grey italics: too few participants for an interval. "
        "A group gained (lost) when the 95% interval of its change lies above (below) 0.",
        "small",
    )


def verdict(m: Mapping, subset: str, grouping: str, counted: Mapping) -> str:
    """``all 5 gained`` / ``3 of 5 gained, 1 lost, 1 unclear``: a group gained (lost) when the
    95% interval of its change lies above (below) 0; groups without an interval are unclear."""
    table = A.table_of(m, subset, grouping)
    gained = lost = 0
    for g in table:
        iv = g.get("improvement") or {}
        low, high = iv.get("low"), iv.get("high")
        if A.precision(g, A.unit_count(g, counted), "improvement") == "none" or low is None:
            continue
        if low > 0:
            gained += 1
        elif high is not None and high < 0:
            lost += 1
    unclear = len(table) - gained - lost
    if gained == len(table):
        return f"all {gained} gained" if gained > 1 else "gained"
    bits = [f"{gained} of {len(table)} gained"]
    if lost:
        bits.append(f"{lost} lost")
    if unclear:
        bits.append(f"{unclear} unclear")
    return ", ".join(bits)


def run_line(run: Path) -> str:
    top = _obj(run, "manifest.json")
    seconds = 0.0
    for path in run.glob("*/manifest.json"):
        m = read_json_object(path) or {}
        if isinstance(m.get("seconds"), int | float):
            seconds += float(m["seconds"])
    bits = []
    if "seed" in top:
        bits.append(f"seed {top['seed']}")
    if top.get("pluralign"):
        bits.append(f"pluralign {top['pluralign']}")
    if seconds:
        bits.append(f"{seconds:,.0f} s of stage time")
    return " · ".join(bits) + (" (settings and manifests: appendix)" if bits else "")
