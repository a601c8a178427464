"""A transparent lottery: the chosen distribution rounded to ``M`` equally likely panels.

A lottery over many panels with unequal probabilities cannot be drawn in public. Flanigan, Kehne &
Procaccia ("Fair Sortition Made Transparent", NeurIPS 2021) round it to a *uniform* lottery over
``m`` panels (tickets ``1..m``, any public random number picks one) and bound the fairness this
loses with rounding methods from discrepancy theory. We round on types
(:mod:`pluralign.panel.instance`) in two steps, both deterministic (the same distribution always
gives the same tickets, which :mod:`pluralign.panel.audit` recomputes):

1. **Tickets per composition.** With ``p_s`` the probabilities of the compositions ``c_s`` and
   ``a_ts = c_ts / n_t`` (what one ticket of ``c_s`` adds to a member of type ``t``), find integers
   ``m_s`` with ``sum_s m_s = M`` and every ``|sum_s a_ts (m_s - M p_s)|`` small. Beck-Fiala's
   iterative rounding: keep the fractional parts ``x_s`` of ``M p_s``; while some are fractional,
   move them along a direction that keeps the ticket count and every *active* type row fixed
   (a row is active while its weight on fractional variables exceeds ``beta = 2 w``, where
   ``w = max_s sum_t a_ts``) until one more becomes 0 or 1. Fewer than half the fractional variables
   can have active rows (their weights add up to at most ``w`` per variable), so with the ticket
   row a direction always exists; a row changes by less than ``beta`` after it stops being active.
   Hence **every type's average probability moves by less than ``2 w / M``**, with ``w`` at most
   the number of types on a panel (``<= k``). A local search then lowers the largest change over
   the same choices (``m_s`` = ``floor`` or ``ceil`` of ``M p_s``): the best exchange of one
   ticket between two compositions, as long as one lowers (largest change, sum of squared
   changes); it never makes the bound worse. ``max_nodes > 0`` adds an integer program (HiGHS,
   at most that many branch-and-bound nodes, so still deterministic) started from there.
2. **People per ticket.** Within a type, tickets take its members round-robin (pool order), so
   each member is on ``floor(N_t / n_t)`` or ``ceil(N_t / n_t)`` of the ``N_t`` tickets holding the
   type's seats: a further change below ``1 / M``. So for people who live alone (or without a
   household column) **the change is below ``(2 w + 1) / M``**. In a multi-person household class
   the households per ticket are chosen by an assignment problem (scipy's
   ``linear_sum_assignment``) that gives each seat to a household with the fewest seats of that
   type so far; this is balanced in practice but not bounded by a theorem, so
   :attr:`Lottery.largest_change`, the exact largest change over all people, is always measured
   and reported.

Every ticket meets the quotas and the household rule by construction (a ticket is a realisation
of a feasible composition). A person whose exact probability is ``q`` needs about ``1 / q``
tickets to appear at all: ``M`` below ``ceil(1 / min q)`` is refused.

References: B. Flanigan, G. Kehne, A. D. Procaccia, Fair Sortition Made Transparent, NeurIPS 34
(2021); J. Beck, T. Fiala, "Integer-making" theorems, Discrete Applied Mathematics 3 (1981).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pluralign.errors import InputError, at


@dataclass(frozen=True, eq=False)
class Lottery:
    """``M`` equally likely panels (``tickets[j]`` is ticket ``j + 1``: ids in pool order).

    ``probabilities`` are the exact selection probabilities the lottery approximates (pool order,
    ``ids``); ``stats`` the rounding's figures (``largest_change``, ``bound`` ...).
    """

    tickets: tuple[tuple[str, ...], ...]
    ids: tuple[str, ...] = ()
    probabilities: np.ndarray | None = None
    stats: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of tickets ``M``."""
        return len(self.tickets)

    def frequencies(self, ids=None) -> np.ndarray:
        """Each person's probability under the uniform lottery: tickets holding them / ``M``."""
        ids = self.ids if ids is None else tuple(ids)
        index = {pid: i for i, pid in enumerate(ids)}
        count = np.zeros(len(ids))
        for ticket in self.tickets:
            for pid in ticket:
                count[index[pid]] += 1
        return count / self.size

    @property
    def largest_change(self) -> float:
        """``max_i |frequency_i - probability_i|`` against the exact distribution."""
        return float(np.abs(self.frequencies() - self.probabilities).max())

    def to_csv(self) -> str:
        """``ticket,ids`` (ticket 1..M; ids separated by spaces)."""
        lines = ["ticket,ids"]
        lines += [f"{j},{' '.join(t)}" for j, t in enumerate(self.tickets, start=1)]
        return "\n".join(lines) + "\n"

    def write(self, path: str | Path) -> None:
        from pluralign.io import atomic_write_text

        atomic_write_text(path, self.to_csv())

    def ticket(self, number: int) -> tuple[str, ...]:
        """The panel on ticket ``number`` (1-based)."""
        return self.tickets[number - 1]


def read_lottery(path: str | Path) -> Lottery:
    """Read ``lottery.csv`` (``ticket,ids``), checking the header, the ticket numbers ``1..M`` in
    order, one size for every panel and no id twice on a ticket."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", where=str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"not a text file: {exc}", where=str(path)) from exc
    if not lines or [c.strip() for c in lines[0].split(",")] != ["ticket", "ids"]:
        raise InputError(
            "the header must be: ticket,ids", where=at(path, 1), hint="write it with --uniform M"
        )
    tickets = []
    size = None
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        number, _, rest = line.partition(",")
        if number.strip() != str(len(tickets) + 1):
            raise InputError(
                f"expected ticket {len(tickets) + 1}, got {number.strip()!r}",
                where=at(path, line_no, "ticket"),
            )
        ids = tuple(rest.split())
        if len(set(ids)) != len(ids) or not ids:
            raise InputError("a ticket lists no id or one id twice", where=at(path, line_no, "ids"))
        if size is not None and len(ids) != size:
            raise InputError(
                f"ticket {len(tickets) + 1} has {len(ids)} people, ticket 1 has {size}",
                where=at(path, line_no, "ids"),
            )
        size = len(ids)
        tickets.append(ids)
    if not tickets:
        raise InputError("no tickets", where=str(path))
    return Lottery(tuple(tickets))


def ticket_from_seed(seed_text: str, m: int) -> int:
    """The ticket (1..m) a public seed picks: ``1 + int(sha256(seed_text, UTF-8)) mod m``.

    Anyone can recompute it, e.g.
    ``python3 -c "import hashlib; print(1 + int(hashlib.sha256(b'TEXT').hexdigest(), 16) % M)"``;
    the bias of the modulo is below ``m / 2**256``.
    """
    if not seed_text:
        raise InputError("the seed text is empty", where="--seed-text")
    digest = hashlib.sha256(seed_text.encode("utf-8")).hexdigest()
    return 1 + int(digest, 16) % int(m)


def tickets_needed(probabilities: np.ndarray) -> int:
    """Least ``M`` at which the least positive probability ``q`` gets a ticket: ``ceil(1/q)``."""
    p = np.asarray(probabilities, dtype=np.float64)
    live = p[p > 1e-12]
    return int(math.ceil(1.0 / float(live.min()) - 1e-9)) if len(live) else 1


def uniform_lottery(result, m: int, *, max_nodes: int = 0) -> Lottery:
    """Round ``result`` (a :class:`~pluralign.panel.result.PanelResult`) to ``m`` equally likely
    panels; see the module docstring for the method and its bound.

    Raises :class:`InputError` if ``m`` is smaller than the number of panels needed
    (:func:`tickets_needed`) or if some selectable person would get no ticket.
    """
    start = time.perf_counter()
    if isinstance(m, bool) or not isinstance(m, int | np.integer) or m < 1:
        raise InputError(
            f"the number of tickets must be a whole number >= 1, got {m!r}", where="--uniform"
        )
    m = int(m)
    needed = tickets_needed(result.probabilities)
    if m < needed:
        low = float(result.probabilities[result.probabilities > 1e-12].min())
        raise InputError(
            f"M = {m} is smaller than the {needed} panels needed: the smallest selection "
            f"probability, {low:.4g}, needs at least {needed} tickets (1 / {low:.4g}) to be on one",
            where="--uniform",
            hint=f"use --uniform {needed} or more (with 1000 or more tickets little is lost)",
        )
    C = np.asarray(result.compositions, dtype=np.int64)
    p = np.asarray(result.composition_probabilities, dtype=np.float64)
    T = C.shape[1]
    sizes = np.bincount(result.type_of, minlength=T).astype(np.float64)
    A = (C / sizes).T  # (T, S): a_ts
    target = m * p
    base = np.floor(target + 1e-12)
    frac = np.clip(target - base, 0.0, 1.0)
    frac[frac < 1e-9] = 0.0
    w = float(A.sum(axis=0).max()) if A.size else 0.0
    rounded = _beck_fiala(A, frac, beta=2.0 * w)
    counts = base + rounded
    counts = _fix_total(counts, target, m)
    bf_dev = _deviation(A, counts, target)
    counts, swaps = _exchange(A, base, frac, counts, target)
    improved = False
    if max_nodes > 0:
        counts, improved = _minimise_deviation(A, base, frac, counts, target, m, max_nodes)
    tickets = _realise(result, C, counts.astype(np.int64))
    lottery = Lottery(tuple(tickets), tuple(result.ids), np.asarray(result.probabilities))
    freq = lottery.frequencies()
    live = result.probabilities > 1e-12
    if (freq[live] == 0).any():
        i = int(np.flatnonzero(live & (freq == 0))[0])
        raise InputError(
            f"with M = {m} tickets person {result.ids[i]} (probability "
            f"{result.probabilities[i]:.4g}) would be on none",
            where="--uniform",
            hint=f"use more tickets, e.g. --uniform {2 * m}",
        )
    change = np.abs(freq - lottery.probabilities)
    stats = {
        "tickets": m,
        "largest_change": float(change.max()),
        "largest_change_person": result.ids[int(change.argmax())],
        "mean_change": float(change.mean()),
        "min_probability": float(freq[live].min()) if live.any() else 0.0,
        "exact_min_probability": float(result.probabilities[live].min()) if live.any() else 0.0,
        "bound": (2.0 * w + 1.0) / m,
        "bound_note": "(2w+1)/M for people who live alone; households: measured only",
        "w": w,
        "type_change_beck_fiala": bf_dev / m,
        "type_change": _deviation(A, counts, target) / m,
        "exchanges": swaps,
        "integer_program_improved": improved,
        "compositions_used": int((counts > 0).sum()),
        "time_s": round(time.perf_counter() - start, 4),
    }
    return Lottery(lottery.tickets, lottery.ids, lottery.probabilities, stats)


def _deviation(A: np.ndarray, counts: np.ndarray, target: np.ndarray) -> float:
    return float(np.abs(A @ (counts - target)).max()) if A.size else 0.0


def _beck_fiala(A: np.ndarray, x: np.ndarray, *, beta: float, eps: float = 1e-9) -> np.ndarray:
    """0/1 rounding of ``x`` keeping ``sum x`` and, while active, every row of ``A`` (see the
    module docstring)."""
    x = x.astype(np.float64).copy()
    for _ in range(2 * len(x) + 2):
        free = np.flatnonzero((x > eps) & (x < 1.0 - eps))
        if len(free) <= 1:
            break
        mass = A[:, free].sum(axis=1)
        active = np.flatnonzero(mass > beta)
        rows = np.vstack([np.ones(len(free)), A[active][:, free]])
        use = free[: min(len(free), rows.shape[0] + 1)]  # enough columns for a null direction
        B = rows[:, : len(use)]
        _, sing, vt = np.linalg.svd(B)
        d = vt[-1]
        if len(sing) == len(use) and sing[-1] > 1e-9:  # pragma: no cover - cannot happen
            break
        up = np.where(d > 1e-15, (1.0 - x[use]) / np.where(d > 1e-15, d, 1), np.inf)
        down = np.where(d < -1e-15, x[use] / np.where(d < -1e-15, -d, 1), np.inf)
        lam = float(min(up.min(), down.min()))
        if not np.isfinite(lam):  # pragma: no cover - d is a unit vector
            break
        x[use] = np.clip(x[use] + lam * d, 0.0, 1.0)
        x[x < eps] = 0.0
        x[x > 1.0 - eps] = 1.0
    return np.rint(x)


def _fix_total(counts: np.ndarray, target: np.ndarray, m: int) -> np.ndarray:
    """Make ``sum(counts) == m`` (a rounding slip of the iteration) by the smallest moves."""
    counts = counts.copy()
    while counts.sum() > m:
        s = int(np.argmax(np.where(counts > 0, counts - target, -np.inf)))
        counts[s] -= 1
    while counts.sum() < m:
        counts[int(np.argmax(target - counts))] += 1
    return counts


def _exchange(A, base, frac, counts, target, *, max_moves: int = 100_000, chunk: int = 4_000_000):
    """Steepest descent by moving one ticket from a rounded-up composition to a rounded-down
    one, while that lowers (largest row change, sum of squared row changes). Moves that touch
    the worst row are tried first (cheap); the whole neighbourhood only when none of them helps."""
    free = np.flatnonzero(frac > 0)
    counts = counts.copy()
    dev = A @ (counts - target)
    moves = 0
    while moves < max_moves:
        up = free[counts[free] > base[free]]
        down = free[counts[free] == base[free]]
        if len(up) == 0 or len(down) == 0:
            break
        score = (float(np.abs(dev).max()), float(dev @ dev))
        worst = int(np.argmax(np.abs(dev)))
        # too many seats of the worst row's type: give up a ticket holding it; too few: take one
        over = dev[worst] > 0
        ups = up[A[worst, up] > 0] if over else up
        downs = down if over else down[A[worst, down] > 0]
        where = _best_move(A, dev, ups, downs, score, chunk)
        if where is None:
            where = _best_move(A, dev, up, down, score, chunk)
        if where is None:
            break
        counts[where[0]] += 1
        counts[where[1]] -= 1
        dev = A @ (counts - target)
        moves += 1
    return counts, moves


def _best_move(A, dev, up, down, score, chunk):
    """The best improving move (``(to, from)`` compositions) among ``up x down``, or None."""
    if len(up) == 0 or len(down) == 0:
        return None
    best, where = score, None
    step = max(1, chunk // max(1, A.shape[0] * len(down)))
    for lo in range(0, len(up), step):
        ups = up[lo : lo + step]
        # row changes after moving a ticket from ups[b] to down[a]: (T, a, b)
        D = dev[:, None, None] + A[:, down][:, :, None] - A[:, ups][:, None, :]
        mx = np.abs(D).max(axis=0)
        sq = np.einsum("tab,tab->ab", D, D)
        flat = np.lexsort((sq.ravel(), mx.ravel()))[0]
        a, b = np.unravel_index(flat, mx.shape)
        cand = (float(mx[a, b]), float(sq[a, b]))
        # better than now (a lower maximum, or the same maximum and lower squares) and the best
        # seen so far; the maximum never rises, so the bound of the rounding holds
        better = cand[0] < score[0] - 1e-12 or (cand[0] <= score[0] and cand[1] < score[1] - 1e-12)
        if better and cand < best:
            best, where = cand, (down[a], ups[b])
    return where


def _minimise_deviation(A, base, frac, start, target, m, max_nodes):
    """``min D`` s.t. ``|A (base + r - target)| <= D``, ``sum (base + r) = m``, ``r_s`` 0/1 where
    ``frac_s > 0`` (HiGHS, started from ``start``, at most ``max_nodes`` nodes: deterministic)."""
    import highspy

    from pluralign.panel.oracle import highs

    free = np.flatnonzero(frac > 0)
    if len(free) == 0 or A.size == 0:
        return start, False
    h = highs()
    h.setOptionValue("mip_max_nodes", int(max_nodes))
    h.setOptionValue("mip_rel_gap", 1e-6)
    inf = highspy.kHighsInf
    empty_i, empty_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
    for _ in free:
        h.addCol(0.0, 0.0, 1.0, 0, empty_i, empty_v)
    n = len(free)
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    h.addCol(1.0, 0.0, inf, 0, empty_i, empty_v)  # D
    need = float(m - base.sum())
    h.addRow(need, need, n, np.arange(n, dtype=np.int32), np.ones(n))
    offset = A @ (base - target)
    rows = np.flatnonzero(np.abs(A[:, free]).sum(axis=1) > 0)
    for t in rows:
        coef = A[t, free]
        idx = np.r_[np.arange(n), n].astype(np.int32)
        h.addRow(-inf, -offset[t], n + 1, idx, np.r_[coef, -1.0])
        h.addRow(-offset[t], inf, n + 1, idx, np.r_[coef, 1.0])
    start_dev = _deviation(A, start, target)
    sol = highspy.HighsSolution()
    sol.col_value = list(np.r_[start[free] - base[free], start_dev])
    sol.value_valid = True
    h.setSolution(sol)
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.run()
    values = np.asarray(h.getSolution().col_value)
    if len(values) != n + 1:
        return start, False
    counts = base.copy()
    counts[free] += np.rint(values[:n])
    if counts.sum() != m or _deviation(A, counts, target) > start_dev - 1e-12:
        return start, False
    return counts, True


def _realise(result, C: np.ndarray, counts: np.ndarray) -> list[tuple[str, ...]]:
    """Explicit tickets: ``counts[s]`` realisations of composition ``C[s]`` (step 2)."""
    from scipy.optimize import linear_sum_assignment

    T = C.shape[1]
    members = [np.flatnonzero(result.type_of == t) for t in range(T)]
    grouped = np.zeros(T, dtype=bool)
    for g in result.groups:
        grouped[list(g.slots)] = True
    pointer = np.zeros(T, dtype=np.int64)
    state = []
    for g in result.groups:
        shape = (g.size, len(g.slots))
        state.append((np.zeros(shape), np.zeros(shape, dtype=np.int64)))
    tickets = []
    for comp, times in zip(C, counts, strict=True):
        for _ in range(int(times)):
            chosen = []
            for t in np.flatnonzero((comp > 0) & ~grouped):
                n, c = len(members[t]), int(comp[t])
                chosen.extend(members[t][(pointer[t] + np.arange(c)) % n])
                pointer[t] += c
            for g, (count, member_ptr) in zip(result.groups, state, strict=True):
                y = comp[list(g.slots)]
                if y.sum() == 0:
                    continue
                slots = np.repeat(np.arange(len(g.slots)), y)
                # a seat of slot j costs household h the seats of that slot it already has:
                # distinct households per ticket, each seat to a household furthest behind
                rows, homes = linear_sum_assignment(count[:, slots].T)
                for r, h in zip(rows, homes, strict=True):
                    j = slots[r]
                    mem = g.members[j][h]
                    chosen.append(mem[int(member_ptr[h, j]) % len(mem)])
                    member_ptr[h, j] += 1
                    count[h, j] += 1
            idx = np.sort(np.asarray(chosen, dtype=np.int64))
            tickets.append(tuple(result.ids[i] for i in idx))
    return tickets
