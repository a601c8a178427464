"""Panel selection by sortition: quotas, pool, LEGACY / MAXIMIN / LEXIMIN / NASH lotteries,
households, transparent (uniform) lotteries, replacements, infeasibility advice, audit bundles and
soft weights.

Public API::

    from pluralign.panel import read_pool, read_quotas, select_panel, uniform_lottery
    result = select_panel(pool, quotas, k=20, method="leximin", seed=1, households="home")
    result.panel, result.probabilities, result.report()
    lottery = uniform_lottery(result, 1000)           # 1000 equally likely panels
    lottery.ticket(ticket_from_seed("beacon value", lottery.size))
    replace_dropouts(pool, quotas, result.panel, ["p7"], households="home").replacements

See ``docs/sortition.md`` for the formats, algorithms and references.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "METHODS": "pluralign.panel.select",
    "Alternate": "pluralign.panel.replace",
    "Check": "pluralign.panel.audit",
    "Lottery": "pluralign.panel.lottery",
    "PanelResult": "pluralign.panel.result",
    "Quota": "pluralign.panel.inputs",
    "QuotaChange": "pluralign.panel.feasibility",
    "QuotaInfeasibleError": "pluralign.panel.feasibility",
    "Quotas": "pluralign.panel.inputs",
    "Replacement": "pluralign.panel.replace",
    "Weights": "pluralign.panel.weights",
    "alternates": "pluralign.panel.replace",
    "apply_changes": "pluralign.panel.feasibility",
    "conflicting_features": "pluralign.panel.feasibility",
    "fairness": "pluralign.panel.result",
    "gini": "pluralign.panel.result",
    "panel_weights": "pluralign.panel.weights",
    "pool_shares": "pluralign.panel.weights",
    "quotas_from_population": "pluralign.panel.inputs",
    "read_lottery": "pluralign.panel.lottery",
    "read_pool": "pluralign.panel.inputs",
    "read_population": "pluralign.panel.inputs",
    "read_quotas": "pluralign.panel.inputs",
    "replace_dropouts": "pluralign.panel.replace",
    "select_panel": "pluralign.panel.select",
    "smallest_relaxation": "pluralign.panel.feasibility",
    "soft_weights": "pluralign.panel.weights",
    "ticket_from_seed": "pluralign.panel.lottery",
    "tickets_needed": "pluralign.panel.lottery",
    "uniform_lottery": "pluralign.panel.lottery",
    "verify_bundle": "pluralign.panel.audit",
}
__all__ = [
    "METHODS",
    "Alternate",
    "Check",
    "Lottery",
    "PanelResult",
    "Quota",
    "QuotaChange",
    "QuotaInfeasibleError",
    "Quotas",
    "Replacement",
    "Weights",
    "alternates",
    "apply_changes",
    "conflicting_features",
    "fairness",
    "gini",
    "panel_weights",
    "pool_shares",
    "quotas_from_population",
    "read_lottery",
    "read_pool",
    "read_population",
    "read_quotas",
    "replace_dropouts",
    "select_panel",
    "smallest_relaxation",
    "soft_weights",
    "ticket_from_seed",
    "tickets_needed",
    "uniform_lottery",
    "verify_bundle",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.panel.audit import Check, verify_bundle
    from pluralign.panel.feasibility import (
        QuotaChange,
        QuotaInfeasibleError,
        apply_changes,
        conflicting_features,
        smallest_relaxation,
    )
    from pluralign.panel.inputs import (
        Quota,
        Quotas,
        quotas_from_population,
        read_pool,
        read_population,
        read_quotas,
    )
    from pluralign.panel.lottery import (
        Lottery,
        read_lottery,
        ticket_from_seed,
        tickets_needed,
        uniform_lottery,
    )
    from pluralign.panel.replace import Alternate, Replacement, alternates, replace_dropouts
    from pluralign.panel.result import PanelResult, fairness, gini
    from pluralign.panel.select import METHODS, select_panel
    from pluralign.panel.weights import Weights, panel_weights, pool_shares, soft_weights
