"""Weighted preference training (DPO, KTO, ORPO on TRL) and a tiny offline model builder.

The loss of every trainer here is the weighted mean Σᵢ wᵢ·ℓᵢ / Σᵢ wᵢ over the whole effective
batch (all micro-batches of a gradient-accumulation step, on all processes), so a pair with weight
2 counts exactly as two copies of it and a pair with weight 0 does not count at all
(``docs/training.md``). Heavy libraries (torch, transformers, trl) are imported inside the
functions, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "build_tiny_model",
    "preference_margins",
    "pair_logps",
    "train_preferences",
    "TrainResult",
    "load_train_config",
    "quiet_libraries",
]

_LAZY = {
    "build_tiny_model": "pluralign.train.tiny",
    "preference_margins": "pluralign.train.margins",
    "pair_logps": "pluralign.train.margins",
    "train_preferences": "pluralign.train.api",
    "TrainResult": "pluralign.train.api",
    "load_train_config": "pluralign.train.config",
    "quiet_libraries": "pluralign.train.api",
}

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.train.api import TrainResult, quiet_libraries, train_preferences
    from pluralign.train.config import load_train_config
    from pluralign.train.margins import pair_logps, preference_margins
    from pluralign.train.tiny import build_tiny_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
