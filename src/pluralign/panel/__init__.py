"""Panel selection by sortition: quotas, pool, LEGACY / MAXIMIN / LEXIMIN lotteries, soft weights.

Public API::

    from pluralign.panel import read_pool, read_quotas, select_panel, panel_weights
    result = select_panel(pool, quotas, k=20, method="leximin", seed=1)
    result.panel, result.probabilities, result.report()

See ``docs/sortition.md`` for the formats, algorithms and references.
"""

from pluralign.panel.inputs import (
    Quota,
    Quotas,
    quotas_from_population,
    read_pool,
    read_population,
    read_quotas,
)
from pluralign.panel.result import PanelResult, fairness, gini
from pluralign.panel.select import METHODS, select_panel
from pluralign.panel.weights import Weights, panel_weights, pool_shares, soft_weights

__all__ = [
    "METHODS",
    "PanelResult",
    "Quota",
    "Quotas",
    "Weights",
    "fairness",
    "gini",
    "panel_weights",
    "pool_shares",
    "quotas_from_population",
    "read_pool",
    "read_population",
    "read_quotas",
    "select_panel",
    "soft_weights",
]
