"""Report sections about what the panel said: the opinion map, the consensus statements, the
constitution with the votes behind each clause, and the moral graph (values by name)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.report import plots
from pluralign.report.blocks import (
    Cell,
    Section,
    fmt,
    read_csv,
    read_json,
    read_json_object,
    rel,
)


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
        "Each dot is a participant, placed by their votes (the first two principal components "
        "of the vote matrix) and coloured by opinion group: people who voted alike sit close "
        "together. Grey: not clustered (too few votes to place).",
    )
    if image.is_file():
        s.sources.append(rel(run, image))
        s.figure(plots.png_file_uri(image.read_bytes()), "Opinion map")
    obj = read_json_object(summary)
    if obj is not None:
        s.sources.append(rel(run, summary))
        s.keyvalues(aggregate_facts(obj), "Aggregation")
    if groups.is_file():
        s.sources.append(rel(run, groups))
        g = read_csv(groups)
        if "group" in g.columns:
            counts = g["group"].value_counts()
            order = sorted(counts.index, key=lambda k: (k in ("", "-1"), _natural(k)))
            s.table(
                [
                    {
                        "opinion group": f"group {k}" if k not in ("", "-1") else "not clustered",
                        "participants": int(counts[k]),
                    }
                    for k in order
                ],
                caption="Opinion group sizes",
                numeric=("participants",),
                links={"opinion group": "g-opinion-group"},
            )
    return s


def _natural(key: str) -> tuple:
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def aggregate_facts(summary: dict[str, Any]) -> dict[str, Any]:
    """What the aggregation found, in words (the full summary is in the appendix)."""
    out: dict[str, Any] = {}
    if "participants" in summary:
        clustered = summary.get("participants_clustered")
        out["participants"] = (
            summary["participants"]
            if clustered is None
            else (f"{summary['participants']} ({clustered} placed in opinion groups)")
        )
    if "statements" in summary:
        excluded = summary.get("statements_excluded")
        out["statements"] = summary["statements"]
        if isinstance(excluded, list) and excluded:
            out["statements"] = f"{summary['statements']} ({len(excluded)} left out)"
    if "votes" in summary:
        out["votes"] = (
            f"{summary['votes']:,}" if isinstance(summary["votes"], int) else (summary["votes"])
        )
    if "n_groups" in summary:
        sizes = summary.get("group_sizes")
        out["opinion groups"] = (
            summary["n_groups"]
            if not isinstance(sizes, list)
            else (f"{summary['n_groups']} (sizes {', '.join(str(x) for x in sizes)})")
        )
    if isinstance(summary.get("consensus"), list):
        out["consensus statements"] = len(summary["consensus"])
    return out


def consensus_section(run: Path) -> Section | None:
    path = run / "aggregate" / "statements.csv"
    if not path.is_file():
        return None
    s = Section(
        "consensus",
        "Consensus statements",
        "The statements most agreed with across opinion groups: first those that are cross-group "
        "consensus under the rule the constitution drafts from, then by group-aware consensus "
        "(gac); next to it, the share of each opinion group that agreed.",
        [rel(run, path)],
    )
    df = read_csv(path)
    sort_col = next(
        (c for c in ("gac", "consensus", "agreement", "bridging") if c in df.columns), None
    )
    # the rule the constitution drafts from and the web app's results page lists
    # (pluralign.aggregate.consensus): its statements first
    rule_col = "cross_group_consensus" if "cross_group_consensus" in df.columns else None
    passing = None
    if rule_col is not None:
        passing = df[rule_col].astype(str).str.strip().str.lower().isin(("true", "1"))
    if sort_col is not None or passing is not None:
        import pandas as pd

        keys = []
        if passing is not None:
            df = df.assign(_pass=passing)
            keys.append("_pass")
        if sort_col is not None:
            df = df.assign(_key=pd.to_numeric(df[sort_col], errors="coerce"))
            keys.append("_key")
        df = df.sort_values(keys, ascending=False, kind="stable").drop(
            columns=[k for k in ("_pass", "_key") if k in keys])
        if passing is not None:
            passing = passing.loc[df.index]
    text_col = next((c for c in ("text", "statement_text", "txt") if c in df.columns), None)
    id_col = next((c for c in ("statement", "id", "tid") if c in df.columns), None)
    per_group = sorted(
        (c for c in df.columns if re.fullmatch(r"g\d+_agreement", c)),
        key=lambda c: int(c[1:].split("_")[0]),
    )
    rows = []
    score = next((c for c in ("gac", "consensus", "bridging") if c in df.columns), None)
    flags = list(passing.head(20)) if passing is not None else [False] * min(20, len(df))
    for rec, passes in zip(df.head(20).to_dict("records"), flags, strict=True):
        text = str(rec.get(text_col, "")) if text_col else ""
        sid = str(rec.get(id_col, "")) if id_col else ""
        facts = [f"#{sid}"] if text and sid else []
        if passes:
            facts.append("cross-group consensus")
        facts += [
            f"{c} {fmt(rec.get(c))}"
            for c in ("agreement", "bridging")
            if c in df.columns and c != score
        ]
        row: dict[str, Any] = {"statement": Cell(text or sid, " · ".join(facts))}
        if score:
            row[score] = Cell(fmt(rec.get(score)), cls="num")
        if per_group:
            row["agreed, per group"] = Cell(
                "",
                "\n".join(f"{c.split('_')[0][1:]}: {_pct(rec.get(c))}" for c in per_group),
                cls="num",
            )
        rows.append(row)
    s.table(
        rows,
        caption=(
            f"{int(passing.sum())} of {len(df)} statements are cross-group consensus (the rule "
            "the constitution drafts from), listed first; then by "
            f"{sort_col or 'order'}, top {min(20, len(df))}"
            if passing is not None
            else f"Top {min(20, len(df))} of {len(df)} statements by {sort_col or 'order'}"
        ),
        numeric=(score or "", "agreed, per group"),
        links={"gac": "g-gac", "bridging": "g-bridging", "agreed, per group": "g-opinion-group"},
    )
    return s


def _pct(value: Any) -> str:
    try:
        return f"{float(value):.0%}"
    except (TypeError, ValueError):
        return "–"


def constitution_section(run: Path) -> Section | None:
    path = run / "constitution" / "constitution.yaml"
    if not path.is_file():
        return None
    doc, clauses = read_constitution(path)
    s = Section(
        "constitution",
        "Constitution",
        "The principles drawn from the deliberation, each with the statements and votes behind "
        "it (its full provenance is in the appendix).",
        [rel(run, path)],
    )
    s.keyvalues(
        {"clauses": len(clauses)}
        | ({"title": doc["title"]} if isinstance(doc, dict) and doc.get("title") else {})
    )
    for i, clause in enumerate(clauses, start=1):
        if isinstance(clause, str):
            s.blocks.append(
                {"type": "clause", "number": i, "text": clause, "items": [], "votes": []}
            )
            continue
        if not isinstance(clause, dict):
            raise InputError(f"clause {i} is neither text nor a mapping", where=str(path))
        text = clause.get("text") or clause.get("clause") or ""
        statements = clause.get("statements")
        votes = []
        if isinstance(statements, list) and all(isinstance(st, dict) for st in statements):
            votes = [_statement_votes(st, text) for st in statements]
        items = [
            (k, fmt(v))
            for k, v in clause.items()
            if k not in ("text", "clause") and not (k == "statements" and votes)
        ]
        s.blocks.append(
            {"type": "clause", "number": i, "text": text, "items": items, "votes": votes}
        )
    return s


def read_constitution(path: Path) -> tuple[Any, list]:
    """The YAML document and its clause list (a plain list of clauses is accepted too)."""
    from pluralign.io import read_yaml

    doc = read_yaml(path)
    clauses = doc.get("clauses", []) if isinstance(doc, dict) else doc
    if clauses is not None and not isinstance(clauses, list):
        raise InputError("'clauses' must be a list", where=str(path))
    return doc, list(clauses or [])


def clause_texts(run: Path, limit: int | None = None) -> dict[str, str]:
    """Clause id → text from the run's constitution (empty without one); ``limit`` cuts long
    texts (ending with …)."""
    path = run / "constitution" / "constitution.yaml"
    if not path.is_file():
        return {}
    _, clauses = read_constitution(path)
    out = {}
    for c in clauses:
        if isinstance(c, dict) and c.get("id") is not None:
            text = str(c.get("text") or "")
            if limit and len(text) > limit:
                text = text[: limit - 1].rstrip() + "…"
            out[str(c["id"])] = text
    return out


def _statement_votes(st: dict, clause_text: str) -> dict[str, Any]:
    """One statement behind a clause: its text (when it differs from the clause), consensus
    scores, and votes of everyone and of each opinion group as rows (narrow enough for a
    phone)."""

    def row(name: str, v: Any) -> list:
        if not isinstance(v, dict):
            return [name, "", "", "", ""]
        a, d, p = (v.get(k) for k in ("agree", "disagree", "pass"))
        try:
            share = f"{int(a) / (int(a) + int(d) + int(p)):.0%}"
        except (TypeError, ValueError, ZeroDivisionError):
            share = ""
        return [name, fmt(a), fmt(d), fmt(p), share]

    rows = [row("everyone", st)]
    for g, v in (st.get("groups") or {}).items():
        rows.append(row(f"group {g}", v))
    text = str(st.get("text") or "")
    scores = " · ".join(
        f"{k} {fmt(float(st[k]))}"
        for k in ("gac", "bridging")
        if isinstance(st.get(k), int | float)
    )
    return {
        "title": f"statement #{st.get('id', '?')}"
        + (f": {text}" if text and text.strip() != str(clause_text).strip() else ""),
        "scores": scores,
        "columns": ["", "agree", "disagree", "pass", "agreed"],
        "rows": rows,
    }


UPGRADES_SHOWN = 5
"""Upgrades listed per context (the strongest)."""


def _upgrade(e: dict, name) -> list:
    counts = e.get("counts") if isinstance(e.get("counts"), dict) else {}
    wiser = counts.get("markedWiser")
    others = [counts.get(k) for k in ("markedNotWiser", "markedLessWise", "markedUnsure")]
    judged = (wiser or 0) + sum(x for x in others if isinstance(x, int))
    likelihood = (e.get("summary") or {}).get("wiserLikelihood")
    return [
        name(e.get("sourceValueId", e.get("from_id"))),
        name(e.get("wiserValueId", e.get("to_id"))),
        Cell(
            fmt(likelihood) if likelihood is not None else "",
            f"{wiser} of {judged} said wiser" if wiser is not None and judged else "",
            cls="num",
        ),
    ]


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
        "Values (cards) participants articulated, ranked by PageRank over the upgrades they "
        "judged wiser (an upgrade: moving from one value to another in a context); the winning "
        "value per context, and the clauses drawn from them.",
        [rel(run, path)],
    )
    obj = read_json(path)
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object with values and edges", where=str(path))
    values = [v for v in obj.get("values") or [] if isinstance(v, dict)]
    edges = [e for e in obj.get("edges") or [] if isinstance(e, dict)]
    titles = {str(v.get("id")): str(v.get("title") or f"value {v.get('id')}") for v in values}

    def name(value_id: Any) -> str:
        return titles.get(str(value_id), f"value {value_id}")

    s.keyvalues({"values": len(values), "upgrades (edges)": len(edges)})
    meta = obj.get("pluralign") if isinstance(obj.get("pluralign"), dict) else {}
    contexts = [c for c in meta.get("contexts") or [] if isinstance(c, dict)]
    if contexts:
        s.table(
            [
                {
                    "context": str(c.get("id", "")).replace("-", " "),
                    "winning value": name(c.get("winner")),
                }
                for c in contexts
            ],
            caption="Winning value per context",
        )
    if values:
        ranked = sorted(values, key=lambda v: -float(v.get("pageRank") or v.get("pagerank") or 0))
        s.table(
            [
                {
                    "value": Cell(name(v.get("id")), str(v.get("description") or "")),
                    "pageRank": Cell(
                        fmt(float(v.get("pageRank") or v.get("pagerank") or 0)), cls="num"
                    ),
                }
                for v in ranked
            ],
            caption="Values",
            numeric=("pageRank",),
            links={"pageRank": "g-pagerank"},
        )
    if edges:
        by_context: dict[str, list] = {}
        for e in sorted(
            edges, key=lambda e: -float((e.get("summary") or {}).get("wiserLikelihood") or 0)
        ):
            for c in e.get("contexts") or ["(no context)"]:
                by_context.setdefault(str(c).replace("-", " "), []).append(_upgrade(e, name))
        shown = {c: rows[:UPGRADES_SHOWN] for c, rows in sorted(by_context.items())}
        hidden = sum(len(r) for r in by_context.values()) - sum(len(r) for r in shown.values())
        s.grouped_table(
            ["from", "to (judged wiser)", "wiser likelihood"],
            [
                (
                    Cell(
                        c, f"{len(by_context[c])} upgrade{'s' if len(by_context[c]) != 1 else ''}"
                    ),
                    rows,
                )
                for c, rows in shown.items()
            ],
            caption=f"Upgrades per context, strongest first ({len(edges)})",
            numeric=("wiser likelihood",),
            links={"wiser likelihood": "g-wiser"},
        )
        if hidden:
            s.text(f"… and {hidden} weaker upgrades (in {rel(run, path)}).", "small")
    clauses = path.parent / "clauses.json"
    if clauses.is_file():
        s.sources.append(rel(run, clauses))
        rows = read_json(clauses)
        if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
            s.table(
                [
                    {
                        "context": str(r.get("context", "")).replace("-", " "),
                        "clause": r.get("text", ""),
                    }
                    for r in rows
                ],
                caption="Clauses from the moral graph",
            )
    return s
