"""Run manifests: what produced an artefact, and whether it must be produced again.

Each stage of a run writes ``RUN/<stage>/manifest.json`` *last*, after its outputs. It records the
sha256 of every input file (folders hashed file by file), the stage settings, the seed, the package
and library versions and the timings. A stage is up to date when its manifest exists and its
*fingerprint* (sha256 over inputs' hashes, settings and seed) equals the one it would have now;
a killed stage has no manifest and runs again (its own work, such as training checkpoints and the
LLM cache, lets it resume cheaply).
"""

from __future__ import annotations

import hashlib
import json
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


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal settings give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


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


def fingerprint(inputs: Mapping[str, str], settings: Mapping[str, Any], seed: int | None) -> str:
    """The identity of a stage's work: its inputs' hashes, its settings and its seed."""
    text = canonical_json({"inputs": dict(inputs), "settings": dict(settings), "seed": seed})
    return hashlib.sha256(text.encode()).hexdigest()


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
