"""Errors meant for users.

Every :class:`PluralignError` says what went wrong, where (file, line, column or field), and what to
do. The CLI prints it without a traceback and exits with status 1.

Messages the web app shows to participants and organisers are marked with :func:`N_`:
``InputError(N_("keep it under %(n)s characters", n=1000), where="text")``. ``N_`` returns a
:class:`Msg`, a ``str`` whose value is the English text (so the CLI, logs and ``str(exc)`` are
unchanged) that also keeps its message id and parameters; the web app translates it at display
time in the request's language with :meth:`PluralignError.render` (see
``pluralign.web.i18n.error_text``). ``pybabel extract`` finds ``N_`` with its default keywords,
so every marked message lands in the web catalogue (babel.cfg lists the modules).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


class Msg(str):
    """A translatable message: its ``str`` value is the English text, ``msgid % params``.

    Parameters that are themselves :class:`Msg` are translated too (e.g. a translated field
    name inside a sentence); other parameters (file names, numbers, user input) are kept.
    """

    __slots__ = ("msgid", "params")

    def __new__(cls, msgid: str, params: dict | None = None):
        params = dict(params or {})
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # picklable (str subclasses with extra state need this)
        return (Msg, (self.msgid, self.params))

    def translate(self, gettext: Callable[[str], str] | None) -> str:
        """The message in the language of ``gettext`` (English without one)."""
        if gettext is None:
            return str(self)
        params = {k: translate(v, gettext) for k, v in self.params.items()}
        text = gettext(self.msgid)
        try:
            return text % params if params else text
        except (KeyError, ValueError, TypeError):  # a broken translation: say it in English
            return self.msgid % params if params else self.msgid


def N_(msgid: str, **params) -> Msg:  # noqa: N802 - the conventional gettext marker name
    """Mark a user-facing message for translation; ``%(name)s`` placeholders take ``params``."""
    return Msg(msgid, params)


def translate(text, gettext: Callable[[str], str] | None) -> str | None:
    """``text`` translated when it is a :class:`Msg`; plain strings (and ``None``) as they are."""
    if isinstance(text, Msg):
        return text.translate(gettext)
    return None if text is None else str(text)


class PluralignError(Exception):
    """Base class of all errors a user can act on.

    ``message``, ``where`` and ``hint`` may be :class:`Msg` (marked with :func:`N_`): ``str(exc)``
    is always English; :meth:`render` gives the text in another language.
    """

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return self.render()

    def render(self, gettext: Callable[[str], str] | None = None, *, with_hint: bool = True) -> str:
        """``where: message`` (and the hint on a new line), translated by ``gettext`` when
        given; the hint line's label is translated too."""
        message = translate(self.message, gettext)
        where = translate(self.where, gettext)
        text = f"{where}: {message}" if where else message
        if with_hint and self.hint:
            label = gettext("hint") if gettext else "hint"
            text += f"\n  {label}: {translate(self.hint, gettext)}"
        return text


class InputError(PluralignError):
    """A file or value given by the user is malformed or inconsistent."""


def at(path: str | Path, line: int | None = None, column: str | None = None) -> str:
    """Format a location: ``file.csv, line 12, column 'vote'`` (a :class:`Msg`: the web app shows
    "line" and "column" in the reader's language; file and column names stay as they are)."""
    if line is not None and column is not None:
        return N_(
            "%(file)s, line %(line)s, column '%(column)s'", file=str(path), line=line, column=column
        )
    if line is not None:
        return N_("%(file)s, line %(line)s", file=str(path), line=line)
    if column is not None:
        return N_("%(file)s, column '%(column)s'", file=str(path), column=column)
    return str(path)


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
