"""Report sections about what the panel said: the opinion map, the consensus statements, the
constitution with its provenance, and the moral graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.report import plots
from pluralign.report.section import Section, fmt, read_csv, read_json, rel


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
    s.json_keyvalues(run, summary, "Aggregation summary")
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
