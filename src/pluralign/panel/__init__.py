"""Panel selection by sortition: quotas, pool, LEGACY / MAXIMIN / LEXIMIN lotteries, soft weights.

Public API::

    from pluralign.panel import read_pool, read_quotas, select_panel, panel_weights
    result = select_panel(pool, quotas, k=20, method="leximin", seed=1)
    result.panel, result.probabilities, result.report()

See ``docs/sortition.md`` for the formats, algorithms and references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "METHODS": "pluralign.panel.select",
    "PanelResult": "pluralign.panel.result",
    "Quota": "pluralign.panel.inputs",
    "Quotas": "pluralign.panel.inputs",
    "Weights": "pluralign.panel.weights",
    "fairness": "pluralign.panel.result",
    "gini": "pluralign.panel.result",
    "panel_weights": "pluralign.panel.weights",
    "pool_shares": "pluralign.panel.weights",
    "quotas_from_population": "pluralign.panel.inputs",
    "read_pool": "pluralign.panel.inputs",
    "read_population": "pluralign.panel.inputs",
    "read_quotas": "pluralign.panel.inputs",
    "select_panel": "pluralign.panel.select",
    "soft_weights": "pluralign.panel.weights",
}
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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
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
