"""Inputs of sortition: the pool of volunteers, the quotas, population shares.

Formats (see ``docs/sortition.md``):

* pool CSV: a column ``id`` (unique, non-empty) and one column per feature (``gender``,
  ``region`` ...); every cell a category label. Other columns are ignored.
* quotas CSV: ``feature,value,min,max`` -- for every feature value, the smallest and largest
  number of panel members that may have it. Every value that occurs in the pool needs a row.
* population JSON: ``{feature: {value: share}}`` with shares of each feature summing to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pluralign.csvtable import read_table
from pluralign.errors import InputError, at
from pluralign.io import read_json

QUOTA_COLUMNS = ("feature", "value", "min", "max")
WRAPPER_KEYS = {"provenance", "note", "latent_group_shares"}
"""Keys of ``pluralign simulate``'s population.json beside its ``features``."""


@dataclass(frozen=True)
class Quota:
    """Panel members with ``feature == value`` must number between ``min`` and ``max``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class Quotas:
    """All quotas, in file order. ``source`` names the file (for error messages)."""

    items: tuple[Quota, ...]
    source: str = "quotas"

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.feature for q in self.items))

    def values(self, feature: str) -> tuple[str, ...]:
        return tuple(q.value for q in self.items if q.feature == feature)

    def get(self, feature: str, value: str) -> Quota | None:
        for q in self.items:
            if q.feature == feature and q.value == value:
                return q
        return None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(q.feature, q.value, q.min, q.max) for q in self.items], columns=list(QUOTA_COLUMNS)
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, source: str = "quotas") -> Quotas:
        """Quotas from a frame with columns ``feature,value,min,max``; validates every row."""
        missing = [c for c in QUOTA_COLUMNS if c not in frame.columns]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; "
                f"found {', '.join(map(str, frame.columns))}",
                where=at(source, 1),
                hint="the header must be: feature,value,min,max",
            )
        items: list[Quota] = []
        seen: dict[tuple[str, str], int] = {}
        for i, row in enumerate(frame.itertuples(index=False)):
            line = i + 2
            feature, value = str(row.feature).strip(), str(row.value).strip()
            if not feature or not value:
                raise InputError("empty feature or value", where=at(source, line))
            bounds = []
            for name in ("min", "max"):
                raw = str(getattr(row, name)).strip()
                try:
                    number = float(raw)
                except ValueError:
                    number = math.nan
                if not math.isfinite(number) or number != int(number) or number < 0:
                    raise InputError(
                        f"{name} must be a whole number >= 0, got {raw!r}",
                        where=at(source, line, name),
                    )
                bounds.append(int(number))
            lo, hi = bounds
            if lo > hi:
                raise InputError(
                    f"min {lo} > max {hi} for {feature}={value}", where=at(source, line)
                )
            if (feature, value) in seen:
                raise InputError(
                    f"duplicate quota for {feature}={value} (first on line {seen[feature, value]})",
                    where=at(source, line),
                )
            seen[feature, value] = line
            items.append(Quota(feature, value, lo, hi))
        if not items:
            raise InputError("no quotas", where=source, hint="add rows feature,value,min,max")
        return cls(tuple(items), source)


def read_quotas(path: str | Path) -> Quotas:
    """Read and validate a quotas CSV (``feature,value,min,max``)."""
    frame = _read_csv(path)
    return Quotas.from_frame(frame, source=str(path))


def read_pool(path: str | Path) -> pd.DataFrame:
    """Read a pool CSV: ``id`` plus one column per feature, all as strings."""
    frame = _read_csv(path)
    check_pool(frame, source=str(path))
    return frame


def _read_csv(path: str | Path) -> pd.DataFrame:
    frame = read_table(path).frame(strip=True)
    frame.attrs["source"] = str(path)  # build_instance names the pool file in its errors
    return frame


def check_pool(pool: pd.DataFrame, source: str = "pool") -> None:
    """Raise :class:`InputError` unless ``pool`` has a unique, non-empty ``id`` column."""
    if "id" not in pool.columns:
        raise InputError(
            f"no 'id' column; found {', '.join(map(str, pool.columns))}",
            where=at(source, 1),
            hint="the first line must name the columns: id,<feature>,<feature>...",
        )
    if len(pool) == 0:
        raise InputError("the pool is empty", where=source)
    ids = pool["id"].astype(str).str.strip()
    blank = ids == ""
    if blank.any():
        raise InputError("empty id", where=at(source, int(blank.to_numpy().argmax()) + 2, "id"))
    dup = ids.duplicated()
    if dup.any():
        i = int(dup.to_numpy().argmax())
        first = int((ids == ids.iloc[i]).to_numpy().argmax())
        raise InputError(
            f"duplicate id {ids.iloc[i]!r} (first on line {first + 2})",
            where=at(source, i + 2, "id"),
        )


def read_population(path: str | Path) -> dict[str, dict[str, float]]:
    """Read population shares ``{feature: {value: share}}`` (JSON) and check them.

    The shares may also sit under a ``"features"`` key next to provenance (``pluralign simulate``
    writes ``population.json`` that way)."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, Mapping) and "features" in data:
        data = data["features"]  # the simulator's file: {"provenance", "note", "features"}
        if not isinstance(data, Mapping):
            raise InputError("'features' must be an object {feature: {value: share}}",
                             where=str(path))
    elif isinstance(data, Mapping) and WRAPPER_KEYS & set(data):
        raise InputError(
            "no 'features' object beside the provenance",
            where=str(path),
            hint='the shares go under "features": {feature: {value: share}}',
        )
    return check_population(data, source=str(path))


def check_population(data: object, source: str = "population") -> dict[str, dict[str, float]]:
    """Validate ``{feature: {value: share}}``: shares >= 0, summing to 1 (+-1e-6) per feature."""
    if not isinstance(data, Mapping) or not data:
        raise InputError("expected an object {feature: {value: share}}", where=source)
    out: dict[str, dict[str, float]] = {}
    for feature, shares in data.items():
        if not isinstance(shares, Mapping) or not shares:
            raise InputError(f"feature {feature!r}: expected {{value: share}}", where=source)
        clean = {}
        for value, share in shares.items():
            if (
                isinstance(share, bool)
                or not isinstance(share, int | float)
                or not 0 <= share <= 1  # NaN fails this too
            ):
                raise InputError(
                    f"{feature}={value}: share must be a number from 0 to 1, got {share!r}",
                    where=source,
                )
            clean[str(value)] = float(share)
        total = sum(clean.values())
        if abs(total - 1.0) > 1e-6:
            raise InputError(
                f"feature {feature!r}: shares add up to {total:.6g}, not 1", where=source
            )
        out[str(feature)] = clean
    return out


def quotas_from_population(
    shares: Mapping[str, Mapping[str, float]], k: int, slack: float = 0.1
) -> Quotas:
    """Quotas that keep a panel of ``k`` close to population ``shares``.

    For a value with population share ``s`` the target is ``t = s * k`` seats; the quota is
    ``min = floor(t * (1 - slack))`` and ``max = ceil(t * (1 + slack))``, so ``slack=0`` gives the
    tightest integer interval ``[floor(t), ceil(t)]`` around ``t`` (then ``min <= t <= max`` always;
    the sum of the minimums is at most ``k`` and the sum of the maximums at least ``k``).
    """
    if k < 1:
        raise InputError(f"panel size must be >= 1, got {k}")
    if not slack >= 0:
        raise InputError(f"slack must be >= 0, got {slack}")
    shares = check_population(shares)
    items = []
    for feature, values in shares.items():
        for value, share in values.items():
            target = share * k
            lo = max(0, math.floor(target * (1 - slack) + 1e-9))
            hi = min(k, math.ceil(target * (1 + slack) - 1e-9))
            items.append(Quota(feature, value, lo, max(lo, hi)))
    return Quotas(tuple(items), source="population shares")


def write_quotas(quotas: Quotas, path: str | Path) -> None:
    quotas.to_frame().to_csv(path, index=False)
