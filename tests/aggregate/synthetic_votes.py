"""A small seeded generator of vote tables with known opinion groups and consensus statements
(used until the project's simulator lands; imported by the aggregate and constitution tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_votes(
    n_per_group=(40, 30),
    n_divisive: int = 12,
    n_consensus: int = 4,
    p_seen: float = 0.85,
    noise: float = 0.1,
    seed: int = 0,
):
    """Votes of len(n_per_group) groups on divisive statements (each group agrees with its own
    block and disagrees with the others) and consensus statements (everyone agrees).

    Returns (votes DataFrame, truth dict with 'groups' {participant: group} and 'consensus'
    [statement ids]) — the shape of the simulator's truth.json.
    """
    rng = np.random.default_rng(seed)
    n_groups = len(n_per_group)
    labels = np.repeat(np.arange(n_groups), n_per_group)
    m = n_divisive + n_consensus
    owner = np.arange(n_divisive) % n_groups  # which group supports each divisive statement
    rows = []
    for p, g in enumerate(labels):
        for s in range(m):
            if rng.random() > p_seen:
                continue
            want = (1 if owner[s] == g else -1) if s < n_divisive else 1
            r = rng.random()
            value = want if r > noise else (0 if r < noise / 2 else -want)
            rows.append((p, s, int(value)))
    votes = pd.DataFrame(rows, columns=["participant", "statement", "value"])
    truth = {
        "groups": {int(p): int(g) for p, g in enumerate(labels)},
        "consensus": list(range(n_divisive, m)),
    }
    return votes, truth
