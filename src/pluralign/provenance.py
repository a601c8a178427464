"""Provenance records: what produced an artefact (its inputs' sha256, settings, seed, versions).

Stages put :func:`provenance` into the files they write (preference JSONL, metrics); the run engine
puts :func:`library_versions` into each stage's manifest (:mod:`pluralign.run.manifest`). This
module sits below both, beside :mod:`pluralign.io`.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pluralign import __version__
from pluralign.io import sha256_path

LIBRARIES = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "highspy",
    "torch",
    "transformers",
    "trl",
    "peft",
    "accelerate",
    "datasets",
)


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries that can change results (absent ones omitted)."""
    from importlib import metadata  # ~10 ms: not at import (the CLI's --help imports this)

    found = {"python": platform.python_version(), "pluralign": __version__}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def provenance(
    inputs: Mapping[str, Path | str],
    settings: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """A provenance record for any artefact: input hashes, settings, seed, code versions."""
    return {
        "inputs": {
            name: {"path": str(p), "sha256": sha256_path(Path(p))} for name, p in inputs.items()
        },
        "settings": dict(settings or {}),
        "seed": seed,
        "versions": library_versions(("numpy", "scipy", "pandas", "scikit-learn")),
    }
