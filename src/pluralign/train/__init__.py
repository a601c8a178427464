"""Weighted preference training (DPO, KTO, ORPO on TRL) and a tiny offline model builder.

The loss of every trainer here is the weighted mean Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ over the whole effective
batch (all micro-batches of a gradient-accumulation step, on all processes), so a pair with weight
2 counts exactly as two copies of it and a pair with weight 0 does not count at all
(``docs/training.md``). Heavy libraries (torch, transformers, trl) are imported inside the
functions, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "TrainResult": "pluralign.train.api",
    "quiet_libraries": "pluralign.train.api",
    "train_preferences": "pluralign.train.api",
    "load_train_config": "pluralign.train.config",
    "pair_logps": "pluralign.train.margins",
    "preference_margins": "pluralign.train.margins",
    "build_tiny_model": "pluralign.models.tiny",
}
__all__ = [
    "TrainResult",
    "build_tiny_model",
    "load_train_config",
    "pair_logps",
    "preference_margins",
    "quiet_libraries",
    "train_preferences",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.models.tiny import build_tiny_model
    from pluralign.train.api import TrainResult, quiet_libraries, train_preferences
    from pluralign.train.config import load_train_config
    from pluralign.train.margins import pair_logps, preference_margins
