"""constitution.yaml (editable, validated on load) and constitution.md (for reading).

YAML layout (``format: pluralign-constitution/1``; ``format`` may be left out, and a clause may
carry a free-form ``provenance`` mapping, e.g. written by ``pluralign.llm`` when it rewords)::

    format: pluralign-constitution/1
    title: Constitution
    provenance: {pluralign_version, input_sha256, seed, n_groups, ..., draft_settings}
    clauses:
      - id: c1
        text: The clause text (edit freely).
        statements:             # the votes behind the clause (leave as drafted)
          - id: 14
            text: Statement text as voted on.
            agree: 155
            disagree: 6
            pass: 6
            groups: {0: {agree: 82, disagree: 1, pass: 2}, 1: {...}}
            gac: 0.848
            bridging: 0.371

Loading checks every field and reports the file, line and field at fault.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from pluralign.constitution.draft import (
    FORMAT,
    Clause,
    Constitution,
    Evidence,
    GroupVotes,
)
from pluralign.errors import InputError, at
from pluralign.io import yaml_error


def _evidence_dict(e: Evidence) -> dict[str, Any]:
    scores = {k: v for k, v in (("gac", e.gac), ("bridging", e.bridging)) if math.isfinite(v)}
    return {
        "id": e.statement,
        "text": e.text,
        "agree": e.agree,
        "disagree": e.disagree,
        "pass": e.passes,
        "groups": {
            g: {"agree": v.agree, "disagree": v.disagree, "pass": v.passes}
            for g, v in sorted(e.groups.items())
        },
        **scores,  # unknown (NaN) scores are left out: the file holds finite numbers only
    }


def constitution_to_yaml(c: Constitution) -> str:
    data = {
        "format": FORMAT,
        "title": c.title,
        "provenance": c.provenance,
        "clauses": [
            {
                "id": cl.id,
                "text": cl.text,
                "statements": [_evidence_dict(e) for e in cl.evidence],
                **({"provenance": cl.note} if cl.note else {}),
            }
            for cl in c.clauses
        ],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


class _Checker:
    """Validates the parsed YAML, naming the line of the offending node."""

    def __init__(self, text: str, source: str):
        self.source = source
        try:
            self.root = yaml.compose(text)
        except yaml.YAMLError as exc:
            raise yaml_error(
                exc, source, text, hint="check indentation and quote texts containing ': '"
            ) from None

    def line(self, path: tuple) -> int | None:
        node = self.root
        for key in path:
            if isinstance(node, yaml.MappingNode):
                found = [v for k, v in node.value if k.value == str(key)]
                if not found:
                    break
                node = found[0]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if key >= len(node.value):
                    break
                node = node.value[key]
            else:
                break
        return node.start_mark.line + 1 if node is not None else None

    def fail(self, path: tuple, message: str, hint: str | None = None):
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        raise InputError(message, where=at(self.source, self.line(path), field or None), hint=hint)

    def mapping(self, value, path, required: tuple[str, ...], optional: tuple[str, ...] = ()):
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {type(value).__name__}")
        for key in required:
            if key not in value:
                self.fail(path, f"missing field '{key}'")
        unknown = [k for k in value if k not in required + optional]
        if unknown:
            self.fail(
                path + (unknown[0],),
                f"unknown field '{unknown[0]}'",
                hint=f"allowed fields: {', '.join(required + optional)}",
            )
        return value

    def integer(self, value, path, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(path, f"expected a whole number ≥ {minimum}, got {value!r}")
        if value > 2**31 - 1:  # the store's (and Polis's) ids are 32-bit integers
            self.fail(path, f"{value} is too large (at most {2**31 - 1})")
        return value

    def number(self, value, path, low: float | None = None, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {value!r}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer too large for a float
            finite = False
        if not finite:
            self.fail(path, f"expected a finite number, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(path, f"{value} is outside [{low}, {high}]")
        return float(value)

    def text(self, value, path) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "expected non-empty text")
        return value


def constitution_from_yaml(text: str, source: str = "constitution.yaml") -> Constitution:
    """Parse and validate a (possibly user-edited) constitution.yaml."""
    ck = _Checker(text, source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # compose succeeded, so this is a construction error
        raise yaml_error(exc, source, text) from None
    ck.mapping(data, (), ("title", "clauses"), ("format", "provenance"))
    if data.get("format", FORMAT) != FORMAT:
        ck.fail(("format",), f"unsupported format {data['format']!r}", hint=f"expected {FORMAT}")
    title = ck.text(data["title"], ("title",))
    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        ck.fail(("provenance",), "expected a mapping")
    if not isinstance(data["clauses"], list):
        ck.fail(("clauses",), "expected a list of clauses")
    clauses, ids = [], set()
    for i, raw in enumerate(data["clauses"]):
        p = ("clauses", i)
        ck.mapping(raw, p, ("id", "text"), ("statements", "provenance"))
        note = raw.get("provenance") or {}
        if not isinstance(note, dict):
            ck.fail(p + ("provenance",), "expected a mapping")
        cid = str(raw["id"])
        if cid in ids:
            ck.fail(p + ("id",), f"duplicate clause id '{cid}'", hint="clause ids must be unique")
        ids.add(cid)
        evidence = []
        stmts = raw.get("statements") or []
        if not isinstance(stmts, list):
            ck.fail(p + ("statements",), "expected a list of statements")
        for k, s in enumerate(stmts):
            q = p + ("statements", k)
            ck.mapping(
                s, q, ("id", "agree", "disagree", "pass"), ("text", "groups", "gac", "bridging")
            )
            groups = {}
            graw = s.get("groups") or {}
            if not isinstance(graw, dict):
                ck.fail(q + ("groups",), "expected a mapping of group → votes")
            for g, v in graw.items():
                gq = q + ("groups", g)
                ck.mapping(v, gq, ("agree", "disagree", "pass"))
                groups[ck.integer(g, gq)] = GroupVotes(
                    *(ck.integer(v[f], gq + (f,)) for f in ("agree", "disagree", "pass"))
                )
            evidence.append(
                Evidence(
                    statement=ck.integer(s["id"], q + ("id",)),
                    text=str(s.get("text", "")),
                    agree=ck.integer(s["agree"], q + ("agree",)),
                    disagree=ck.integer(s["disagree"], q + ("disagree",)),
                    passes=ck.integer(s["pass"], q + ("pass",)),
                    groups=groups,
                    gac=ck.number(s.get("gac", float("nan")), q + ("gac",), 0, 1)
                    if "gac" in s
                    else float("nan"),
                    bridging=ck.number(s["bridging"], q + ("bridging",))
                    if "bridging" in s
                    else float("nan"),
                )
            )
        clauses.append(
            Clause(
                id=cid,
                text=ck.text(raw["text"], p + ("text",)),
                evidence=tuple(evidence),
                note=note,
            )
        )
    return Constitution(title=title, clauses=tuple(clauses), provenance=provenance)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def constitution_to_markdown(c: Constitution) -> str:
    prov = c.provenance
    lines = [f"# {c.title}", ""]
    if prov:
        lines += [
            f"Drafted by pluralign {prov.get('pluralign_version', '?')} from the votes of "
            f"{sum(prov.get('group_sizes', [])) or '?'} participants in "
            f"{prov.get('n_groups', '?')} opinion groups (input sha256 "
            f"`{str(prov.get('input_sha256', ''))[:12]}`, seed {prov.get('seed', '?')}). "
            "Each clause is a statement that a majority of every opinion group agreed with; "
            "the table under it shows the votes behind it.",
            "",
        ]
    for cl in c.clauses:
        lines += [f"## {cl.id}. {cl.text}", ""]
        if not cl.evidence:
            lines += ["*(added by hand: no votes behind this clause)*", ""]
            continue
        groups = sorted({g for e in cl.evidence for g in e.groups})
        head = ["statement", "agree / disagree / pass"]
        head += [f"group {g} agrees" for g in groups] + ["GAC", "bridging"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for e in cl.evidence:
            row = [f"#{e.statement}", f"{e.agree} / {e.disagree} / {e.passes}"]
            row += [
                f"{_pct(e.groups[g].agreement)} ({e.groups[g].agree}/"
                f"{e.groups[g].agree + e.groups[g].disagree + e.groups[g].passes})"
                if g in e.groups
                else "–"
                for g in groups
            ]
            row += [f"{e.gac:.3f}", f"{e.bridging:+.3f}"]
            lines.append("| " + " | ".join(row) + " |")
        merged = [e for e in cl.evidence[1:] if e.text and e.text != cl.text]
        if merged:
            lines += ["", "Merged near-duplicates:"]
            lines += [f"- #{e.statement}: {e.text}" for e in merged]
        lines.append("")
    return "\n".join(lines)
