"""Preference pairs from a simulated assembly: each panel member chooses between responses.

Interface to the simulator (its output folder, ``pluralign simulate --out DIR``):

- ``DIR/pool.csv``: ``id`` + one column per demographic feature (people are keyed by this id,
  the one a sortition panel uses);
- ``DIR/comments.csv``: Polis comments (``comment-id``, ``comment-body``, ``moderated``);
- ``DIR/truth.json``: ``groups`` [{id}], ``participants`` [{participant (Polis voter id), id
  (pool id), group, membership [one weight per group]}], ``statements`` [{comment-id, slug, topic,
  category, stance {group: {agree, disagree, pass}}}] and the lists ``consensus``,
  ``consensus_against``, ``divisive`` of comment ids;
- ``DIR/votes.csv``: Polis votes, used only when the truth has no stance profiles: then each
  group's stance is estimated as ``(A + 1) / (A + D + 2)`` over its agree (A) and disagree (D)
  votes (passes ignored).

For a prompt tied to statement *s* (bank or template, :mod:`pluralign.data.prompt_bank`), a member
prefers the ``agree`` response with probability ``Σ_g m_g·a_g(s) / Σ_g m_g`` where ``a_g(s) =
P(agree) / (P(agree) + P(disagree))`` in latent group *g* and ``m`` the member's membership (just
their group when the truth gives none): one Bernoulli draw per member and prompt from ``seed``.
Chosen = the response of the drawn stance, rejected = each response of the other stance. The
prompt's *kind* is the truth's category of its statement (consensus, consensus-against,
divisive, mixed); without one, *consensus* when every group agrees (or every group disagrees)
with probability ≥ 0.7, *divisive* when group stances differ by ≥ 0.4, else *mixed*. Prompts
(not pairs) are split into train and held-out, stratified by kind, so no held-out prompt is
trained on.

*Unseen statements* (:func:`unseen_statements`, optional): the simulator's statement bank holds
more statements than a conversation draws (174, of them 25 divisive, for a 60-statement
conversation with about 5). Those the conversation did not include can be added as held-out
prompts of kind ``unseen-<kind>`` (their bank prompts, else template prompts), each member's
choice drawn from the same stance model with the bank's stance profile; they use their own
random stream, so the conversation's pairs, and so the training data, are the same with or
without them. A conversation's held-out divisive prompts are one or two statements; these
give a held-out set of about twenty divisive issues the panel never discussed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair
from pluralign.data.prompt_bank import (
    BankPrompt,
    match_statement,
    statement_index,
    template_prompts,
)
from pluralign.errors import InputError, at

CONSENSUS_LEVEL = 0.7
DIVISIVE_SPREAD = 0.4


@dataclass(frozen=True)
class SimStatement:
    """A statement with each latent group's stance: ``agree[g]`` = P(agree | g) / P(agree or
    disagree | g), the probability of preferring the agreeing response in a forced choice;
    ``kind`` the truth's category (consensus, consensus-against, divisive, mixed) if known."""

    id: str
    text: str
    topic: str = ""
    slug: str = ""
    agree: Mapping[str, float] = field(default_factory=dict)
    consensus: bool | None = None
    kind: str = ""


@dataclass(frozen=True)
class SimAssembly:
    """What the builder needs from a simulated assembly. People are keyed by their pool id;
    ``membership`` (optional) mixes several latent groups' stances for one person."""

    demographics: Mapping[str, Mapping[str, str]]
    groups: Mapping[str, str]
    statements: tuple[SimStatement, ...]
    membership: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    voters: Mapping[str, str] = field(default_factory=dict)
    """Polis voter id → pool id (the aggregation's groups.csv uses voter ids)."""

    def pool_id(self, key: str) -> str | None:
        """A pool id for a pool id or a Polis voter id (None if neither)."""
        if key in self.groups:
            return key
        return self.voters.get(key)

    def statement(self, sid: str) -> SimStatement:
        return next(s for s in self.statements if s.id == sid)

    def p_agree(self, person: str, statement: SimStatement) -> float:
        """P(person prefers the agreeing response): the group stances mixed by membership."""
        mix = self.membership.get(person)
        if not mix:
            return float(statement.agree.get(self.groups[person], 0.5))
        total = sum(mix.values())
        return float(sum(w * statement.agree.get(g, 0.5) for g, w in mix.items()) / total)


def _csv(path: Path):

    if not path.is_file():
        raise InputError(
            "simulator file not found",
            where=str(path),
            hint="run `pluralign simulate --out DIR` first",
        )
    from pluralign.csvtable import read_table

    return read_table(path).frame()


def _people(truth: Mapping[str, Any], path: Path, group_ids: Sequence[str]):
    """(pool id → group, Polis voter id → pool id, pool id → membership) from the truth."""
    groups: dict[str, str] = {}
    voters: dict[str, str] = {}
    membership: dict[str, dict[str, float]] = {}
    for key in ("participants", "participant_groups", "latent_groups"):
        value = truth.get(key)
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, dict):
                    continue
                pid = item.get("id", item.get("participant"))
                grp = item.get("group", item.get("latent_group"))
                if pid is None or grp is None:
                    continue
                groups[str(pid)] = str(grp)
                voters[str(item.get("participant", pid))] = str(pid)
                mem = item.get("membership")
                if isinstance(mem, list) and len(mem) == len(group_ids):
                    membership[str(pid)] = {
                        g: float(w) for g, w in zip(group_ids, mem, strict=True)
                    }
        elif isinstance(value, dict):
            for pid, grp in value.items():
                groups[str(pid)] = str(grp.get("group") if isinstance(grp, dict) else grp)
                voters[str(pid)] = str(pid)
        if groups:
            return groups, voters, membership
    raise InputError(
        "truth.json holds no participant → latent group mapping",
        where=str(path),
        hint='expected "participants": [{"id": ..., "group": ...}, ...]',
    )


def _stance(value: Any) -> float | None:
    """P(agree | agree or disagree) from ``{"agree": a, "disagree": d, ...}`` or a number."""
    if isinstance(value, dict) and "agree" in value:
        a, d = float(value["agree"]), float(value.get("disagree", 1 - float(value["agree"])))
        return a / (a + d) if a + d > 0 else 0.5
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def load_simulation(sim_dir: str | Path) -> SimAssembly:
    """Read a simulator output folder (see the module docstring for the files used).

    Statements the moderator rejected (``moderated`` = -1) and the truth's ``junk`` category are
    left out."""
    d = Path(sim_dir)
    if not d.is_dir():
        raise InputError("simulation folder not found", where=str(d))
    truth_path = d / "truth.json"
    if not truth_path.is_file():
        raise InputError(
            "truth.json not found",
            where=str(truth_path),
            hint="the folder must be written by `pluralign simulate`",
        )
    from pluralign.io import read_json

    truth = read_json(truth_path)
    if not isinstance(truth, dict):
        raise InputError("truth.json must hold a JSON object", where=str(truth_path))
    group_ids = [str(g["id"]) for g in truth.get("groups", []) if isinstance(g, dict) and "id" in g]
    groups, voters, membership = _people(truth, truth_path, group_ids)
    pool = _csv(d / "pool.csv")
    if "id" not in pool.columns:
        raise InputError("pool.csv has no 'id' column", where=at(d / "pool.csv", 1))
    features = [c for c in pool.columns if c not in ("id", "group", "latent_group")]
    demographics = {str(r["id"]): {f: str(r[f]) for f in features} for r in pool.to_dict("records")}
    comments = _csv(d / "comments.csv")
    for col in ("comment-id", "comment-body"):
        if col not in comments.columns:
            raise InputError(f"comments.csv has no '{col}' column", where=at(d / "comments.csv", 1))
    meta: dict[str, dict[str, Any]] = {}
    for item in truth.get("statements") or []:
        if isinstance(item, dict):
            sid = item.get("comment-id", item.get("id"))
            if sid is not None:
                meta[str(sid)] = item
    categories: dict[str, str] = {}
    for kind in ("consensus", "consensus_against", "divisive"):
        for sid in truth.get(kind) or []:
            categories[str(sid)] = kind.replace("_", "-")
    has_lists = any(isinstance(truth.get(k), list) for k in ("consensus", "consensus_statements"))
    for sid in truth.get("consensus_statements") or []:
        categories[str(sid)] = "consensus"
    estimated = None
    statements = []
    for row in comments.to_dict("records"):
        sid = str(row["comment-id"])
        m = meta.get(sid, {})
        if str(row.get("moderated", "1")).strip() == "-1" or m.get("category") == "junk":
            continue
        profile = m.get("stance") or m.get("agree")
        agree = (
            {str(g): p for g, v in profile.items() if (p := _stance(v)) is not None}
            if isinstance(profile, dict)
            else {}
        )
        if not agree:
            if estimated is None:
                estimated = _estimate_stances(d, voters, groups)
            agree = estimated.get(sid, {})
        kind = categories.get(sid) or (str(m["category"]) if m.get("category") else "")
        consensus = (kind == "consensus") if (has_lists or kind) else None
        statements.append(
            SimStatement(
                sid,
                str(row["comment-body"]),
                str(m.get("topic", "")),
                str(m.get("slug", "")),
                agree,
                consensus,
                kind,
            )
        )
    return SimAssembly(demographics, groups, tuple(statements), membership, voters)


def _estimate_stances(
    d: Path, voters: Mapping[str, str], groups: Mapping[str, str]
) -> dict[str, dict[str, float]]:
    """(A + 1) / (A + D + 2) per statement and latent group from votes.csv (passes ignored)."""
    votes = _csv(d / "votes.csv")
    for col in ("comment-id", "voter-id", "vote"):
        if col not in votes.columns:
            raise InputError(f"votes.csv has no '{col}' column", where=at(d / "votes.csv", 1))
    person = votes["voter-id"].map(lambda v: voters.get(str(v), str(v)))
    votes = votes.assign(group=person.map(groups), vote=votes["vote"].astype(int))
    votes = votes[votes["vote"] != 0].dropna(subset=["group"])
    out: dict[str, dict[str, float]] = {}
    names = sorted(set(groups.values()))
    for (sid, grp), v in votes.groupby(["comment-id", "group"])["vote"]:
        out.setdefault(str(sid), {})[str(grp)] = (int((v == 1).sum()) + 1) / (len(v) + 2)
    for sid in out:
        for g in names:
            out[sid].setdefault(g, 0.5)
    return out


def prompt_kind(statement: SimStatement) -> str:
    """The truth's category if known, else ``consensus``, ``divisive`` or ``mixed`` by the
    thresholds in the module docstring."""
    if statement.kind:
        return statement.kind
    p = np.asarray(list(statement.agree.values()), dtype=float)
    spread = float(p.max() - p.min()) if p.size else 0.0
    if statement.consensus is True:
        return "consensus"
    if (
        statement.consensus is None
        and p.size
        and (p.min() >= CONSENSUS_LEVEL or p.max() <= 1 - CONSENSUS_LEVEL)
    ):
        return "consensus"
    return "divisive" if spread >= DIVISIVE_SPREAD else "mixed"


@dataclass(frozen=True)
class PromptInfo:
    id: str
    statement: str
    kind: str
    split: str
    origin: str


@dataclass(frozen=True)
class SimPreferences:
    """Train and held-out pairs plus a record of every prompt used."""

    train: tuple[PreferencePair, ...]
    heldout: tuple[PreferencePair, ...]
    prompts: tuple[PromptInfo, ...]
    details: Mapping[str, Any] = field(default_factory=dict)


TEMPLATE_MODES = ("all", "missing", "none")


def resolve_prompts(
    assembly: SimAssembly, bank: Sequence[BankPrompt], *, templates: str = "all"
) -> list[tuple[BankPrompt, str]]:
    """Bank prompts whose primary statement exists in the assembly (with that statement's id),
    then template prompts: for every statement (``all``), for statements no bank prompt covers
    (``missing``) or none (``none``)."""
    if templates not in TEMPLATE_MODES:
        raise InputError(
            f"unknown template mode '{templates}'", hint=f"use one of {', '.join(TEMPLATE_MODES)}"
        )
    by_id = {s.id: s for s in assembly.statements}
    index = statement_index(assembly.statements)
    index.update({k: v for k, v in _simulator_slugs(assembly).items() if k not in index})
    out: list[tuple[BankPrompt, str]] = []
    covered: set[str] = set()
    for p in bank:
        sid = match_statement(p.statements[0], by_id, index)
        if sid is not None:
            out.append((p, sid))
            covered.add(sid)
    if templates != "none":
        for s in assembly.statements:
            if templates == "all" or s.id not in covered:
                out += [(p, s.id) for p in template_prompts(s.id, s.text, s.topic)]
    return out


def _simulator_slugs(assembly: SimAssembly) -> dict[str, str]:
    """slug → statement id through the simulator's own statement bank, when the simulator is
    installed and the assembly's statement texts come from it (its Polis files carry no slug)."""
    try:
        from pluralign.formats.statement_bank import load_bank as load_statement_bank
    except ImportError:
        return {}
    by_text = {s.text.strip(): s.id for s in assembly.statements}
    bank = load_statement_bank()
    return {b.slug: by_text[b.text.strip()] for b in bank.statements if b.text.strip() in by_text}


def split_prompts(kinds: Mapping[str, str], heldout_fraction: float, seed: int) -> dict[str, str]:
    """prompt id → ``train``/``heldout``: within each kind, a seeded shuffle puts
    ``round(fraction · n)`` prompts (at least one when n ≥ 2) in held-out."""
    if not 0 <= heldout_fraction < 1:
        raise InputError(f"held-out fraction must be in [0, 1), got {heldout_fraction}")
    rng = np.random.default_rng(seed)
    split: dict[str, str] = {}
    for kind in sorted(set(kinds.values())):
        ids = sorted(k for k, v in kinds.items() if v == kind)
        order = rng.permutation(len(ids))
        n_held = round(heldout_fraction * len(ids))
        if heldout_fraction > 0 and len(ids) >= 2:
            n_held = max(n_held, 1)
        for rank, i in enumerate(order):
            split[ids[i]] = "heldout" if rank < n_held else "train"
    return split


UNSEEN_PREFIX = "unseen-"
"""Prompt kinds of unseen statements: ``unseen-divisive`` etc."""


def unseen_statements(sim_dir: str | Path, assembly: SimAssembly, kind: str) -> list[SimStatement]:
    """The simulator bank's statements the conversation in ``sim_dir`` did not include, of
    ``kind`` (``divisive``, or ``all`` kinds; junk never), with the bank's stance profiles as
    ``agree`` (P(agree) / P(agree or disagree) per latent group). The bank is the one the
    simulation used (``truth.json`` provenance: path and SHA-256, which must match)."""
    from pluralign.formats.statement_bank import JUNK, load_bank
    from pluralign.io import read_json

    truth_path = Path(sim_dir) / "truth.json"
    prov = (read_json(truth_path, what="simulation truth") or {}).get("provenance") or {}
    if prov.get("generator") != "pluralign.simulate":
        raise InputError(
            "unseen statements need a simulation written by `pluralign simulate`",
            where=str(truth_path),
            hint="set data.heldout_unseen: none for this input",
        )
    bank = load_bank((prov.get("config") or {}).get("bank_path"))
    if prov.get("bank_sha256") not in (None, bank.sha256):
        raise InputError(
            "the simulator's statement bank changed since this simulation was written",
            where=str(truth_path),
            hint="simulate again, or set data.heldout_unseen: none",
        )
    group_ids = [g.id for g in bank.groups]
    missing = sorted(set(assembly.groups.values()) - set(group_ids))
    if missing:
        raise InputError(
            f"latent group(s) {', '.join(missing)} are not in the statement bank",
            where=str(truth_path),
        )
    seen = {st.text.strip() for st in assembly.statements}
    out = []
    for b in bank.statements:
        if b.kind == JUNK or b.text.strip() in seen or kind not in ("all", b.category):
            continue
        a, d = b.profile[:, 0], b.profile[:, 1]
        agree = {g: float(x / (x + y)) if x + y > 0 else 0.5
                 for g, x, y in zip(group_ids, a, d, strict=True)}
        out.append(SimStatement(f"bank:{b.slug}", b.text, b.topic, b.slug, agree, None,
                                UNSEEN_PREFIX + b.category))
    return out


def _unseen_prompts(
    statements: Sequence[SimStatement], bank: Sequence[BankPrompt], templates: str
) -> list[tuple[BankPrompt, str]]:
    """Prompts for unseen statements: the bank prompts whose primary statement is theirs (by
    slug), template prompts for the others (unless ``templates`` is ``none``)."""
    out: list[tuple[BankPrompt, str]] = []
    for s in statements:
        own = [p for p in bank if p.statements[0] in (s.slug, s.text)]
        if not own and templates != "none":
            own = template_prompts(s.id, s.text, s.topic)
        out += [(p, s.id) for p in own]
    return out


def build_sim_preferences(
    assembly: SimAssembly,
    bank: Sequence[BankPrompt],
    *,
    members: Sequence[str] | None = None,
    seed: int = 0,
    heldout_fraction: float = 0.3,
    templates: str = "all",
    prompts_per_member: int | None = None,
    opinion_groups: Mapping[str, str] | None = None,
    unseen: Sequence[SimStatement] = (),
    unseen_fraction: float = 0.1,
) -> SimPreferences:
    """Every member's choice on every (or ``prompts_per_member`` random) prompt(s).

    ``members``: the panel (default: everyone in the truth's group map); ``opinion_groups``:
    participant (pool id or Polis voter id) → estimated opinion group (e.g. the aggregation's
    groups.csv; ``-1``, not clustered, becomes ``unclustered``; people it lacks keep their latent
    group). The pair's ``group`` column is the opinion group. ``unseen``: statements outside the
    conversation (:func:`unseen_statements`), held out only; each member answers the same share
    of their prompts as of the conversation's (all with ``prompts_per_member`` None).
    ``unseen_fraction``: the share of the conversation's statements (per kind) held back with
    all their prompts (:func:`pluralign.data.split.held_back_statements`); ``heldout_fraction``
    then splits the other statements' prompts. Each held-out pair's ``heldout_part`` says
    whether its statement is trained under another wording (``new-wording``) or not at all
    (``unseen-statement``; the bank statements of ``unseen`` too)."""
    resolved = resolve_prompts(assembly, bank, templates=templates)
    if not resolved:
        raise InputError(
            "no prompt matches any statement of the simulated assembly",
            hint="use template prompts (--templates all) or another bank",
        )
    members = [str(m) for m in (members if members is not None else sorted(assembly.groups))]
    unknown = [m for m in members if m not in assembly.groups]
    if unknown:
        raise InputError(
            f"{len(unknown)} panel member(s) not in the simulation, e.g. '{unknown[0]}'",
            hint="the panel must be drawn from this pool",
        )
    opinions: dict[str, str] = {}
    for key, value in (opinion_groups or {}).items():
        pid = assembly.pool_id(str(key))
        if pid is not None:
            # aggregation writes an empty group for a participant it did not cluster
            unclustered = str(value).strip() in ("-1", "", "nan", "None")
            opinions[pid] = "unclustered" if unclustered else str(value)
    if opinion_groups and not opinions:
        raise InputError(
            "no participant of the opinion groups is in the simulation",
            hint="groups.csv must come from this simulation's votes",
        )
    from pluralign.data.split import held_back_statements, heldout_part

    statements = {s.id: s for s in assembly.statements}
    kinds = {p.id: prompt_kind(statements[sid]) for p, sid in resolved}
    back = held_back_statements({sid: kinds[p.id] for p, sid in resolved}, unseen_fraction, seed)
    split = split_prompts({p.id: kinds[p.id] for p, sid in resolved if sid not in back},
                          heldout_fraction, seed)
    split.update({p.id: "heldout" for p, sid in resolved if sid in back})
    trained = {sid for p, sid in resolved if split[p.id] == "train"}
    parts = {p.id: heldout_part(sid, trained) for p, sid in resolved if split[p.id] == "heldout"}
    extra = _unseen_prompts(unseen, bank, templates)
    for p, sid in extra:
        if p.id in kinds:
            raise InputError(f"prompt id '{p.id}' of an unseen statement is already in use")
        statements[sid] = next(s for s in unseen if s.id == sid)
        kinds[p.id], split[p.id] = statements[sid].kind, "heldout"
        parts[p.id] = heldout_part(sid, trained)
    n_extra = len(extra)
    rng = np.random.default_rng([seed, 1])
    extra_rng = np.random.default_rng([seed, 2])  # unseen prompts leave the others' draws as is
    train: list[PreferencePair] = []
    held: list[PreferencePair] = []
    n_prompts = len(resolved)
    share = None if prompts_per_member is None else min(prompts_per_member / n_prompts, 1.0)
    for member in members:
        latent = assembly.groups[member]
        opinion = opinions.get(member, latent)
        if prompts_per_member is not None and prompts_per_member < n_prompts:
            chosen_idx = sorted(rng.choice(n_prompts, size=prompts_per_member, replace=False))
        else:
            chosen_idx = range(n_prompts)
        draws = rng.random(n_prompts)
        choices = [(resolved[i], draws[i], rng) for i in chosen_idx]
        if n_extra:
            k = n_extra if share is None else max(1, round(share * n_extra))
            extra_idx = sorted(extra_rng.choice(n_extra, size=k, replace=False))
            extra_draws = extra_rng.random(n_extra)
            choices += [(extra[i], extra_draws[i], extra_rng) for i in extra_idx]
        for (prompt, sid), draw, stream in choices:
            s = statements[sid]
            p_agree = assembly.p_agree(member, s)
            stance = "agree" if draw < p_agree else "disagree"
            other = "disagree" if stance == "agree" else "agree"
            options = prompt.by_stance(stance)
            picked = (options[0] if len(options) == 1
                      else options[int(stream.integers(len(options)))])
            for rejected in prompt.by_stance(other):
                pair = PreferencePair(
                    prompt.prompt,
                    picked.text,
                    rejected.text,
                    1.0,
                    str(opinion),
                    "sim",
                    {
                        "participant": member,
                        "opinion_group": str(opinion),
                        "latent_group": latent,
                        "demographics": dict(assembly.demographics.get(member, {})),
                        "prompt_id": prompt.id,
                        "statement_ids": [sid],
                        "topic": prompt.topic or s.topic,
                        "kind": kinds[prompt.id],
                        "split": split[prompt.id],
                        **({"heldout_part": parts[prompt.id]} if prompt.id in parts else {}),
                        "choice": stance,
                        "prompt_origin": prompt.origin,
                    },
                )
                (held if split[prompt.id] == "heldout" else train).append(pair)
    infos = tuple(
        PromptInfo(p.id, sid, kinds[p.id], split[p.id], p.origin) for p, sid in [*resolved, *extra]
    )
    details = {
        "members": len(members),
        "prompts": n_prompts,
        **({"unseen_statements": len(unseen), "unseen_prompts": n_extra} if unseen else {}),
        "held_back_statements": sorted(back),
        "heldout_parts": {part: sum(1 for v in parts.values() if v == part)
                          for part in sorted(set(parts.values()))},
        "bank_prompts": sum(1 for p, _ in resolved if p.origin == "bank"),
        "template_prompts": sum(1 for p, _ in resolved if p.origin == "template"),
        "kinds": {k: sum(1 for v in kinds.values() if v == k) for k in sorted(set(kinds.values()))},
    }
    return SimPreferences(tuple(train), tuple(held), infos, details)


BALANCE_UNITS = ("pair", "prompt")
"""What :func:`balance_choices` balances: each pair's chosen side, or each prompt's majority."""


def balance_choices(pairs: Sequence[PreferencePair], unit: str = "pair"
                    ) -> list[PreferencePair]:
    """Reweight pairs so that those whose chosen response is the ``agree`` one and those whose
    chosen response is the ``disagree`` one carry equal total weight (mean weight stays 1).

    ``unit="prompt"`` (:func:`balance_prompts`) balances prompts instead of pairs: it keeps
    every prompt's own split between the two responses, so the panel's majority on a prompt is
    never overturned; the pair unit can overturn it (a prompt 70 % for in an assembly 75 % for
    on the whole ends up trained "against").

    Why: most statements of an assembly are agreed with, so most pairs choose the agreeing
    response; a model trained on them can fit "prefer the agreeing side" as a prior and then gets
    worse on prompts whose statement every group rejects. With both sides weighing the same,
    that prior earns nothing and only the content of the prompt tells the sides apart. Within
    each side the weights keep their ratios (panel weighting is untouched). Pairs without a
    ``choice`` in their provenance, or a side with no pair, leave the weights unchanged."""
    if unit not in BALANCE_UNITS:
        raise ValueError(f"balance unit must be one of {BALANCE_UNITS}, got {unit!r}")
    if unit == "prompt":
        return balance_prompts(pairs)
    sides = [p.provenance.get("choice") for p in pairs]
    totals = {
        c: sum(p.weight for p, s in zip(pairs, sides, strict=True) if s == c)
        for c in ("agree", "disagree")
    }
    if any(s not in totals for s in sides) or not all(t > 0 for t in totals.values()):
        return list(pairs)
    total = totals["agree"] + totals["disagree"]
    scale = {c: total / (2 * t) for c, t in totals.items()}
    out = [p.with_weight(p.weight * scale[s]) for p, s in zip(pairs, sides, strict=True)]
    mean = sum(p.weight for p in out) / len(out)
    return [p.with_weight(round(p.weight / mean, 12)) for p in out]


def simulator_views() -> dict[str, str]:
    """The simulator's latent groups' views (statement bank names and descriptions)."""
    from pluralign.formats.statement_bank import load_bank

    return {
        g.id: f"{g.name}: {g.description}".rstrip(": ").rstrip(".") + "."
        for g in load_bank().groups
    }


def balance_prompts(pairs: Sequence[PreferencePair]) -> list[PreferencePair]:
    """Reweight whole prompts so that the prompts whose weighted majority chose the ``agree``
    response and those whose majority chose ``disagree`` carry equal total weight (mean weight
    stays 1).

    A prompt is its ``provenance.prompt_id`` (else its text); its side is the response whose
    pairs weigh more (a tie: no side, its weights are only rescaled with the rest). All the
    pairs of one side's prompts are scaled by one factor, so within a prompt the two responses
    keep their ratio: what the panel chose on each prompt stays what the data teaches, while
    "prefer the agreeing side" as a prior earns as much as "prefer the disagreeing side".
    Pairs without a ``choice``, or no prompt on one of the two sides, leave the weights
    unchanged."""
    if any(p.provenance.get("choice") not in ("agree", "disagree") for p in pairs):
        return list(pairs)
    keys = [str(p.provenance.get("prompt_id") or p.prompt) for p in pairs]
    net: dict[str, float] = {}
    for p, k in zip(pairs, keys, strict=True):
        net[k] = net.get(k, 0.0) + (p.weight if p.provenance["choice"] == "agree" else -p.weight)
    side = {k: "agree" if v > 0 else "disagree" if v < 0 else "" for k, v in net.items()}
    totals = {c: sum(p.weight for p, k in zip(pairs, keys, strict=True) if side[k] == c)
              for c in ("agree", "disagree")}
    if not all(t > 0 for t in totals.values()):
        return list(pairs)
    both = totals["agree"] + totals["disagree"]
    scale = {c: both / (2 * t) for c, t in totals.items()} | {"": 1.0}
    out = [p.with_weight(p.weight * scale[side[k]]) for p, k in zip(pairs, keys, strict=True)]
    mean = sum(p.weight for p in out) / len(out)
    return [p.with_weight(round(p.weight / mean, 12)) for p in out]
