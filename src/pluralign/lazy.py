"""Packages whose public names load on first use, so ``pluralign --help`` imports no numpy,
pandas, scipy or SQLAlchemy.

In a package's ``__init__.py``::

    _EXPORTS = {"VoteMatrix": "pluralign.aggregate.matrix", ...}
    __all__ = sorted(_EXPORTS)
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

``from pluralign.aggregate import VoteMatrix`` then imports ``pluralign.aggregate.matrix`` at
that moment (PEP 562 module ``__getattr__``); names defined in the ``__init__`` itself work as
usual. Type checkers see the names through an ``if TYPE_CHECKING:`` block of real imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to the
    module that defines it."""
    table = dict(exports)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's required name
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        importlib.import_module(package).__dict__[name] = value  # next access is a plain lookup
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(importlib.import_module(package).__dict__) | set(table))

    return __getattr__, __dir__
