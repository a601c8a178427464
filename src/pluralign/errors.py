"""Errors meant for users.

Every :class:`PluralignError` says what went wrong, where (file, line, column or field), and what to
do. The CLI prints it without a traceback and exits with status 1.
"""

from __future__ import annotations

from pathlib import Path


class PluralignError(Exception):
    """Base class of all errors a user can act on."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InputError(PluralignError):
    """A file or value given by the user is malformed or inconsistent."""


def at(path: str | Path, line: int | None = None, column: str | None = None) -> str:
    """Format a location: ``file.csv, line 12, column 'vote'``."""
    text = str(path)
    if line is not None:
        text += f", line {line}"
    if column is not None:
        text += f", column '{column}'"
    return text


class NotFoundError(PluralignError):
    """An id (assembly, participant, statement, panel ...) does not exist."""


class InfeasibleError(PluralignError):
    """Constraints (e.g. sortition quotas) cannot be satisfied."""


class StoreError(PluralignError):
    """The database cannot be opened, migrated or written."""


class ProviderError(PluralignError):
    """A language-model provider failed (server down, bad response, timeout)."""


class DependencyError(PluralignError):
    """An optional extra is needed: the message names the ``pip install`` to run."""


def require(module: str, extra: str):
    """Import an optional dependency or raise a :class:`DependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DependencyError(
            f"this feature needs the Python package '{module}' ({exc})",
            hint=f"pip install 'pluralign[{extra}]'",
        ) from exc
