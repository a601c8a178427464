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
import os
import platform
import tempfile
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from pluralign import __version__

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
CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_path(path: Path) -> str:
    """sha256 of a file, or of a folder as the sorted (relative name, file hash) list."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(sha256_file(child).encode())
        return digest.hexdigest()
    raise FileNotFoundError(path)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal settings give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries that can change results (absent ones omitted)."""
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


def write_json_atomic(path: Path, value: Any) -> None:
    """Write JSON to ``path`` through a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
