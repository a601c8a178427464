"""Preference pairs: the schema, JSONL reading and writing, provenance, Hugging Face datasets.

A *preference pair* says that, for one ``prompt``, a person (or a constitution) preferred the
``chosen`` response over the ``rejected`` one. Every row carries:

``prompt, chosen, rejected``
    non-empty strings; ``chosen`` differs from ``rejected``.
``weight``
    a finite number >= 0: how much this pair counts in a weighted loss
    ``Σ wᵢ·ℓᵢ / Σ wᵢ`` (see :mod:`pluralign.data.weighting`). Default 1.
``group``
    the group the pair speaks for (an opinion group such as ``g1``, or a demographic value such as
    ``gender=female``); evaluation reports accuracy per group.
``source``
    where the pair came from: ``sim``, ``prism``, ``constitution``, ``llm`` ...
``provenance``
    a JSON object: participant id, statement ids, prompt id, prompt kind (consensus/divisive),
    split, demographics ... Keys a writer adds that are not columns above land here when read.

The file format is JSON Lines (one object per line, UTF-8). The provenance of the whole file (input
sha256, code version, seed, settings) lives in a sidecar ``<file>.provenance.json``; a reader also
accepts it as an optional first line ``{"__provenance__": {...}}``. Docs: ``docs/preferences.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.io import atomic_write_text, iter_jsonl, read_json

COLUMNS = ("prompt", "chosen", "rejected", "weight", "group", "source")
HEADER_KEY = "__provenance__"
SIDECAR_SUFFIX = ".provenance.json"


@dataclass(frozen=True)
class PreferencePair:
    """One preference pair (see the module docstring for the meaning of each field)."""

    prompt: str
    chosen: str
    rejected: str
    weight: float = 1.0
    group: str = ""
    source: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written for this pair (columns in a fixed order, then provenance)."""
        return {
            "prompt": self.prompt,
            "chosen": self.chosen,
            "rejected": self.rejected,
            "weight": self.weight,
            "group": self.group,
            "source": self.source,
            "provenance": dict(self.provenance),
        }

    def with_weight(self, weight: float) -> PreferencePair:
        """A copy with another weight."""
        return PreferencePair(
            self.prompt,
            self.chosen,
            self.rejected,
            float(weight),
            self.group,
            self.source,
            self.provenance,
        )

    @classmethod
    def from_dict(cls, obj: Any, *, where: str | None = None) -> PreferencePair:
        """Validate one decoded JSON object: the one validation of a preference pair, for every
        reader (``read_jsonl``, the trainers, evaluation). Errors name ``where`` (file and line)
        and the column at fault."""
        if not isinstance(obj, dict):
            raise InputError(f"expected a JSON object, got {type(obj).__name__}", where=where)

        def column(key: str) -> str:
            return f"{where}, column '{key}'" if where else f"column '{key}'"

        texts = {}
        for key in ("prompt", "chosen", "rejected"):
            if key not in obj:
                raise InputError(
                    f"missing column '{key}'",
                    where=where,
                    hint="every pair needs prompt, chosen and rejected (and weight, group, "
                    "source)",
                )
            value = obj[key]
            if not isinstance(value, str) or not value.strip():
                raise InputError(
                    f"'{key}' must be a non-empty string (got {value!r:.60})", where=column(key)
                )
            texts[key] = value
        if texts["chosen"] == texts["rejected"]:
            raise InputError("'chosen' and 'rejected' are the same text", where=column("rejected"))
        weight = obj.get("weight", 1.0)
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise InputError(
                f"weight must be a finite number >= 0 (got {weight!r})", where=column("weight")
            )
        labels = {}
        for key in ("group", "source"):
            value = obj.get(key, "")
            if value is None:
                value = ""
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise InputError(f"'{key}' must be a string (got {value!r:.60})",
                                 where=column(key))
            labels[key] = str(value)
        provenance = obj.get("provenance", {})
        if provenance is None:
            provenance = {}
        if not isinstance(provenance, dict):
            raise InputError("'provenance' must be a JSON object", where=column("provenance"))
        extra = {k: v for k, v in obj.items() if k not in COLUMNS and k != "provenance"}
        if extra:
            provenance = {**extra, **provenance}
        return cls(
            texts["prompt"],
            texts["chosen"],
            texts["rejected"],
            float(weight),
            labels["group"],
            labels["source"],
            provenance,
        )


@dataclass(frozen=True)
class PreferenceSet:
    """Pairs read from or written to one file, with the file's provenance."""

    pairs: tuple[PreferencePair, ...]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def of(cls, pairs: Sequence[PreferencePair], provenance: Mapping[str, Any] | None = None
           ) -> PreferenceSet:
        """The set as :func:`write_jsonl` writes it and :func:`read_jsonl` reads it back: the
        provenance with the file's ``rows``, ``sha256`` and per-group counts."""
        return cls(tuple(pairs), file_provenance(pairs, provenance))


def make_provenance(
    kind: str,
    *,
    inputs: Mapping[str, str | Path] | None = None,
    seed: int | None = None,
    settings: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Provenance of an artefact: what made it (``kind``), from which files (path and sha256,
    folders hashed file by file), with which code and library versions, seed and settings
    (:func:`pluralign.provenance.provenance`). No timestamps: the same run gives the same bytes."""
    from pluralign import __version__
    from pluralign.provenance import provenance

    out: dict[str, Any] = {"kind": kind, "version": __version__}
    out.update(provenance(dict(inputs or {}), settings, seed))
    out.update(extra)
    return out


def sidecar_path(path: str | Path) -> Path:
    """``prefs.jsonl`` → ``prefs.jsonl.provenance.json``."""
    p = Path(path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def dumps_pairs(pairs: Iterable[PreferencePair]) -> str:
    """The JSONL text of some pairs (no header line)."""
    return "".join(
        json.dumps(p.to_dict(), ensure_ascii=False, sort_keys=False) + "\n" for p in pairs
    )


def file_provenance(pairs: Sequence[PreferencePair], provenance: Mapping[str, Any] | None = None,
                    text: str | None = None) -> dict[str, Any]:
    """``provenance`` with what a file of ``pairs`` adds to it: ``rows`` (count), ``sha256`` of
    the JSONL bytes and per-group counts."""
    text = dumps_pairs(pairs) if text is None else text
    prov = dict(provenance or {})
    prov["rows"] = len(pairs)
    prov["sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    groups: dict[str, int] = {}
    for p in pairs:
        groups[p.group] = groups.get(p.group, 0) + 1
    prov["groups"] = dict(sorted(groups.items()))
    return prov


def write_jsonl(
    path: str | Path, pairs: Sequence[PreferencePair], provenance: Mapping[str, Any] | None = None
) -> Path:
    """Write pairs as JSONL and the provenance sidecar (both atomically); returns the path.

    The provenance gains ``rows`` (count), ``sha256`` of the JSONL bytes and per-group counts."""
    text = dumps_pairs(pairs)
    prov = file_provenance(pairs, provenance, text)
    atomic_write_text(path, text)
    atomic_write_text(sidecar_path(path), json.dumps(prov, indent=2, sort_keys=True) + "\n")
    return Path(path)


def read_jsonl(path: str | Path) -> PreferenceSet:
    """Read and validate a preference JSONL file.

    Blank lines are skipped. Every error names the file and the 1-based line number. The
    provenance comes from the sidecar if present, else from a ``{"__provenance__": ...}`` first
    line, else it is empty."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            "preference file not found",
            where=str(path),
            hint="give the path of a .jsonl file written by `pluralign data`",
        )
    pairs: list[PreferencePair] = []
    provenance: dict[str, Any] = {}
    for number, obj in iter_jsonl(path):
        where = at(path, number)
        if HEADER_KEY in obj:
            if pairs:
                raise InputError("a provenance header may only be the first line", where=where)
            if not isinstance(obj[HEADER_KEY], dict):
                raise InputError("the provenance header must hold a JSON object", where=where)
            provenance = dict(obj[HEADER_KEY])
            continue
        pairs.append(PreferencePair.from_dict(obj, where=where))
    side = sidecar_path(path)
    if side.is_file():
        provenance = read_json(side)
    return PreferenceSet(tuple(pairs), provenance)


def to_hf_dataset(pairs: Sequence[PreferencePair] | PreferenceSet):
    """A Hugging Face :class:`datasets.Dataset` with columns ``prompt, chosen, rejected, weight,
    group, source, provenance`` (provenance as a JSON string, since rows may hold different keys).

    The file-level provenance is stored in ``dataset.info.description`` as JSON. Needs the
    ``[train]`` extra (``datasets``)."""
    from pluralign.errors import require

    datasets = require("datasets", "train")
    file_prov: Mapping[str, Any] = {}
    if isinstance(pairs, PreferenceSet):
        file_prov = pairs.provenance
        pairs = pairs.pairs
    columns: dict[str, list] = {name: [] for name in (*COLUMNS, "provenance")}
    for p in pairs:
        columns["prompt"].append(p.prompt)
        columns["chosen"].append(p.chosen)
        columns["rejected"].append(p.rejected)
        columns["weight"].append(float(p.weight))
        columns["group"].append(p.group)
        columns["source"].append(p.source)
        columns["provenance"].append(json.dumps(dict(p.provenance), sort_keys=True))
    features = datasets.Features(
        {
            "prompt": datasets.Value("string"),
            "chosen": datasets.Value("string"),
            "rejected": datasets.Value("string"),
            "weight": datasets.Value("float64"),
            "group": datasets.Value("string"),
            "source": datasets.Value("string"),
            "provenance": datasets.Value("string"),
        }
    )
    info = datasets.DatasetInfo(
        description=json.dumps(dict(file_prov), sort_keys=True), features=features
    )
    return datasets.Dataset.from_dict(columns, features=features, info=info)


def from_hf_dataset(dataset) -> tuple[PreferencePair, ...]:
    """Pairs back from a dataset made by :func:`to_hf_dataset` (or any dataset with at least
    ``prompt, chosen, rejected``)."""
    out = []
    for i, row in enumerate(dataset):
        obj = dict(row)
        prov = obj.get("provenance")
        if isinstance(prov, str):
            obj["provenance"] = json.loads(prov) if prov else {}
        out.append(PreferencePair.from_dict(obj, where=f"dataset row {i}"))
    return tuple(out)
