"""The stated population, the self-selected volunteer pool, and latent groups from demographics.

The population is a set of independent marginal distributions (one per feature). Volunteers are
not a fair sample of it: each feature value has a *volunteer propensity* (relative chance that a
person with it signs up), so the pool over-represents, e.g., younger and university-educated
people. That is the gap sortition with quotas and survey weights must close later.

A person's latent opinion group is drawn from ``softmax(base + Σ_features logit[feature][value])``
so groups correlate with demographics without being determined by them.

The shares are illustrative figures for an adult population of a mid-sized democracy, not a
census: use :class:`Population` with your own figures for real work.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FEATURES: dict[str, dict[str, float]] = {
    "age_band": {
        "18-24": 0.11,
        "25-34": 0.17,
        "35-44": 0.16,
        "45-54": 0.16,
        "55-64": 0.16,
        "65+": 0.24,
    },
    "gender": {"woman": 0.51, "man": 0.48, "non-binary": 0.01},
    "region": {"capital": 0.15, "north": 0.23, "south": 0.25, "east": 0.18, "west": 0.19},
    "education": {"secondary": 0.38, "vocational": 0.22, "bachelor": 0.26, "postgraduate": 0.14},
}

# Relative chance of volunteering (multiplies the population share, then renormalised).
VOLUNTEER_PROPENSITY: dict[str, dict[str, float]] = {
    "age_band": {"18-24": 1.6, "25-34": 1.7, "35-44": 1.2, "45-54": 0.9, "55-64": 0.7, "65+": 0.45},
    "gender": {"woman": 0.9, "man": 1.1, "non-binary": 1.8},
    "region": {"capital": 1.7, "north": 0.8, "south": 1.0, "east": 0.8, "west": 1.0},
    "education": {"secondary": 0.45, "vocational": 0.75, "bachelor": 1.5, "postgraduate": 2.4},
}

# Log-odds added per latent group, in bank order: cautious, autonomy, fairness, tradition.
GROUP_LOGITS: dict[str, dict[str, tuple[float, ...]]] = {
    "age_band": {
        "18-24": (-0.4, 0.7, 0.6, -0.8),
        "25-34": (-0.3, 0.6, 0.4, -0.5),
        "35-44": (0.0, 0.2, 0.1, -0.1),
        "45-54": (0.1, 0.0, -0.1, 0.2),
        "55-64": (0.3, -0.3, -0.3, 0.5),
        "65+": (0.5, -0.7, -0.4, 0.8),
    },
    "gender": {
        "woman": (0.3, -0.4, 0.3, 0.0),
        "man": (-0.2, 0.5, -0.3, 0.1),
        "non-binary": (-0.2, 0.2, 0.9, -0.7),
    },
    "region": {
        "capital": (-0.2, 0.3, 0.5, -0.7),
        "north": (0.0, 0.0, -0.1, 0.3),
        "south": (0.1, 0.0, 0.0, 0.1),
        "east": (0.0, -0.1, 0.0, 0.3),
        "west": (0.0, 0.1, 0.1, -0.1),
    },
    "education": {
        "secondary": (0.2, -0.3, -0.4, 0.7),
        "vocational": (0.1, 0.0, -0.3, 0.4),
        "bachelor": (0.0, 0.2, 0.3, -0.3),
        "postgraduate": (-0.1, 0.3, 0.5, -0.6),
    },
}
GROUP_BASE: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Population:
    """A stated population: marginal shares per feature, volunteer propensities, group model."""

    shares: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: FEATURES)
    propensity: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: VOLUNTEER_PROPENSITY
    )
    group_logits: Mapping[str, Mapping[str, tuple[float, ...]]] = field(
        default_factory=lambda: GROUP_LOGITS
    )
    group_base: tuple[float, ...] = GROUP_BASE

    @property
    def features(self) -> list[str]:
        return list(self.shares)

    def pool_shares(self) -> dict[str, dict[str, float]]:
        """Expected shares in the volunteer pool: share × propensity, renormalised per feature."""
        out = {}
        for feature, values in self.shares.items():
            raw = {v: s * self.propensity.get(feature, {}).get(v, 1.0) for v, s in values.items()}
            total = sum(raw.values())
            out[feature] = {v: x / total for v, x in raw.items()}
        return out

    def group_probabilities(self, people: pd.DataFrame) -> np.ndarray:
        """P(latent group | demographics) for each row of ``people``: shape (n, groups)."""
        logits = np.tile(np.asarray(self.group_base, dtype=float), (len(people), 1))
        for feature, table in self.group_logits.items():
            logits += np.array([table[v] for v in people[feature]])
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    def _group_shares(self, shares: Mapping[str, Mapping[str, float]]) -> np.ndarray:
        features = list(shares)
        cells = list(itertools.product(*(list(shares[f].items()) for f in features)))
        frame = pd.DataFrame([[v for v, _ in cell] for cell in cells], columns=features)
        mass = np.array([np.prod([p for _, p in cell]) for cell in cells])
        return mass @ self.group_probabilities(frame)

    def group_shares(self, *, volunteers: bool = False) -> np.ndarray:
        """Exact share of each latent group in the population (or the expected volunteer pool)."""
        return self._group_shares(self.pool_shares() if volunteers else self.shares)

    def draw(self, n: int, rng: np.random.Generator, *, volunteers: bool = True) -> pd.DataFrame:
        """``n`` people with one column per feature, from the pool (default) or the population."""
        shares = self.pool_shares() if volunteers else self.shares
        columns = {}
        for feature, values in shares.items():
            names = list(values)
            p = np.array([values[v] for v in names], dtype=float)
            columns[feature] = np.array(names, dtype=object)[
                rng.choice(len(names), n, p=p / p.sum())
            ]
        return pd.DataFrame(columns)

    def to_json(self) -> dict:
        """The stated population (what population.json holds)."""
        rnd = lambda d: {f: {v: round(float(x), 6) for v, x in vs.items()} for f, vs in d.items()}  # noqa: E731
        return {
            "features": rnd(self.shares),
            "volunteer_propensity": rnd(self.propensity),
            "expected_pool_shares": rnd(self.pool_shares()),
        }
