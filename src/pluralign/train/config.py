"""Training configuration from YAML (or a dict): one dataclass per method.

A ``train.yaml`` is a flat mapping of field names to values, e.g.::

    method: dpo          # optional; must agree with --method when both are given
    beta: 0.1
    learning_rate: 5.0e-4
    per_device_train_batch_size: 8
    gradient_accumulation_steps: 2
    max_steps: 60
    lora: false

Unknown keys are errors (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pluralign.errors import InputError
from pluralign.train.common_config import CommonConfig
from pluralign.train.dpo_config import WeightedDPOConfig
from pluralign.train.kto_config import WeightedKTOConfig
from pluralign.train.orpo_config import WeightedORPOConfig

CONFIGS: dict[str, type[CommonConfig]] = {
    "dpo": WeightedDPOConfig,
    "kto": WeightedKTOConfig,
    "orpo": WeightedORPOConfig,
}
METHODS = tuple(CONFIGS)

if TYPE_CHECKING:
    from pluralign.train.settings import TrainSettings


def read_train_mapping(source: str | Path | Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The field: value mapping of a ``train.yaml`` path (or a mapping, or None: empty) and
    where it came from (for error messages)."""
    if source is None:
        return {}, "config"
    if not isinstance(source, (str, Path)):
        return dict(source), "config"
    from pluralign.io import read_yaml

    path = Path(source)
    if not path.is_file():
        raise InputError(f"config file not found: {path}", hint="pass --config train.yaml")
    loaded = read_yaml(path)
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise InputError("expected a mapping of field: value", where=str(path))
    return dict(loaded), str(path)


def resolve_method(data: dict[str, Any], method: str | None, where: str) -> str:
    """The method of a config mapping (its ``method`` key is popped) and an explicit
    ``method``: they must agree; default dpo."""
    file_method = data.pop("method", None)
    if method and file_method and file_method != method:
        raise InputError(
            f"the config says method {file_method!r} but {method!r} was asked for",
            where=where,
            hint="drop 'method' from the file or make them agree",
        )
    method = method or file_method or "dpo"
    if method not in CONFIGS:
        raise InputError(
            f"unknown method {method!r}", where=where, hint=f"use one of {', '.join(METHODS)}"
        )
    return method


def check_known(data: Mapping[str, Any], method: str, where: str) -> None:
    """Every key of ``data`` is a setting of ``method``."""
    known = set(CONFIGS[method].field_help())
    unknown = sorted(set(data) - known - {"method"})
    if unknown:
        raise InputError(
            f"unknown setting(s) for {method}: {', '.join(unknown)}",
            where=where,
            hint=f"known settings: {', '.join(sorted(known))}",
        )


def load_train_config(
    source: str | Path | Mapping[str, Any] | CommonConfig | None, method: str | None = None
) -> CommonConfig:
    """Build and validate the config of ``method`` from a YAML path, a mapping, or a config
    (defaults: :class:`~pluralign.train.settings.TrainSettings`'s)."""
    if isinstance(source, CommonConfig):
        if method and source.method != method:
            raise InputError(f"config is for {source.method}, not {method}", where="method")
        return source
    data, where = read_train_mapping(source)
    method = resolve_method(data, method, where)
    check_known(data, method, where)
    try:
        config = CONFIGS[method](**data)
    except InputError as exc:
        exc.where = f"{where}: {exc.where}" if exc.where else where
        raise InputError(exc.message, where=exc.where, hint=exc.hint) from None
    except TypeError as exc:
        raise InputError(str(exc), where=where) from None
    return config


def train_settings(source: str | Path | Mapping[str, Any] | None = None,
                   method: str | None = None, **given: Any):
    """:class:`~pluralign.train.settings.TrainSettings` from a ``train.yaml`` (path or
    mapping), with ``given`` (options set on the command line) on top; a bad value names the
    file's field, or the option."""
    from pluralign.contract import from_options
    from pluralign.train.settings import TrainSettings

    data, where = read_train_mapping(source)
    method = resolve_method(data, method, where)
    check_known({**data, **given}, method, where)
    try:
        config_of(TrainSettings(method=method, **data))
    except InputError as exc:
        found = str(exc.where or "").removeprefix("field 'train.").rstrip("'")
        raise InputError(exc.message, where=f"{where}: config field '{found}'",
                         hint=exc.hint) from None
    settings = from_options(TrainSettings, method=method, **{**data, **given})
    try:
        config_of(settings)
    except InputError as exc:  # a rule across fields, broken by an option given
        name = str(exc.where or "").removeprefix("field 'train.").rstrip("'")
        raise InputError(exc.message, where=f"--{name.replace('_', '-')}" if name in given
                         else where, hint=exc.hint) from None
    return settings


def method_fields(method: str) -> frozenset[str]:
    """The settings ``method`` takes (its config's fields)."""
    return frozenset(f.name for f in dataclasses.fields(CONFIGS[method]))


def other_methods_fields(method: str, given: Mapping[str, Any] | set[str]) -> list[str]:
    """The names in ``given`` that are settings of another method only (an error to set)."""
    return sorted(set(given) - method_fields(method) - {"method"})


def config_of(settings: TrainSettings, seed: int | None = None) -> CommonConfig:
    """The method's config (``WeightedDPOConfig``, ...) of ``settings``: the fields the method
    has, the seed being ``settings.seed``, else ``seed``, else 0. It checks the method's rules
    across fields too (KTO's batch estimate needs 2 rows a batch, QLoRA needs LoRA); a bad value
    is an :class:`InputError` naming ``field 'train.<name>'``."""
    names = method_fields(settings.method)
    data = {k: v for k, v in dataclasses.asdict(settings).items() if k in names}
    data["seed"] = settings.seed if settings.seed is not None else (seed or 0)
    try:
        return CONFIGS[settings.method](**data)
    except InputError as exc:
        found = re.search(r"config field '([^']+)'", str(exc.where or ""))
        where = f"field 'train.{found.group(1)}'" if found else exc.where
        raise InputError(exc.message, where=where, hint=exc.hint) from None
