"""Run manifests: what produced a stage's outputs, and whether it must be produced again.

Each stage of a run writes ``RUN/<stage>/manifest.json`` *last*, after its outputs. It records the
sha256 of every input file (folders hashed file by file, a stage folder's own manifest left out),
the stage settings, the seed, the package and library versions
(:func:`pluralign.provenance.library_versions`) and the timings. A stage is up to date when its
manifest exists and its *fingerprint* (sha256 over inputs' hashes, settings and seed) equals the
one it would have now; a killed stage has no manifest and runs again (its own work, such as
training checkpoints and the LLM cache, lets it resume cheaply).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pluralign.io import RUN_MANIFEST as MANIFEST


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal settings give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint(inputs: Mapping[str, str], settings: Mapping[str, Any], seed: int | None) -> str:
    """The identity of a stage's work: its inputs' hashes, its settings and its seed."""
    text = canonical_json({"inputs": dict(inputs), "settings": dict(settings), "seed": seed})
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(stage_dir: Path) -> dict[str, Any] | None:
    """A finished stage's manifest, or None (never run, or killed before it finished)."""
    path = Path(stage_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a torn manifest means the stage did not finish
