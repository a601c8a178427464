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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def load_train_config(
    source: str | Path | Mapping[str, Any] | CommonConfig | None, method: str | None = None
) -> CommonConfig:
    """Build and validate the config of ``method`` from a YAML path, a mapping, or a config."""
    if isinstance(source, CommonConfig):
        if method and source.method != method:
            raise InputError(f"config is for {source.method}, not {method}", where="method")
        return source
    where = "config"
    data: dict[str, Any]
    if source is None:
        data = {}
    elif isinstance(source, (str, Path)):
        from pluralign.io import read_yaml

        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise InputError(f"config file not found: {path}", hint="pass --config train.yaml")
        loaded = read_yaml(path)
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise InputError("expected a mapping of field: value", where=where)
        data = dict(loaded)
    else:
        data = dict(source)
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
    cls = CONFIGS[method]
    known = set(cls.field_help())
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(
            f"unknown setting(s) for {method}: {', '.join(unknown)}",
            where=where,
            hint=f"known settings: {', '.join(sorted(known))}",
        )
    try:
        config = cls(**data)
    except InputError as exc:
        exc.where = f"{where}: {exc.where}" if exc.where else where
        raise InputError(exc.message, where=exc.where, hint=exc.hint) from None
    except TypeError as exc:
        raise InputError(str(exc), where=where) from None
    return config
