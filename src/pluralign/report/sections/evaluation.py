"""Report section "Per-group accuracy, before and after training" (``evaluate/metrics.json``):
per subset of prompts and per grouping, every group's accuracy with its interval, worst group
first in every table and figure; groups too small for an interval are marked."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pluralign.report import accuracy as A
from pluralign.report import plots
from pluralign.report.blocks import Cell, Section, rel
from pluralign.report.glossary import (
    TERMS,
    group_label,
    grouping_label,
    grouping_term,
    subset_label,
    subset_term,
)
from pluralign.report.sections.deliberation import clause_texts

SUBSET_NOTES = {k: TERMS[k][1] for k in ("consensus", "consensus-against", "divisive", "mixed")}
"""What each simulator subset of prompts is (also in the glossary)."""

COLUMNS = ("group", "before", "after", "change", "implicit")
LINKS = {
    "before": "g-accuracy",
    "after": "g-interval",
    "change": "g-interval",
    "implicit": "g-implicit",
}


def metric_intro(metrics: Mapping) -> str:
    """What 'accuracy', 'before' and 'after' mean for these metrics."""
    margin = A.margin_kind(metrics)
    text = (
        "Held-out preference accuracy: on prompts never trained on, the weighted share of pairs "
        "where the model favours the response the person chose (ties count half). "
    )
    if margin == "implicit":
        text += (
            "Scored by the implicit reward margin of the trained model against the untrained "
            "one (DPO). "
        )
        if A.before_is_tie(metrics):
            text += (
                "Under that margin the untrained model ties on every pair, so 'before' is 0.5 "
                "by construction, not a measurement; 'after' and the change are what training "
                "did. "
            )
    elif margin == "likelihood":
        text += (
            "Scored by each model's own likelihood margin (summed log-probability of the chosen "
            "minus the rejected reply): 'before' measures what the base model already "
            "preferred, 'after' what the trained model prefers. "
        )
        if A.has_implicit(metrics):
            text += (
                "'implicit': the accuracy of the DPO implicit reward of the trained model "
                "against the base, pair by pair what training changed. "
            )
    else:
        text += f"Margins: {margin}. "
    return text + "Intervals: 95% percentile bootstrap over participants."


def evaluation_section(run: Path) -> Section | None:
    m = A.load_metrics(run)
    if m is None:
        return None
    counted = A.units(run, m)
    tie = A.before_is_tie(m)
    implicit = A.has_implicit(m)
    s = Section(
        "evaluation",
        "Per-group accuracy, before and after training",
        metric_intro(m),
        [rel(run, run / "evaluate" / "metrics.json")],
        part="result",
    )
    rows = []
    for subset in A.subsets(m):
        o = A.overall(m, subset)
        if o is None:
            continue
        n_units = A.unit_count(o, counted)
        people = f"\n{n_units:,} people" if n_units and A.cluster_key(m) == "participant" else ""
        rows.append(
            {
                "prompts": Cell(subset_label(subset), f"{o['n']:,} pairs{people}"),
                "before": A.score_cell(o, "before", n_units, tie=tie),
                "after": A.score_cell(o, "after", n_units),
                "change": A.score_cell(o, "improvement", n_units, signed=True),
                "implicit": A.score_cell(o, "implicit", n_units),
            }
        )
    s.table(
        rows,
        ["prompts", "before", "after", "change", *(["implicit"] if implicit else [])],
        caption="All groups together, per subset of prompts",
        numeric=("before", "after", "change", "implicit"),
        links=LINKS,
        optional=("implicit",),
    )
    if implicit:
        s.text(
            "On a narrow screen the implicit-reward column is left out; turn the phone or "
            "widen the window to see it.",
            "narrow",
        )
    kinds = [(subset_label(x), TERMS[x][1]) for x in A.subsets(m) if x in TERMS]
    if kinds:
        s.facts(kinds, "defs")
    s.text(
        "In every table and figure below the worst group (lowest accuracy after training) comes "
        "first. Grey italics: a group too small for an interval (“no interval”: all "
        f"its pairs come from one participant) or resting on fewer than {A.FEW_UNITS} "
        "participants (a coarse interval); read those numbers as anecdotes, not estimates.",
        "note",
    )
    for grouping in A.groupings(m):
        folded = grouping.startswith("demographic:")
        target = s.sub() if folded else s
        texts = clause_texts(run, 60) if grouping == "clause" else {}
        summary = grouping_block(target, m, grouping, counted, tie, implicit, not folded, texts)
        if target is not s:
            s.details(f"By {grouping_label(grouping)} — worst: {summary}", target.blocks)
    return s


def grouping_block(
    s: Section,
    m: Mapping,
    grouping: str,
    counted: Mapping,
    tie: bool = False,
    implicit: bool = False,
    figures: bool = True,
    group_notes: Mapping[str, str] | None = None,
) -> str:
    """Figures (one per subset, unless ``figures`` is false: the demographic groupings, folded
    away, have their tables only) and a worst-first table for one grouping; returns a one-line
    summary naming the worst group per subset."""
    name = grouping_label(grouping)
    term = grouping_term(grouping)
    s.text(f"By {name}", "h3")
    if term:
        s.text(TERMS[term][1], "p")
    images, blocks, worst_bits = [], [], []
    for subset in A.subsets(m):
        table = A.table_of(m, subset, grouping)
        if not table:
            continue
        n_units = [A.unit_count(g, counted) for g in table]
        small = [A.precision(g, u) != "ok" for g, u in zip(table, n_units, strict=True)]
        labels = [group_label(grouping, str(g["group"])) for g in table]
        if figures:
            images.append(
                (
                    plots.group_dots(table, subset_label(subset), labels, small),
                    f"Accuracy by {name} on {subset_label(subset)}, worst first",
                )
            )
        worst = A.worst_of(table)
        head = subset_label(subset)
        gap = A.gap(m, subset, grouping)
        after_gap = (gap or {}).get("after") or {}
        notes = []
        if worst is not None:
            notes.append(f"worst: {group_label(grouping, str(worst['group']))}")
            worst_bits.append(
                f"{subset} {group_label(grouping, str(worst['group']))} ({A.estimate(worst):.2f})"
            )
        if after_gap.get("estimate") is not None and worst is not None:
            notes.append(
                f"gap best − worst after training {after_gap['estimate']:.2f} "
                f"{A._iv(after_gap)}".rstrip()
            )
        rows = []
        for i, (g, u, is_small) in enumerate(zip(table, n_units, small, strict=True)):
            people = (
                f"\n{u} {'person' if u == 1 else 'people'}"
                if (u is not None and A.cluster_key(m) == "participant")
                else ""
            )
            note = (group_notes or {}).get(str(g["group"]))
            row = [
                Cell(
                    labels[i],
                    (f"{note}\n" if note else "")
                    + f"{g['n']:,} pair{'s' if g['n'] != 1 else ''}{people}",
                    badge="worst" if worst is not None and i == 0 else "",
                    cls="small-n" if is_small else "",
                ),
                A.score_cell(g, "after", u),
                A.score_cell(g, "improvement", u, signed=True),
            ]
            if not tie:
                row.insert(1, A.score_cell(g, "before", u))
            if implicit:
                row.append(A.score_cell(g, "implicit", u))
            rows.append(row)
        blocks.append((Cell(head, " · ".join(notes), cls=f"subset {subset_term(subset)}"), rows))
    if images:
        s.figures(
            images,
            f"Accuracy by {name} before (grey ring) and after (blue dot) training, worst group "
            "at the top; lines: 95% intervals; dashed: no preference (0.5); hollow dot and grey "
            "label: too few participants for an interval.",
        )
    columns = [
        c for c in COLUMNS if not (tie and c == "before") and not (c == "implicit" and not implicit)
    ]
    caption = f"By {name}, worst group first" + (
        " (before training every group is at 0.50: a tie by construction)" if tie else ""
    )
    s.grouped_table(
        columns,
        blocks,
        caption=caption,
        numeric=("before", "after", "change", "implicit"),
        links=LINKS,
        optional=("implicit",),
    )
    return ", ".join(worst_bits) if worst_bits else "one group only"
