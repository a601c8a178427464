"""At most one person per household, on types.

With a household column every panel may hold at most one member of each household. People stay
interchangeable only when their households are too, so the types of
:mod:`pluralign.panel.instance` are refined by *household class*: the multiset of the member types
of a person's household. A household of one adds nothing (its member's type is as before). For a
class ``H`` of ``m`` households (``m`` households whose members have the same types, e.g. one
``(female, 30-44)`` and one ``(male, 30-44)``) every member type ``t`` of ``H`` with ``mu`` members
per household becomes a type ``(H, t)`` of ``m * mu`` people, and a composition counts ``y_t``,
the households of ``H`` that send a member of type ``t`` to the panel:

    y_t <= m  (the type's *cap*),        sum_{t in H} y_t <= m  (a *household row*).

Conversely any integer ``y`` meeting these is realised by distinct households (all households of
a class are alike), so the compositions are exactly the panels' member counts again, and a lottery
over compositions, realised uniformly within each class, gives every member of type ``(H, t)`` the
probability ``E[y_t] / (m mu)``. Symmetrising any lottery over explicit panels within classes
changes no minimum (nor the leximin order, nor the Nash welfare), so nothing is lost, as for types.

A composition is realised (:func:`expand_group`) by a *cyclic shift*: the households of the class
(in pool order) get the labels ``L = [t_1]*y_1 + [t_2]*y_2 + ... + [none]*(m - sum y)`` shifted by
``s = floor(u m)``, and a household labelled ``t`` sends its member number ``floor(v mu)`` of type
``t``, where ``v = u m - s``; with ``u`` uniform on ``[0, 1)``, ``s`` and ``v`` are independent and
uniform, so each member of type ``(H, t)`` is chosen with probability ``y_t / (m mu)`` exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pluralign.errors import InputError, at


@dataclass(frozen=True, eq=False)
class HouseholdGroup:
    """The households of one class with more than one member.

    ``slots[j]`` is a type; ``members[j]`` an ``(m, mu_j)`` array of pool indices: row ``h`` holds
    household ``h``'s members of that type (households in pool order of their first member).
    """

    slots: tuple[int, ...]
    members: tuple[np.ndarray, ...]

    @property
    def size(self) -> int:
        """Number of households ``m`` in the class."""
        return int(self.members[0].shape[0])


@dataclass(frozen=True, eq=False)
class Households:
    """Household structure of an instance: per-type caps, household rows, groups."""

    column: str
    of: tuple[str, ...]  # each person's household id (pool order)
    cap: np.ndarray  # (T,) most members of each type a panel can hold
    rows: tuple[tuple[int, np.ndarray], ...]  # (m, types): sum of the types' counts <= m
    groups: tuple[HouseholdGroup, ...]


def household_ids(pool: pd.DataFrame, column: str, source: str) -> tuple[str, ...]:
    """The household column, checked: it exists and no cell is empty."""
    if column not in pool.columns:
        raise InputError(
            f"no household column {column!r}; found {', '.join(map(str, pool.columns))}",
            where=at(source, 1, column),
            hint="name the column that identifies each person's household (--households)",
        )
    ids = pool[column].astype(str).str.strip()
    blank = (ids == "").to_numpy()
    if blank.any():
        i = int(blank.argmax())
        raise InputError(
            f"empty household (person {pool['id'].iloc[i]})",
            where=at(source, i + 2, column),
            hint="give everyone a household id (any id of their own for people who live alone)",
        )
    return tuple(ids)


def refine_types(
    keys: list[tuple[str, ...]], households: tuple[str, ...]
) -> tuple[list[tuple], dict[str, list[int]]]:
    """Class keys per person: the type key for people alone in their household, otherwise
    ``(key, household class)`` with the class the sorted member keys. Also the households."""
    members: dict[str, list[int]] = {}
    for i, h in enumerate(households):
        members.setdefault(h, []).append(i)
    out: list[tuple] = list(keys)
    for idx in members.values():
        if len(idx) > 1:
            hclass = tuple(sorted(keys[i] for i in idx))
            for i in idx:
                out[i] = (keys[i], hclass)
    return out, members


def build_households(
    column: str,
    households: tuple[str, ...],
    members: dict[str, list[int]],
    type_of: np.ndarray,
    type_size: np.ndarray,
) -> Households:
    """Caps, household rows and groups from the refined types (see the module docstring)."""
    cap = type_size.astype(np.int64).copy()
    by_class: dict[tuple[int, ...], list[list[int]]] = {}
    for idx in members.values():  # dicts keep insertion order: households by first member
        if len(idx) > 1:
            types = tuple(sorted({int(type_of[i]) for i in idx}))
            by_class.setdefault(types, []).append(idx)
    rows, groups = [], []
    for slots, homes in by_class.items():
        m = len(homes)
        per_slot = []
        for t in slots:
            per_slot.append(np.array([[i for i in home if type_of[i] == t] for home in homes]))
            cap[t] = m
        groups.append(HouseholdGroup(slots, tuple(per_slot)))
        if len(slots) > 1:
            rows.append((m, np.array(slots, dtype=np.int64)))
    return Households(column, households, cap, tuple(rows), tuple(groups))


def _labels(group: HouseholdGroup, counts: np.ndarray) -> np.ndarray:
    labels = np.full(group.size, -1, dtype=np.int64)
    pos = 0
    for j, y in enumerate(counts):
        labels[pos : pos + int(y)] = j
        pos += int(y)
    return labels


def expand_group(group: HouseholdGroup, counts: np.ndarray, u: float) -> np.ndarray:
    """Pool indices of the members the class sends for slot counts ``counts`` at offset ``u``."""
    m = group.size
    shifted = u * m
    s = min(int(math.floor(shifted)), m - 1)
    v = shifted - s
    labels = np.roll(_labels(group, counts), -s)  # household h gets labels[(h + s) mod m]
    out = []
    for h in np.flatnonzero(labels >= 0):
        mem = group.members[labels[h]][h]
        out.append(int(mem[min(int(v * len(mem)), len(mem) - 1)]))
    return np.array(out, dtype=np.int64)


def group_breakpoints(group: HouseholdGroup, counts: np.ndarray) -> set[float]:
    """Offsets ``u`` in ``[0, 1)`` at which :func:`expand_group` can change its answer."""
    if int(np.sum(counts)) == 0:
        return set()
    mus = [group.members[j].shape[1] for j, y in enumerate(counts) if y > 0]
    steps = group.size * math.lcm(*mus)
    return {i / steps for i in range(steps)}


def random_group(group: HouseholdGroup, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random realisation: random households per slot, a random member of each."""
    order = rng.permutation(group.size)
    labels = _labels(group, counts)
    out = []
    for pos, h in enumerate(order):
        if labels[pos] >= 0:
            mem = group.members[labels[pos]][h]
            out.append(int(mem[rng.integers(len(mem))]))
    return np.array(out, dtype=np.int64)


def shares_household(households: tuple[str, ...] | None, index) -> bool:
    """Whether two of the people ``index`` (pool indices) live in one household."""
    if households is None:
        return False
    homes = [households[i] for i in index]
    return len(set(homes)) < len(homes)
