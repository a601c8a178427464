"""Moral graph (Democratic Fine-Tuning): values cards, wisdom-upgrade votes, and their summary.

Public API: the data model (:mod:`~pluralign.moralgraph.model`), :func:`summarize` with
:class:`SummaryConfig` (published definitions, see :mod:`~pluralign.moralgraph.summary`), the JSON
interchange (:mod:`~pluralign.moralgraph.dftjson`), readers (:mod:`~pluralign.moralgraph.io`), the
simulator (:mod:`~pluralign.moralgraph.simulate`), near-duplicate merging
(:mod:`~pluralign.moralgraph.merge`) and clauses (:mod:`~pluralign.moralgraph.clauses`).

Names load lazily so that mounting the CLI does not import numpy/pandas.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "NO_UPGRADE": "model", "NOT_SURE": "model", "RELATIONSHIPS": "model", "UPGRADE": "model",
    "Case": "model", "Context": "model", "Edge": "model", "Impression": "model",
    "ValuesCard": "model", "MoralGraph": "summary", "SummaryConfig": "summary",
    "summarize": "summary",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"pluralign.moralgraph.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pluralign.moralgraph' has no attribute {name!r}")
