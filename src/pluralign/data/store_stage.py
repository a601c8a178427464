"""The run's store as two run stages, for a simulated input: ``store`` loads the simulated
conversation (with the pool's demographics) into the run's own store, ``RUN/pluralign.db``, as
a real assembly would be; ``summary`` counts what the store holds beside what the simulation's
truth says (``summary.json``: the report's headline and appendix read it).

Both follow the stage contract (``run(inputs, settings, seed) -> result``, the result's
``write`` and ``read`` round-trip); the slug is :class:`StoreSettings`' and the file is
:data:`DB_FILE`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.contract import Settings, StageSpec, setting

DB_FILE = "pluralign.db"
"""The run's store (``RUN/pluralign.db``)."""


@dataclass(frozen=True)
class StoreSettings(Settings):
    """Where the run stores the simulated conversation."""

    section = "store"

    slug: str = setting("demo", "Slug of the assembly the simulated conversation is stored as.",
                        cli=False)


@dataclass(frozen=True)
class StoreInputs:
    """The simulation's folder (a Polis export with ``pool.csv`` and ``truth.json``) and the
    store file to load it into (started fresh: the run owns it)."""

    simulation: Path
    db: Path


@dataclass(frozen=True)
class StoreResult:
    """Which store and assembly hold the conversation (``store.json``)."""

    db: str
    slug: str

    def write(self, folder: str | Path) -> Path:
        from pluralign.io import atomic_write_text

        path = Path(folder) / "store.json"
        atomic_write_text(path, json.dumps({"db": self.db, "slug": self.slug}) + "\n")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> StoreResult:
        from pluralign.io import read_json

        data = read_json(Path(folder) / "store.json", what="store record")
        return cls(str(data["db"]), str(data["slug"]))


def run_store(inputs: StoreInputs, settings: StoreSettings, seed: int) -> StoreResult:
    """Load the simulated conversation (with pool demographics) into ``RUN/pluralign.db``."""
    from pluralign.data.polis import import_polis
    from pluralign.store import open_store

    path = Path(inputs.db)
    for suffix in ("", "-wal", "-shm"):  # the run owns this store: start it fresh
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(str(path))
    try:
        import_polis(store, inputs.simulation, settings.slug)
    finally:
        store.dispose()
    return StoreResult(str(path), settings.slug)


@dataclass(frozen=True)
class SummarySettings(Settings):
    """The summary has no settings of its own: it counts."""

    section = "summary"


@dataclass(frozen=True)
class SummaryInputs:
    """The run's store (``store``'s result) and the simulation's ``truth.json`` content."""

    store: StoreResult
    truth: dict[str, Any]


@dataclass(frozen=True)
class SummaryResult:
    """What the store holds (participants, statements, votes) and what the simulation's truth
    says (consensus and divisive statements, latent groups and their shares)."""

    summary: dict[str, Any] = field(default_factory=dict)

    def write(self, folder: str | Path) -> Path:
        from pluralign.io import atomic_write_text

        path = Path(folder) / "summary.json"
        atomic_write_text(path, json.dumps(self.summary, indent=2) + "\n")
        return path

    @classmethod
    def read(cls, folder: str | Path) -> SummaryResult:
        from pluralign.io import read_json

        return cls(read_json(Path(folder) / "summary.json", what="simulation summary"))


def run_summary(inputs: SummaryInputs, settings: SummarySettings, seed: int) -> SummaryResult:
    """Count what the store holds and what the simulation's truth says (``summary.json``)."""
    from pluralign.store import open_store
    from pluralign.store.queries import assembly_counts, get_assembly

    store = open_store(inputs.store.db)
    try:
        with store.session() as s:
            summary: dict[str, Any] = assembly_counts(s, get_assembly(s, inputs.store.slug).id)
    finally:
        store.dispose()
    truth = inputs.truth
    summary["true_consensus"] = len(truth["consensus"])
    summary["true_divisive"] = len(truth["divisive"])
    summary["latent_groups"] = len(truth["groups"])
    pool_size = sum(g["pool_count"] for g in truth["groups"]) or 1
    summary["group_shares"] = {
        g["id"]: {"population": g["population_share"],
                  "pool": round(g["pool_count"] / pool_size, 4)} for g in truth["groups"]}
    return SummaryResult(summary)


STORE = StageSpec("store", StoreSettings, run_store, StoreResult, reads=("simulate",))
SUMMARY = StageSpec("summary", SummarySettings, run_summary, SummaryResult,
                    reads=("store", "simulate"))
