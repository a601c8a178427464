"""The LEGACY greedy procedure most sortition organisations used before 2021.

As described by Flanigan et al. (Nature 2021, Methods, "Legacy"): people are drawn one at a time.
At each step, for every feature value ``f=v`` compute the ratio ``(min_fv - selected_fv) /
available_fv`` between the seats still needed to reach its minimum and the pool members with that
value who can still be drawn; take the value with the highest ratio (ties broken uniformly) and draw
a uniformly random available person with it. When every minimum is reached the next person is drawn
uniformly from everyone still available. After every draw, people whose selection would exceed some
maximum become unavailable, and so do the other members of a drawn person's household (with a
household column). If the procedure gets stuck (a minimum can no longer be reached, or
nobody is available) it starts over, up to ``max_attempts`` times.

The procedure treats people with the same values identically, so it runs on types; the members of a
type are then chosen uniformly at random. Its selection probabilities have no closed form: they are
estimated from ``samples`` independent runs (the empirical distribution over compositions).
"""

from __future__ import annotations

import numpy as np

from pluralign.errors import InfeasibleError
from pluralign.panel.instance import Instance


def legacy_composition(
    inst: Instance, rng: np.random.Generator, max_attempts: int = 200
) -> np.ndarray:
    """One run of LEGACY: the number of people drawn from each type."""
    T = inst.n_types
    A = np.zeros((len(inst.rows), T), dtype=bool)
    lo = np.array([r[2] for r in inst.rows])
    hi = np.array([r[3] for r in inst.rows])
    for r, row in enumerate(inst.rows):
        A[r, row[4]] = True
    sizes = inst.type_size.astype(np.int64)
    # With households, drawing a person uses up their household: a type of a household class
    # has (households of the class not yet used) x (its members per household) people left.
    group_of = np.full(T, -1, dtype=np.int64)
    per_home = np.ones(T, dtype=np.int64)
    homes = np.array([g.size for g in inst.groups], dtype=np.int64)
    for gi, g in enumerate(inst.groups):
        for t, mem in zip(g.slots, g.members, strict=True):
            group_of[t], per_home[t] = gi, mem.shape[1]
    grouped = group_of >= 0
    for _ in range(max_attempts):
        remaining = sizes.copy()
        used = np.zeros(len(homes), dtype=np.int64)
        comp = np.zeros(T, dtype=np.int64)
        chosen = np.zeros(len(lo), dtype=np.int64)
        stuck = False
        for _step in range(inst.k):
            open_rows = chosen < hi
            blocked = (A & ~open_rows[:, None]).any(axis=0)
            avail_t = np.where(blocked, 0, remaining)
            avail = A @ avail_t
            need = lo - chosen
            if (need > avail).any() or avail_t.sum() == 0:
                stuck = True
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(avail > 0, need / np.maximum(avail, 1), -np.inf)
            best = ratio.max()
            if best > 0:
                rows = np.flatnonzero(ratio == best)
                r = rows[rng.integers(len(rows))]
                weights = np.where(A[r], avail_t, 0).astype(np.float64)
            else:
                weights = avail_t.astype(np.float64)
            t = rng.choice(T, p=weights / weights.sum())
            comp[t] += 1
            chosen += A[:, t]
            if grouped[t]:
                used[group_of[t]] += 1
                remaining[grouped] = (homes - used)[group_of[grouped]] * per_home[grouped]
            else:
                remaining[t] -= 1
        if not stuck and inst.meets_quotas(comp):
            return comp
    raise InfeasibleError(
        f"the legacy procedure got stuck {max_attempts} times in a row",
        hint="use --method leximin (it always finds a panel when one exists) or relax the quotas",
    )


def legacy(inst: Instance, *, samples: int = 1000, seed: int = 0):
    """Estimate LEGACY's distribution from ``samples`` runs seeded by ``seed``.

    Returns a :class:`~pluralign.panel.leximin.Distribution` (empirical over compositions).
    """
    import time

    from pluralign.panel.leximin import finish

    start = time.perf_counter()
    rng = np.random.default_rng([seed, 1])
    comps = [legacy_composition(inst, rng) for _ in range(samples)]
    stats = {
        "samples": samples,
        "solver_time_s": round(time.perf_counter() - start, 4),
        "types": inst.n_types,
    }
    return finish(inst, comps, np.full(len(comps), 1.0 / samples), stats)
