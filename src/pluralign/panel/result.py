"""The result of a selection: distribution over panels, probabilities, drawn panel, statistics.

The distribution is stored compactly as *compositions* (members per type, see
:mod:`pluralign.panel.instance`) with their probabilities. Within a composition, members of a type
are chosen by systematic sampling with one uniform number ``U`` shared by all types: member ``j``
(``j = 0..n_t-1`` in pool order) of type ``t`` is on the panel iff an integer lies in
``[j c_t/n_t + U, (j+1) c_t/n_t + U)``. That selects exactly ``c_t`` members of each type, each with
probability ``c_t/n_t``, so every composition expands into finitely many explicit panels
(:meth:`PanelResult.panels`) and each person's probability is exactly ``sum_c p_c c_t / n_t``.
Types of multi-person households are realised by the cyclic shift of
:func:`pluralign.panel.households.expand_group`, from the same ``U``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from pluralign.panel.households import expand_group, group_breakpoints, random_group


def systematic(n: int, c: int, u: float) -> np.ndarray:
    """Indices ``0..n-1`` chosen by systematic sampling of ``c`` out of ``n`` with offset ``u``."""
    if c == 0:
        return np.array([], dtype=np.int64)
    if c == n:
        return np.arange(n)
    j = np.arange(n)
    # Exact integer arithmetic on the scale n: member j covers [j*c, (j+1)*c) + u*n.
    a = np.floor((j * c + u * n) / n)
    b = np.floor(((j + 1) * c + u * n) / n)
    return np.flatnonzero(b - a >= 1)


def _breakpoints(sizes: np.ndarray, comp: np.ndarray, groups=(), grouped=None) -> np.ndarray:
    """Values of ``U`` in ``[0, 1)`` at which the sample of some type changes."""
    points = {0.0}
    for t, (n, c) in enumerate(zip(sizes, comp, strict=True)):
        if 0 < c < n and (grouped is None or not grouped[t]):
            g = np.gcd(int(n), int(c))
            step = int(n) // g
            points.update(np.arange(step) / step)
    for group in groups:
        points.update(group_breakpoints(group, comp[list(group.slots)]))
    return np.array(sorted(points))


@dataclass(frozen=True, eq=False)
class PanelResult:
    """A lottery over panels of size ``k`` that meet every quota, and one panel drawn from it.

    Attributes:
        method: ``legacy``, ``maximin`` or ``leximin``.
        k: panel size.
        seed: the seed the panel was drawn with.
        ids: pool ids in pool order.
        probabilities: each person's selection probability (pool order); sums to ``k``.
        type_of: each person's type (pool order).
        compositions: ``(S, T)`` members per type of each panel composition in the support.
        composition_probabilities: ``(S,)`` probabilities of the compositions (sum 1).
        panel: the ids of the drawn panel (pool order).
        features: the quota features.
        stats: solver statistics and the fairness measures of :func:`fairness`.
        groups: the multi-person household classes (:class:`HouseholdGroup`), if any.
        households: each person's household id (pool order), or ``None``.
        quotas: the :class:`~pluralign.panel.inputs.Quotas` the lottery meets (relaxed ones
            after ``relax``).
    """

    method: str
    k: int
    seed: int
    ids: tuple[str, ...]
    probabilities: np.ndarray
    type_of: np.ndarray
    compositions: np.ndarray
    composition_probabilities: np.ndarray
    panel: tuple[str, ...]
    features: tuple[str, ...] = ()
    stats: dict = field(default_factory=dict)
    groups: tuple = ()
    households: tuple[str, ...] | None = None
    quotas: object = None

    @property
    def support_size(self) -> int:
        """Number of compositions with positive probability."""
        return len(self.composition_probabilities)

    @property
    def selected(self) -> np.ndarray:
        """Boolean mask (pool order) of the drawn panel."""
        chosen = set(self.panel)
        return np.array([i in chosen for i in self.ids])

    def probability(self, person: str) -> float:
        return float(self.probabilities[self.ids.index(person)])

    def _members(self) -> list[np.ndarray]:
        return [np.flatnonzero(self.type_of == t) for t in range(self.compositions.shape[1])]

    def _grouped(self) -> np.ndarray:
        grouped = np.zeros(self.compositions.shape[1], dtype=bool)
        for g in self.groups:
            grouped[list(g.slots)] = True
        return grouped

    def count_panels(self) -> int:
        """Number of explicit panels in :meth:`panels` (without building them)."""
        sizes = np.bincount(self.type_of, minlength=self.compositions.shape[1])
        grouped = self._grouped()
        return int(
            sum(len(_breakpoints(sizes, c, self.groups, grouped)) for c in self.compositions)
        )

    def panels(self) -> Iterator[tuple[tuple[str, ...], float]]:
        """The distribution over explicit panels: ``(ids of the panel, probability)`` pairs.

        Probabilities sum to 1 and each person's total is exactly ``probabilities[i]``; see the
        module docstring. The number of panels is :meth:`count_panels` (can be large for big pools:
        iterate, do not store).
        """
        members = self._members()
        sizes = np.array([len(m) for m in members])
        grouped = self._grouped()
        for comp, pc in zip(self.compositions, self.composition_probabilities, strict=True):
            points = _breakpoints(sizes, comp, self.groups, grouped)
            ends = np.append(points[1:], 1.0)
            for lo, hi in zip(points, ends, strict=True):
                u = (lo + hi) / 2
                idx = self._expand(members, comp, u)
                yield tuple(self.ids[i] for i in idx), float(pc * (hi - lo))

    def _expand(self, members: list[np.ndarray], comp: np.ndarray, u: float) -> np.ndarray:
        grouped = self._grouped() if self.groups else None
        parts = [
            m[systematic(len(m), int(c), u)]
            for t, (m, c) in enumerate(zip(members, comp, strict=True))
            if grouped is None or not grouped[t]
        ]
        parts += [expand_group(g, comp[list(g.slots)], u) for g in self.groups]
        return np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)

    def realise(self, comp: np.ndarray, rng: np.random.Generator) -> tuple[str, ...]:
        """A uniformly random explicit panel of composition ``comp`` (ids, pool order)."""
        grouped = self._grouped()
        members = self._members()
        parts = [
            rng.choice(members[t], size=int(c), replace=False)
            for t, c in enumerate(comp)
            if not grouped[t]
        ]
        parts += [random_group(g, comp[list(g.slots)], rng) for g in self.groups]
        idx = np.sort(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)
        return tuple(self.ids[i] for i in idx)

    def draw(self, seed: int) -> tuple[str, ...]:
        """Draw one panel from the distribution: a composition, then the shared offset ``U``."""
        rng = np.random.default_rng(seed)
        s = int(rng.choice(len(self.composition_probabilities), p=self.composition_probabilities))
        u = float(rng.random())
        idx = self._expand(self._members(), self.compositions[s], u)
        return tuple(self.ids[i] for i in idx)

    def report(self) -> dict:
        """JSON-ready summary: fairness measures, support size, solver statistics."""
        out = {"method": self.method, "k": self.k, "pool_size": len(self.ids), "seed": self.seed}
        out.update(fairness(self.probabilities))
        out["support_size"] = self.support_size
        out.update(self.stats)
        return out


def gini(x: np.ndarray) -> float:
    """Gini coefficient ``sum_ij |x_i - x_j| / (2 n^2 mean(x))`` (0 = everyone equal)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * x.sum()) - (n + 1) / n)


def fairness(probabilities: np.ndarray) -> dict:
    """``min_probability``, ``max_probability``, ``gini``, ``geometric_mean`` of the probabilities
    (the measures of Flanigan et al. 2021, Fig. 2), and how many people can never be selected."""
    p = np.asarray(probabilities, dtype=np.float64)
    with np.errstate(divide="ignore"):
        geo = float(np.exp(np.mean(np.log(p)))) if (p > 0).all() else 0.0
    return {
        "min_probability": float(p.min()),
        "max_probability": float(p.max()),
        "gini": gini(p),
        "geometric_mean": geo,
        "never_selected": int((p <= 1e-12).sum()),
    }
