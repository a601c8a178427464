"""The stage contract: each stage package owns its settings, its ``run`` and its ``STAGE`` spec.

A stage package holds

* ``settings.py``: a frozen dataclass ``<Stage>Settings`` (a :class:`Settings` subclass) with
  every default and a help text per field, declared with :func:`setting`;
* ``run(inputs, settings, seed) -> <Stage>Result``, where ``Result.write(folder)`` and
  ``<Stage>Result.read(folder)`` round-trip (a resumed run reads results back instead of
  computing them again);
* ``STAGE = StageSpec(name, settings_cls, run, result_cls, reads=(...))``.

Everything else composes these: ``pipeline.yaml``'s schema is built from the settings classes
(:mod:`pluralign.run.config`), the run engine builds its stages from the specs
(:mod:`pluralign.run.pipeline`), a CLI command parses its options into the settings class (its
defaults are the dataclass's: :func:`default`), and each stage page in ``docs/`` starts with the
table :func:`settings_table` writes (``python -m pluralign.settingsdocs``).

Why stdlib dataclasses rather than pydantic models: the settings are imported by ``pluralign
--help`` (the options' defaults are theirs) and a stdlib dataclass costs nothing at import, while
pydantic builds a validator per class; the stages already validated their dataclasses in
``__post_init__`` with an :class:`~pluralign.errors.InputError` naming the field. The constraints
live in the field's metadata (:func:`setting`), so the same constraints check a dataclass built
in Python or from a CLI (:meth:`Settings.__post_init__`) and the pydantic models that validate
``pipeline.yaml`` (built from the fields, with YAML line numbers in their errors).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from pluralign.errors import InputError

S = TypeVar("S", bound="Settings")

_BOUNDS = {"ge": (">=", lambda v, b: v >= b), "gt": (">", lambda v, b: v > b),
           "le": ("<=", lambda v, b: v <= b), "lt": ("<", lambda v, b: v < b)}


def setting(default: Any = dataclasses.MISSING, help: str = "", *,  # noqa: A002 - the word
            factory: Callable[[], Any] | None = None, ge: float | None = None,
            gt: float | None = None, le: float | None = None, lt: float | None = None,
            choices: Sequence[Any] | None = None, cli: bool = True) -> Any:
    """A settings field: its default, its help text and its constraints (bounds on numbers,
    ``choices`` for a closed set of values). ``cli=False`` marks a field no command exposes
    (set in ``pipeline.yaml`` or Python only)."""
    if not help:
        raise ValueError("every setting needs a help text")
    meta = {"help": help, "cli": cli,
            **{k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}}
    if choices is not None:
        meta["choices"] = tuple(choices)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Base of every ``<Stage>Settings``: checks each field against its :func:`setting`
    constraints on construction (an :class:`InputError` naming the field)."""

    section: ClassVar[str] = ""
    """The stage's section in ``pipeline.yaml`` (``aggregate``, ``train``, ...)."""
    label: ClassVar[str] = ""
    """What an error names beside the field when the class is no ``pipeline.yaml`` section (a
    library's full settings, e.g. ``simulation settings``)."""

    def __post_init__(self) -> None:
        check_settings(self)

    def replace(self: S, **changes: Any) -> S:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data (nested settings as mappings): the run's fingerprint."""
        return dataclasses.asdict(self)


def check_settings(obj: Any) -> None:
    """Check every field of the dataclass ``obj`` against its metadata's constraints."""
    prefix = f"{obj.section}." if getattr(obj, "section", "") else ""
    label = f" of the {obj.label}" if getattr(obj, "label", "") else ""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        where = f"field '{prefix}{f.name}'{label}"
        if value is None or isinstance(value, bool):
            continue
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise InputError(f"{value!r} is not one of {', '.join(map(str, choices))}",
                             where=where)
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"must be a finite number, got {value!r}", where=where)
            for key, (sign, ok) in _BOUNDS.items():
                bound = f.metadata.get(key)
                if bound is not None and not ok(value, bound):
                    raise InputError(f"must be {sign} {bound}, got {value!r}", where=where)


def help_of(cls: type, name: str) -> str:
    """The help text of field ``name`` of the settings class ``cls``."""
    return next(f.metadata["help"] for f in dataclasses.fields(cls) if f.name == name)


def default(cls: type, name: str) -> Any:
    """The default of field ``name`` of the settings class ``cls`` (a CLI option's default)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def settings_from(cls: type[S], data: Mapping[str, Any], where: str = "") -> S:
    """``cls(**data)``, an unknown key or a bad value being an :class:`InputError`."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"unknown setting(s): {', '.join(unknown)}", where=where or None,
                         hint=f"known settings: {', '.join(sorted(known))}")
    return cls(**data)


def from_options(cls: type[S], **values: Any) -> S:
    """``cls(**values)`` for a CLI command: a bad value is an :class:`InputError` naming the
    option (``--n-boot: must be >= 1, got 0``) rather than the pipeline.yaml field."""
    try:
        return cls(**values)
    except InputError as exc:
        where = str(exc.where or "")
        name = where.removeprefix("field '").split("'", 1)[0].rsplit(".", 1)[-1]
        if not where.startswith("field '") or name not in values:
            raise
        raise InputError(f"--{name.replace('_', '-')}: {exc.message}", hint=exc.hint) from None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if dataclasses.is_dataclass(value):
        return "see below"
    return str(value)


def settings_table(cls: type) -> str:
    """The Markdown table of ``cls``'s fields: name, default, allowed values, help."""
    rows = ["| setting | default | allowed | what it does |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        meta = f.metadata
        allowed = " / ".join(map(_show, meta["choices"])) if "choices" in meta else ", ".join(
            f"{sign} {meta[k]}" for k, (sign, _) in _BOUNDS.items() if k in meta)
        text = meta.get("help", "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{f.name}` | `{_show(default(cls, f.name))}` | {allowed} | {text} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class StageSpec:
    """What the run engine needs of a stage: its name (its folder in a run), its settings
    class, its ``run`` function, its result class (whose ``read(folder)`` gives back what
    ``write(folder)`` wrote) and the stages whose results it reads."""

    name: str
    settings_cls: type
    run: Callable[..., Any]
    result_cls: type
    reads: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        """The first line of ``run``'s docstring (the run's progress bar shows it)."""
        return (self.run.__doc__ or "").strip().splitlines()[0] if self.run.__doc__ else ""


@dataclass(frozen=True)
class FilesResult:
    """A stage result that is the files it writes (name -> bytes, in writing order): for stages
    whose output is files other stages and the report read by name (the simulation, the
    panel). ``read`` gives back exactly what ``write`` wrote; a run's ``manifest.json`` is not
    part of it."""

    files: Mapping[str, bytes]

    def write(self, folder: Any) -> Any:
        from pathlib import Path

        from pluralign.io import atomic_write_bytes

        folder = Path(folder)
        for name, data in self.files.items():
            path = folder / name
            if not (path.is_file() and path.read_bytes() == data):  # (a stage that works in
                atomic_write_bytes(path, data)                       # place wrote it already)
        return folder

    @classmethod
    def read(cls, folder: Any) -> Any:
        from pathlib import Path

        from pluralign.io import RUN_MANIFEST

        folder = Path(folder)
        return cls({p.relative_to(folder).as_posix(): p.read_bytes()
                    for p in sorted(folder.rglob("*"))
                    if p.is_file() and p.name != RUN_MANIFEST})

    @classmethod
    def of_folder(cls, folder: Any, names: Sequence[str] | None = None) -> Any:
        """The files ``names`` of ``folder`` (all of them, as ``read``, when None)."""
        from pathlib import Path

        if names is None:
            return cls.read(folder)
        return cls({n: (Path(folder) / n).read_bytes() for n in names})
