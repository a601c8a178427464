"""Preference pairs from a simulated assembly: each panel member chooses between responses.

Interface to the simulator (its output folder, ``pluralign simulate --out DIR``):

- ``DIR/pool.csv``: ``id`` + one column per demographic feature;
- ``DIR/comments.csv``: Polis comments (``comment-id``, ``comment-body``);
- ``DIR/votes.csv``: Polis votes (``comment-id``, ``voter-id``, ``vote``);
- ``DIR/truth.json``: each participant's latent group and the true consensus statements; when it
  also holds per-group stance profiles (probability of agreeing) they are used, otherwise each
  group's stance is estimated from the votes: ``P(agree | g, s) = (A + 1) / (A + D + 2)`` over the
  group's agree (A) and disagree (D) votes (passes ignored).

For a prompt tied to statement *s* (bank or template, :mod:`pluralign.data.prompt_bank`), a member
of latent group *g* prefers the ``agree`` response with probability ``P(agree | g, s)`` (one
Bernoulli draw per member and prompt from ``seed``); chosen = the response of the drawn stance,
rejected = each response of the other stance. A prompt is *consensus* when the truth lists its
statement as consensus (or, without that list, every group agrees, or every group disagrees, with
probability ≥ 0.7), *divisive* when group stances differ by ≥ 0.4, else *mixed*. Prompts (not
pairs) are split into train and held-out, stratified by kind, so no held-out prompt is trained on.
"""

from __future__ import annotations

import json
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
    id: str
    text: str
    topic: str = ""
    slug: str = ""
    agree: Mapping[str, float] = field(default_factory=dict)
    consensus: bool | None = None


@dataclass(frozen=True)
class SimAssembly:
    """What the builder needs from a simulated assembly."""

    demographics: Mapping[str, Mapping[str, str]]
    groups: Mapping[str, str]
    statements: tuple[SimStatement, ...]

    def statement(self, sid: str) -> SimStatement:
        return next(s for s in self.statements if s.id == sid)


def _csv(path: Path):
    import pandas as pd

    if not path.is_file():
        raise InputError("simulator file not found", where=str(path),
                         hint="run `pluralign simulate --out DIR` first")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read CSV ({exc})", where=str(path)) from exc


def _group_map(truth: Mapping[str, Any], path: Path) -> dict[str, str]:
    for key in ("participant_groups", "latent_groups", "groups", "participants"):
        value = truth.get(key)
        if isinstance(value, dict) and value and not all(isinstance(v, dict) for v in
                                                         value.values()):
            return {str(k): str(v) for k, v in value.items()}
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out = {}
            for item in value:
                pid = item.get("id", item.get("participant"))
                grp = item.get("group", item.get("latent_group"))
                if pid is not None and grp is not None:
                    out[str(pid)] = str(grp)
            if out:
                return out
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out = {str(k): str(v.get("group", v.get("latent_group"))) for k, v in value.items()
                   if v.get("group", v.get("latent_group")) is not None}
            if out:
                return out
    raise InputError("truth.json holds no participant → latent group mapping", where=str(path),
                     hint="expected e.g. {\"participant_groups\": {\"0\": \"g0\", ...}}")


def _statement_meta(truth: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    value = truth.get("statements")
    out: dict[str, dict[str, Any]] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("id") is not None:
                out[str(item["id"])] = item
    elif isinstance(value, dict):
        out = {str(k): v for k, v in value.items() if isinstance(v, dict)}
    return out


def _consensus_ids(truth: Mapping[str, Any]) -> set[str] | None:
    for key in ("consensus_statements", "consensus"):
        value = truth.get(key)
        if isinstance(value, list):
            return {str(v) for v in value}
    return None


def load_simulation(sim_dir: str | Path) -> SimAssembly:
    """Read a simulator output folder (see the module docstring for the files used)."""
    d = Path(sim_dir)
    if not d.is_dir():
        raise InputError("simulation folder not found", where=str(d))
    truth_path = d / "truth.json"
    if not truth_path.is_file():
        raise InputError("truth.json not found", where=str(truth_path),
                         hint="the folder must be written by `pluralign simulate`")
    try:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON ({exc.msg})", where=at(truth_path, exc.lineno)) from exc
    groups = _group_map(truth, truth_path)
    pool = _csv(d / "pool.csv")
    if "id" not in pool.columns:
        raise InputError("pool.csv has no 'id' column", where=at(d / "pool.csv", 1))
    features = [c for c in pool.columns if c not in ("id", "group", "latent_group")]
    demographics = {str(r["id"]): {f: str(r[f]) for f in features}
                    for r in pool.to_dict("records")}
    comments = _csv(d / "comments.csv")
    for col in ("comment-id", "comment-body"):
        if col not in comments.columns:
            raise InputError(f"comments.csv has no '{col}' column", where=at(d / "comments.csv", 1))
    meta = _statement_meta(truth)
    consensus = _consensus_ids(truth)
    votes = _csv(d / "votes.csv")
    for col in ("comment-id", "voter-id", "vote"):
        if col not in votes.columns:
            raise InputError(f"votes.csv has no '{col}' column", where=at(d / "votes.csv", 1))
    votes = votes.assign(group=votes["voter-id"].map(groups), vote=votes["vote"].astype(int))
    counts = votes[votes["vote"] != 0].groupby(["comment-id", "group"])["vote"]
    agrees = counts.apply(lambda v: int((v == 1).sum())).to_dict()
    totals = counts.size().to_dict()
    group_names = sorted(set(groups.values()))
    statements = []
    for row in comments.to_dict("records"):
        sid = str(row["comment-id"])
        m = meta.get(sid, {})
        profile = m.get("agree") or m.get("stance") or m.get("profile")
        if isinstance(profile, dict) and profile:
            agree = {str(g): float(p) for g, p in profile.items()}
        else:
            agree = {g: (agrees.get((sid, g), 0) + 1) / (totals.get((sid, g), 0) + 2)
                     for g in group_names}
        statements.append(SimStatement(
            sid, str(row["comment-body"]), str(m.get("topic", "")), str(m.get("slug", "")),
            agree, (sid in consensus) if consensus is not None else m.get("consensus")))
    return SimAssembly(demographics, groups, tuple(statements))


def prompt_kind(statement: SimStatement) -> str:
    """``consensus``, ``divisive`` or ``mixed`` (thresholds in the module docstring)."""
    p = np.asarray(list(statement.agree.values()), dtype=float)
    spread = float(p.max() - p.min()) if p.size else 0.0
    if statement.consensus is True:
        return "consensus"
    if statement.consensus is None and p.size and (
            p.min() >= CONSENSUS_LEVEL or p.max() <= 1 - CONSENSUS_LEVEL):
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


def resolve_prompts(assembly: SimAssembly, bank: Sequence[BankPrompt], *,
                    templates: str = "all") -> list[tuple[BankPrompt, str]]:
    """Bank prompts whose primary statement exists in the assembly (with that statement's id),
    then template prompts: for every statement (``all``), for statements no bank prompt covers
    (``missing``) or none (``none``)."""
    if templates not in TEMPLATE_MODES:
        raise InputError(f"unknown template mode '{templates}'",
                         hint=f"use one of {', '.join(TEMPLATE_MODES)}")
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
        from pluralign.simulate.bank import load_bank as load_statement_bank
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


def build_sim_preferences(assembly: SimAssembly, bank: Sequence[BankPrompt], *,
                          members: Sequence[str] | None = None, seed: int = 0,
                          heldout_fraction: float = 0.3, templates: str = "all",
                          prompts_per_member: int | None = None,
                          opinion_groups: Mapping[str, str] | None = None) -> SimPreferences:
    """Every member's choice on every (or ``prompts_per_member`` random) prompt(s).

    ``members``: the panel (default: everyone in the truth's group map); ``opinion_groups``:
    participant → estimated opinion group (e.g. the aggregation's groups.csv; default: the latent
    group). The pair's ``group`` column is the opinion group."""
    resolved = resolve_prompts(assembly, bank, templates=templates)
    if not resolved:
        raise InputError("no prompt matches any statement of the simulated assembly",
                         hint="use template prompts (--templates all) or another bank")
    members = [str(m) for m in (members if members is not None else sorted(assembly.groups))]
    unknown = [m for m in members if m not in assembly.groups]
    if unknown:
        raise InputError(f"{len(unknown)} panel member(s) not in the simulation, e.g. "
                         f"'{unknown[0]}'", hint="the panel must be drawn from this pool")
    statements = {s.id: s for s in assembly.statements}
    kinds = {p.id: prompt_kind(statements[sid]) for p, sid in resolved}
    split = split_prompts(kinds, heldout_fraction, seed)
    rng = np.random.default_rng([seed, 1])
    train: list[PreferencePair] = []
    held: list[PreferencePair] = []
    n_prompts = len(resolved)
    for member in members:
        latent = assembly.groups[member]
        opinion = (opinion_groups or {}).get(member, latent)
        if prompts_per_member is not None and prompts_per_member < n_prompts:
            chosen_idx = sorted(rng.choice(n_prompts, size=prompts_per_member, replace=False))
        else:
            chosen_idx = range(n_prompts)
        draws = rng.random(n_prompts)
        for i in chosen_idx:
            prompt, sid = resolved[i]
            s = statements[sid]
            p_agree = float(s.agree.get(latent, 0.5))
            stance = "agree" if draws[i] < p_agree else "disagree"
            other = "disagree" if stance == "agree" else "agree"
            options = prompt.by_stance(stance)
            picked = options[0] if len(options) == 1 else options[int(rng.integers(len(options)))]
            for rejected in prompt.by_stance(other):
                pair = PreferencePair(
                    prompt.prompt, picked.text, rejected.text, 1.0, str(opinion), "sim",
                    {"participant": member, "opinion_group": str(opinion),
                     "latent_group": latent, "demographics": dict(assembly.demographics.get(
                         member, {})), "prompt_id": prompt.id, "statement_ids": [sid],
                     "topic": prompt.topic or s.topic, "kind": kinds[prompt.id],
                     "split": split[prompt.id], "choice": stance, "prompt_origin": prompt.origin})
                (held if split[prompt.id] == "heldout" else train).append(pair)
    infos = tuple(PromptInfo(p.id, sid, kinds[p.id], split[p.id], p.origin) for p, sid in resolved)
    details = {"members": len(members), "prompts": n_prompts,
               "bank_prompts": sum(1 for p, _ in resolved if p.origin == "bank"),
               "template_prompts": sum(1 for p, _ in resolved if p.origin == "template"),
               "kinds": {k: sum(1 for v in kinds.values() if v == k) for k in sorted(
                   set(kinds.values()))}}
    return SimPreferences(tuple(train), tuple(held), infos, details)
