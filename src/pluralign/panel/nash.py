"""NASH welfare selection: maximise the geometric mean of the selection probabilities.

Flanigan et al. (Nature 2021, Supplementary Information) also consider maximising
``sum_i log pi_i`` (Nash welfare). On types, with ``a_tc = c_t / n_t`` and ``q = A p``, the
objective ``L(p) = sum_t n_t log q_t`` is concave in the distribution ``p`` over compositions.
We combine:

* Cover's multiplicative update for log-optimal mixtures (T. M. Cover, "An algorithm for maximizing
  expected log investment return", IEEE Trans. Inf. Theory 30, 1984): ``p_c <- p_c g_c / N`` with
  ``g_c = sum_t c_t / q_t`` (the gradient) and ``N = sum_t n_t``; it increases ``L`` monotonically;
* column generation: the pricing MILP finds ``c* = argmax_c g_c``; by concavity
  ``L* - L(p) <= max_c g_c - N`` (the Frank-Wolfe gap), which is the proven stopping criterion.

Types no feasible panel contains are excluded (probability 0), as for MAXIMIN.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from pluralign.panel.instance import Instance
from pluralign.panel.leximin import Distribution, finish, initial_columns
from pluralign.panel.oracle import CompositionOracle


def nash(
    inst: Instance,
    *,
    gap: float = 1e-4,
    inner: int = 200,
    max_rounds: int = 2000,
    time_limit: float | None = None,
    relaxation: bool = True,
) -> Distribution:
    """Maximise ``sum_i log pi_i`` to within ``gap`` (relative to the number of people).

    First (``relaxation=True``) the Nash optimum over the LP relaxation is decomposed into panels
    as for LEXIMIN (:mod:`pluralign.panel.relax`); the Frank-Wolfe bound proves it optimal over
    the lotteries too when it is one (``stats['path'] == 'relaxation'``). Otherwise the panels
    found warm-start the column generation below (``'column-generation'``).
    """
    start = time.perf_counter()
    oracle = CompositionOracle(inst)
    columns, impossible = initial_columns(inst, oracle)
    live = ~impossible
    n = inst.type_size.astype(np.float64)
    N = float(n[live].sum())
    relax_stats: dict = {}
    p = np.full(len(columns), 1.0 / len(columns))

    def stats_for(path: str, iterations: int, fw_gap: float, timed_out: bool) -> dict:
        return {
            "path": path,
            "iterations": iterations,
            "pricing_calls": oracle.calls + relax_stats.get("relaxation_steps", 0),
            "pricing_time_s": round(oracle.seconds + relax_stats.get("relaxation_time_s", 0), 4),
            "gap": float(fw_gap / N),
            "gap_tolerance": gap,
            "timed_out": timed_out,
            "solver_time_s": round(time.perf_counter() - start, 4),
            "types": inst.n_types,
            "impossible_types": int(impossible.sum()),
            **relax_stats,
        }

    if relaxation:
        from pluralign.panel.relax import decompose, relaxed_nash

        q_star = relaxed_nash(inst, impossible)
        deadline = None if time_limit is None else start + time_limit
        walk = decompose(inst, q_star, gap=1e-6, deadline=deadline)
        relax_stats = {
            "relaxation_steps": walk.steps,
            "relaxation_time_s": round(walk.milp_time_s, 4),
        }
        if walk.columns and walk.rest <= 1e-6:
            dist = finish(inst, walk.columns, np.array(walk.weights), {})
            weights = np.where(live, 1.0 / np.maximum(dist.type_probability, 1e-300), 0.0)
            _c, _v, bound = oracle.best(weights)
            fw_gap = max(0.0, bound - N)
            if fw_gap <= gap * N:
                stats = stats_for("relaxation", walk.steps, fw_gap, False)
                return replace(dist, stats=stats)
            relax_stats["relaxation_failed"] = f"Frank-Wolfe gap {fw_gap / N:.2e} above tolerance"
        else:
            relax_stats["relaxation_failed"] = walk.failed or "walk did not finish"
        # warm start: mostly the walk's lottery, a little of every start panel (Cover's update
        # keeps zeros at zero)
        walk_p = np.array(walk.weights, dtype=np.float64)
        if walk_p.sum() > 0:
            p = np.concatenate([0.01 * p, 0.99 * walk_p / walk_p.sum()])
            columns = columns + walk.columns
    A = np.array(columns, dtype=np.float64).T / n[:, None]  # (T, S)
    fw_gap, rounds, timed_out = np.inf, 0, False
    for rounds in range(1, max_rounds + 1):  # noqa: B007 - reported
        for _ in range(inner):
            q = A[live] @ p
            g = (n[live] / q) @ A[live]
            p = p * g / N
            p /= p.sum()
        q = A @ p
        weights = np.where(live, 1.0 / np.maximum(q, 1e-300), 0.0)
        c, _, bound = oracle.best(weights)
        fw_gap = max(0.0, bound - N)
        if fw_gap <= gap * N:
            break
        if time_limit is not None and time.perf_counter() - start > time_limit:
            timed_out = True
            break
        key = c.tobytes()
        if any(col.tobytes() == key for col in columns):
            continue
        columns.append(c)
        A = np.column_stack([A, c / n])
        p = np.append(p * 0.99, 0.01)
    return finish(inst, columns, p, stats_for("column-generation", rounds, fw_gap, timed_out))
