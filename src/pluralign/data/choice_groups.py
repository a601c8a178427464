"""Opinion groups from the panel's votes *and* their preference choices (``data.group_source:
votes+choices``).

The aggregation clusters the panel on their votes alone. On the demo's simulated assembly that
is about 20 votes a head, most on statements every group agrees with, and the opinion groups it
finds barely match the latent groups that evaluation measures (adjusted Rand index −0.03 to
0.15; docs/training.md §12). Each member's choices between preference responses are further
evidence of their group: a simulated member chooses the agreeing response of a prompt about
statement *s* with the probability of agreeing with *s*, so a choice is one more draw of their
stance on *s*.

The rule (:func:`vote_choice_groups`): a member's entry for statement *s* is the mean of their
vote on *s* (agree 1, disagree −1, pass 0; none if they did not vote) and their *training*
choices on prompts about *s* (1 when they chose the agreeing response, −1 when the disagreeing
one; one per prompt, however many pairs it made). Held-out choices are never used: they are what
evaluation scores. Then the aggregation's own method on that matrix: the sparsity-aware PCA
(:class:`~pluralign.aggregate.pca.PolisPCA`) and the Polis clusterer
(:class:`~pluralign.aggregate.clusters.PolisClusterer`) with the aggregation's default settings,
seeded. Every member with a vote or a choice is clustered (no ``unclustered`` group); groups are
numbered by size, ``0`` the largest, as in ``groups.csv``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair
from pluralign.errors import InputError

_STANCE = {"agree": 1.0, "disagree": -1.0}


@dataclass(frozen=True)
class ChoiceGroups:
    """Each member's group (``labels``: member → ``"0"``, ``"1"``, …) and how they were found."""

    labels: Mapping[str, str]
    details: Mapping[str, Any] = field(default_factory=dict)


def choice_entries(pairs: Sequence[PreferencePair]) -> dict[tuple[str, str], dict[str, float]]:
    """(member, statement) → {prompt id: +1 agreeing choice / −1 disagreeing} from the training
    pairs' provenance (``participant``, ``prompt_id``, ``statement_ids``, ``choice``): one entry
    per prompt, whatever the number of pairs it made. A pair without those fields is an error
    naming it."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for i, pair in enumerate(pairs, 1):
        prov = pair.provenance or {}
        member, prompt, sids = prov.get("participant"), prov.get("prompt_id"), prov.get(
            "statement_ids")
        stance = _STANCE.get(str(prov.get("choice")))
        if member is None or prompt is None or not sids or stance is None:
            raise InputError(
                f"training pair {i} has no participant, prompt_id, statement_ids or "
                "agree/disagree choice in its provenance",
                hint="group_source votes+choices needs the simulator's pairs; use votes")
        for sid in sids:
            out[(str(member), str(sid))][str(prompt)] = stance
    return out


def vote_choice_matrix(
    votes: Mapping[tuple[str, str], float],
    pairs: Sequence[PreferencePair],
    members: Sequence[str],
):
    """The members × statements matrix of the rule (module docstring): each cell the mean of
    the member's vote on the statement and their training choices on prompts about it. Returns
    (members with an entry, statement ids, values CSR, seen CSR, number of choices used)."""
    import scipy.sparse as sp

    cells: dict[tuple[str, str], list[float]] = defaultdict(list)
    member_set = {str(m) for m in members}
    for (member, sid), value in votes.items():
        if str(member) in member_set:
            cells[(str(member), str(sid))].append(float(value))
    n_choices = 0
    for key, by_prompt in choice_entries(pairs).items():
        if key[0] in member_set:
            cells[key].extend(by_prompt.values())
            n_choices += len(by_prompt)
    people = sorted({m for m, _ in cells})
    statements = sorted({s for _, s in cells}, key=lambda s: (len(s), s))
    row = {m: i for i, m in enumerate(people)}
    col = {s: j for j, s in enumerate(statements)}
    r = np.array([row[m] for m, _ in cells], dtype=np.int64)
    c = np.array([col[s] for _, s in cells], dtype=np.int64)
    v = np.array([float(np.mean(x)) for x in cells.values()])
    shape = (len(people), len(statements))
    values = sp.csr_matrix((v, (r, c)), shape=shape)
    seen = sp.csr_matrix((np.ones_like(v), (r, c)), shape=shape)
    return people, statements, values, seen, n_choices


def vote_choice_groups(
    votes: Mapping[tuple[str, str], float],
    pairs: Sequence[PreferencePair],
    members: Sequence[str],
    seed: int = 0,
) -> ChoiceGroups:
    """The members' opinion groups from their ``votes`` ((member, statement) → 1 / −1 / 0) and
    their training ``pairs``' choices, by the rule of the module docstring."""
    from pluralign.aggregate.clusters import PolisClusterer
    from pluralign.aggregate.pca import PolisPCA
    from pluralign.aggregate.settings import AggregateSettings

    people, statements, values, seen, n_choices = vote_choice_matrix(votes, pairs, members)
    if len(people) < 2:
        raise InputError(f"{len(people)} panel member(s) with votes or choices: too few to group")
    s = AggregateSettings()
    pca = PolisPCA(s.n_components).fit(values, seen)
    clusterer = PolisClusterer(
        s.base_k, s.min_groups, s.max_groups, seed=seed, n_init=s.n_init,
        silhouette_fits=s.silhouette_fits, k_margin=s.k_margin, direct_max=s.direct_max,
    ).fit(pca.projection_)
    labels = {m: str(int(g)) for m, g in zip(people, clusterer.labels_, strict=True)}
    member_set = {str(m) for m in members}
    details = {
        "group_source": "votes+choices",
        "members": len(people),
        "statements": len(statements),
        "votes": sum(1 for (m, _) in votes if str(m) in member_set),
        "choices": n_choices,
        "n_groups": int(clusterer.n_groups_),
        "silhouettes": {str(k): round(float(x), 6) for k, x in clusterer.silhouettes_.items()},
        "sizes": {g: sum(1 for x in labels.values() if x == g)
                  for g in sorted(set(labels.values()), key=int)},
    }
    return ChoiceGroups(labels, details)


def regroup(pairs: Sequence[PreferencePair], labels: Mapping[str, str]) -> list[PreferencePair]:
    """The pairs with their ``group`` column set to their member's label (``provenance
    .participant``); the aggregation's group stays in ``provenance.opinion_group``. A member
    without a label keeps the pair's group."""
    from dataclasses import replace

    out = []
    for pair in pairs:
        member = str((pair.provenance or {}).get("participant"))
        out.append(replace(pair, group=labels[member]) if member in labels else pair)
    return out


def sim_votes(sim_dir, assembly) -> dict[tuple[str, str], float]:
    """The simulated conversation's votes (its Polis ``votes.csv``, moderated-out statements
    excluded, the latest vote per person and statement) keyed by (pool id, statement id)."""
    from pluralign.aggregate.matrix import read_polis

    matrix = read_polis(sim_dir)
    coo = matrix.seen.tocoo()
    vals = np.asarray(matrix.values[coo.row, coo.col]).ravel()
    out = {}
    for i, j, value in zip(coo.row, coo.col, vals, strict=True):
        pid = assembly.pool_id(str(matrix.participants[i]))
        if pid is not None:
            out[(pid, str(matrix.statements[j]))] = float(value)
    return out
