"""The constitution document: its types (:class:`Clause`, :class:`Evidence`, :class:`GroupVotes`,
:class:`Constitution`) and its two files, constitution.yaml (editable, validated on load) and
constitution.md (for reading). The drafting (:mod:`pluralign.constitution.draft`), the interview
and every reader of a constitution file build these types; nothing here imports them back.

YAML layout (``format: pluralign-constitution/1``; ``format`` may be left out; ``topics``,
a clause's ``topic``, ``flags`` and ``provenance`` are optional)::

    format: pluralign-constitution/1
    title: Constitution
    provenance: {pluralign_version, input_sha256, seed, n_groups, ..., draft_settings, writer}
    topics: {t1: Parking and roads, t2: ...}    # topic id → name
    clauses:
      - id: c1
        text: The clause text (edit freely).
        topic: t1
        flags:                  # why the clause needs review (see docs/sensemaking.md)
          - {kind: lost_qualifier, detail: drops only (only), by: rule}
        provenance:             # how the wording came about and why statements were merged
          wording: {style: choose, model: smollm2, rejected: [...], fixed: [...]}
          merged: [{statement: 13, with: 12, reason: ..., similarity: 0.91}]
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
from dataclasses import dataclass, field
from typing import Any

import yaml

from pluralign.errors import InputError, at
from pluralign.io import yaml_error

FORMAT = "pluralign-constitution/1"


@dataclass(frozen=True)
class GroupVotes:
    agree: int
    disagree: int
    passes: int

    @property
    def agreement(self) -> float:
        seen = self.agree + self.disagree + self.passes
        return self.agree / seen if seen else 0.0


@dataclass(frozen=True)
class Evidence:
    """One statement behind a clause: its votes overall and per opinion group."""

    statement: int
    text: str
    agree: int
    disagree: int
    passes: int
    groups: dict[int, GroupVotes]
    gac: float
    bridging: float


@dataclass(frozen=True)
class Clause:
    """A constitution clause: its text and the statements (votes) behind it.

    The one clause type: drafted from deliberation (with ``evidence``), read from a hand-written
    or interview-made file (no evidence; :func:`read_clauses`), or
    made up in a test; the LLM layer synthesises preference pairs from it."""

    id: str
    text: str
    evidence: tuple[Evidence, ...] = ()
    note: dict[str, Any] = field(default_factory=dict)
    """Provenance of the wording and the merges (``wording``: style, model, rejected drafts,
    spelling fixed; ``merged``: why each statement joined), and free-form notes of other tools;
    stored under the clause's ``provenance`` key in YAML."""
    topic: str = ""
    """Id of the clause's topic (``Constitution.topics`` names it)."""
    flags: tuple = ()
    """:class:`~pluralign.sensemaking.faithful.Flag` s: why this clause needs review."""

    @property
    def statements(self) -> list[int]:
        return [e.statement for e in self.evidence]

    @property
    def group(self) -> str:
        """The opinion group the clause speaks for, when its provenance names one
        (``provenance: {group: ...}``); else ``""``: a drafted clause is agreed across every
        opinion group."""
        g = self.note.get("group") if isinstance(self.note, dict) else None
        return str(g) if g is not None else ""

    @property
    def gac(self) -> float:
        return self.evidence[0].gac if self.evidence else float("nan")

    @property
    def bridging(self) -> float:
        return self.evidence[0].bridging if self.evidence else float("nan")


@dataclass(frozen=True)
class Constitution:
    """Clauses with provenance; serialise with :meth:`to_yaml`, :meth:`to_markdown`."""

    title: str
    clauses: tuple[Clause, ...]
    provenance: dict[str, Any] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    """Topic id → name, in the order clauses are grouped."""

    @property
    def flagged(self) -> list[Clause]:
        """The clauses with at least one flag, in clause order."""
        return [c for c in self.clauses if c.flags]

    def to_yaml(self) -> str:
        return constitution_to_yaml(self)

    @classmethod
    def from_yaml(cls, text: str, source: str = "constitution.yaml") -> Constitution:
        return constitution_from_yaml(text, source)

    def to_markdown(self) -> str:
        return constitution_to_markdown(self)


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
        **({"topics": dict(c.topics)} if c.topics else {}),
        "clauses": [
            {
                "id": cl.id,
                "text": cl.text,
                **({"topic": cl.topic} if cl.topic else {}),
                **({"flags": [f.to_dict() for f in cl.flags]} if cl.flags else {}),
                **({"provenance": cl.note} if cl.note else {}),
                "statements": [_evidence_dict(e) for e in cl.evidence],
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

    def finite(self, value, path) -> None:
        """Every number in ``value`` (nested mappings and lists) is finite: a provenance records
        settings and figures that readers take as numbers (``.inf`` or ``.nan`` there is a
        broken file, as it is in a statement's ``gac``)."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.finite(item, path + (key,))
        elif isinstance(value, list):
            for k, item in enumerate(value):
                self.finite(item, path + (k,))
        elif isinstance(value, float) and not math.isfinite(value):
            self.fail(path, f"expected a finite number, got {value!r}")

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
    ck.mapping(data, (), ("title", "clauses"), ("format", "provenance", "topics"))
    if data.get("format", FORMAT) != FORMAT:
        ck.fail(("format",), f"unsupported format {data['format']!r}", hint=f"expected {FORMAT}")
    title = ck.text(data["title"], ("title",))
    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        ck.fail(("provenance",), "expected a mapping")
    ck.finite(provenance, ("provenance",))
    topics = data.get("topics") or {}
    if not isinstance(topics, dict):
        ck.fail(("topics",), "expected a mapping of topic id → name")
    topics = {str(k): ck.text(v, ("topics", k)) for k, v in topics.items()}
    if not isinstance(data["clauses"], list):
        ck.fail(("clauses",), "expected a list of clauses")
    clauses, ids = [], set()
    for i, raw in enumerate(data["clauses"]):
        p = ("clauses", i)
        ck.mapping(raw, p, ("id", "text"), ("statements", "provenance", "topic", "flags"))
        topic = str(raw.get("topic") or "")
        if topic and topics and topic not in topics:
            ck.fail(p + ("topic",), f"unknown topic '{topic}'",
                    hint=f"topics: {', '.join(topics)}")
        flags = _flags(ck, raw.get("flags"), p + ("flags",))
        note = raw.get("provenance") or {}
        if not isinstance(note, dict):
            ck.fail(p + ("provenance",), "expected a mapping")
        ck.finite(note, p + ("provenance",))
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
                topic=topic,
                flags=flags,
            )
        )
    return Constitution(
        title=title, clauses=tuple(clauses), provenance=provenance, topics=topics
    )


def _flags(ck: _Checker, raw, path: tuple) -> tuple:
    from pluralign.sensemaking.faithful import KINDS, Flag

    if raw is None:
        return ()
    if not isinstance(raw, list):
        ck.fail(path, "expected a list of flags")
    out = []
    for i, f in enumerate(raw):
        ck.mapping(f, path + (i,), ("kind",), ("detail", "by"))
        if f["kind"] not in KINDS:
            ck.fail(path + (i, "kind"), f"unknown flag kind {f['kind']!r}",
                    hint=f"one of: {', '.join(KINDS)}")
        out.append(Flag.from_dict(f))
    return tuple(out)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _votes_table(cl: Clause) -> list[str]:
    groups = sorted({g for e in cl.evidence for g in e.groups})
    head = ["statement", "agree / disagree / pass"]
    head += [f"group {g} agrees" for g in groups] + ["GAC", "bridging"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
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
    return lines


def _clause_block(cl: Clause, c: Constitution) -> list[str]:
    from pluralign.sensemaking.faithful import KINDS

    lines = [f"### {cl.id}. {cl.text}", ""]
    if cl.flags:
        lines += [f"- **{KINDS.get(f.kind, f.kind)}** ({f.by}): {f.detail}" for f in cl.flags]
        lines.append("")
    wording = cl.note.get("wording") if isinstance(cl.note, dict) else None
    if isinstance(wording, dict):
        by = str(wording.get("by", ""))
        if by == "llm":
            lines.append(f"*Reworded by {wording.get('model')} ({wording.get('style')}).*")
        elif by:
            reason = f" ({wording['reason']})" if wording.get("reason") else ""
            lines.append(f"*Wording: {by}{reason}.*")
        for r in wording.get("rejected") or []:
            why = "; ".join(f.get("detail", f.get("kind", "")) for f in r.get("flags", []))
            lines.append(f"*Rejected draft: “{r.get('text')}” ({why}).*")
        lines.append("")
    if not cl.evidence:
        lines += ["*(added by hand: no votes behind this clause)*", ""]
        return lines
    lines += _votes_table(cl)
    sources = [e for e in cl.evidence if e.text]
    if sources and (len(sources) > 1 or sources[0].text.strip() != cl.text.strip()):
        lines += ["", "Statements, as voted on:"]
        merged = {m.get("statement"): m for m in (cl.note.get("merged") or [])}
        for e in sources:
            why = merged.get(e.statement, {}).get("reason")
            note = f" *(merged: {why})*" if why else ""
            lines.append(f"- #{e.statement}: {e.text.strip()}{note}")
    lines.append("")
    return lines


def constitution_to_markdown(c: Constitution) -> str:
    prov = c.provenance
    lines = [f"# {c.title}", ""]
    if prov:
        lines += [
            f"Drafted by pluralign {prov.get('pluralign_version', '?')} from the votes of "
            f"{sum(prov.get('group_sizes', [])) or '?'} participants in "
            f"{prov.get('n_groups', '?')} opinion groups (input sha256 "
            f"`{str(prov.get('input_sha256', ''))[:12]}`, seed {prov.get('seed', '?')}). "
            "Each clause stands for statements that every opinion group agreed with (the "
            "cross-group consensus rule in draft_settings, docs/sensemaking.md §6: by default "
            "likely 65 % agreeing and at most 15 % disagreeing in every group that voted on "
            "enough statements); the table under it shows the votes behind it.",
            "",
        ]
        if "clauses" in prov:
            w = prov.get("writer") or {}
            writer = w.get("model") or w.get("note") or "no LLM (offline)"
            lines += [
                f"{prov.get('clauses')} clauses from {prov.get('candidates')} consensus "
                f"statements in {len(c.topics)} topics; {prov.get('merged_statements', 0)} "
                f"statements merged into others; {prov.get('reworded', 0)} clauses reworded, "
                f"{prov.get('framed', 0)} statements kept in the style's frame "
                f"({writer}); {prov.get('flagged', 0)} flagged for review.",
                "",
            ]
        excluded = prov.get("excluded") or []
        if excluded:
            lines += [
                f"Left out: {len(excluded)} consensus statement(s) that describe the voter "
                "rather than say what should be (a vote on them says who voted): "
                + "; ".join(f"#{e.get('statement')} “{e.get('text')}”" for e in excluded)
                + ".",
                "",
            ]
    flagged = c.flagged
    if flagged:
        lines += ["## Flagged for review", "",
                  "These clauses may not say exactly what their statements say. Read each "
                  "against its statements and edit constitution.yaml.", ""]
        for cl in flagged:
            lines += _clause_block(cl, c)
    order: list[str] = []
    for cl in c.clauses:
        if cl.topic not in order:
            order.append(cl.topic)
    for topic in order:
        members = [cl for cl in c.clauses if cl.topic == topic and not cl.flags]
        if not members:
            continue
        name = c.topics.get(topic, topic) if topic else "Other"
        if topic or len(order) > 1:
            lines += [f"## {name}", ""]
        for cl in members:
            lines += _clause_block(cl, c)
    return "\n".join(lines)


def read_clauses(path) -> list[Clause]:
    """The clauses of a constitution file, for the commands that use clauses (synthesis, the
    judge, public evaluation, ``constitution diff``).

    A file with ``format:`` is a ``constitution.yaml`` and validated by
    :func:`constitution_from_yaml`. A hand-written file without ``format`` is read leniently:
    ``clauses:`` (or a bare list) of ``{id, text, provenance}`` mappings or plain strings (ids
    ``c1``, ``c2`` ... in order); a clause's ``provenance.group`` sets the opinion group of the
    preference pairs made from it (:attr:`Clause.group`). Ids must be unique, texts non-empty.
    """
    from dataclasses import replace
    from pathlib import Path

    from pluralign.io import parse_yaml, read_text

    path = Path(path)
    text = read_text(path, what="constitution")
    data = parse_yaml(text, str(path))
    if isinstance(data, dict) and "format" in data:
        return [replace(cl, text=cl.text.strip())
                for cl in constitution_from_yaml(text, str(path)).clauses]
    items = data.get("clauses") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise InputError(
            "expected a non-empty 'clauses:' list",
            where=str(path),
            hint="see docs/llm.md, 'Constitution format'",
        )
    clauses: list[Clause] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        if isinstance(item, str):
            item = {"id": f"c{i}", "text": item}
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            raise InputError(f"clause {i} has no text", where=at(path, column=f"clauses[{i}]"))
        cid = str(item.get("id") or f"c{i}")
        if cid in seen:
            raise InputError(
                f"clause id {cid!r} appears twice", where=at(path, column=f"clauses[{i}].id")
            )
        seen.add(cid)
        note = item.get("provenance") or {}
        if not isinstance(note, dict):
            raise InputError(
                "expected a mapping", where=at(path, column=f"clauses[{i}].provenance")
            )
        clauses.append(Clause(cid, str(item["text"]).strip(), note=note))
    return clauses
