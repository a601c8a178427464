"""The stage runner behind ``pluralign run`` and ``pluralign demo``: order, skip, resume.

A run is a folder. Each :class:`Stage` writes into ``RUN/<name>/`` and, last, a manifest (see
:mod:`pluralign.run.manifest`). On a re-run a stage is skipped when its fingerprint — its input
files' hashes, its settings, its seed and the fingerprints of the stages it reads from — is
unchanged;
``from_stage`` forces that stage and every later one to run again. A stage killed half-way has no
manifest, so it runs again; stages make that cheap themselves (checkpoints, LLM cache).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.contract import Settings, StageSpec
from pluralign.errors import PluralignError
from pluralign.io import sha256_path, write_json_atomic
from pluralign.provenance import library_versions
from pluralign.run.manifest import MANIFEST, fingerprint, read_manifest


@dataclass(frozen=True)
class StageFiles:
    """The result of a stage not (yet) on the stage contract: the files it wrote."""

    folder: Path
    files: tuple[str, ...]

    def write(self, folder: str | Path) -> Path:  # the stage wrote them itself
        return Path(folder)

    @classmethod
    def read(cls, folder: str | Path) -> StageFiles:
        folder = Path(folder)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file() and p.name != MANIFEST) if folder.is_dir() else []
        return cls(folder, tuple(files))


class StageResults(Mapping[str, Any]):
    """Each stage's result: the object a stage of this process returned, else (a stage skipped
    as up to date) its result class's ``read`` of the stage's folder, on first access."""

    def __init__(self, run_dir: Path, readers: Mapping[str, Any]) -> None:
        self._run_dir = Path(run_dir)
        self._readers = dict(readers)
        self._done: dict[str, Any] = {}

    def put(self, name: str, result: Any) -> None:
        self._done[name] = result

    def __getitem__(self, name: str) -> Any:
        if name not in self._done:
            reader = self._readers.get(name)
            if reader is None:
                raise KeyError(name)
            self._done[name] = reader.read(self._run_dir / name)
        return self._done[name]

    def __iter__(self):
        return iter(dict.fromkeys([*self._readers, *self._done]))

    def __len__(self) -> int:
        return len(set(self._readers) | set(self._done))


@dataclass
class StageContext:
    """What a stage function receives: where to write, where the run is, the seed, its
    settings and the results of the stages before it."""

    name: str
    run_dir: Path
    out: Path
    seed: int
    settings: dict[str, Any]
    results: Mapping[str, Any] = field(default_factory=dict)
    """Earlier stages' results (:class:`StageResults`: read back from their folders when they
    were skipped)."""
    folders: Mapping[str, str] = field(default_factory=dict)
    """Which stage's folder a stage name stands for (a later round's ``train`` reads
    ``round-2/data`` as its ``data``: :mod:`pluralign.run.rounds`)."""

    def stage_dir(self, name: str) -> Path:
        """Output folder of another stage of this run (``name`` as the stage knows it)."""
        return self.run_dir / self.folders.get(name, name)

    def result(self, name: str) -> Any:
        """The result of another stage of this run (``name`` as the stage knows it)."""
        return self.results[self.folders.get(name, name)]


@dataclass(frozen=True)
class Stage:
    """One step of a run.

    ``inputs`` returns the outside files the stage reads (their hashes enter the fingerprint);
    ``after`` names the earlier stages whose outputs it reads. ``run`` returns the stage's
    result (or None); ``result_cls.read(folder)`` gives it back when the stage is skipped.
    """

    name: str
    run: Callable[[StageContext], Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, Path] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    description: str = ""
    folders: Mapping[str, str] = field(default_factory=dict)
    """Stage names the function reads, mapped to the stages that stand for them (see
    :attr:`StageContext.folders`)."""
    result_cls: Any = None


@dataclass(frozen=True)
class StageOutcome:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float
    fingerprint: str


@dataclass(frozen=True)
class RunResult:
    """What a run did: each stage's outcome (ran or skipped, seconds) and each stage's result
    (``results[name]``; a skipped stage's is read back from its folder on first access)."""

    run_dir: Path
    outcomes: tuple[StageOutcome, ...]
    results: Mapping[str, Any] = field(default_factory=dict)

    def status(self, name: str) -> str:
        return next(o.status for o in self.outcomes if o.name == name)


def spec_stage(spec: StageSpec, settings: Settings, gather: Callable[[StageContext], Any], *,
               wiring: dict | None = None, after: tuple[str, ...] = (),
               inputs: dict[str, Path] | None = None, name: str | None = None,
               folders: dict[str, str] | None = None, description: str = "") -> Stage:
    """The runner stage of a contract stage: ``gather`` builds its inputs from the run (the
    configuration in ``ctx.settings``, earlier results in ``ctx.result``), ``spec.run`` computes
    the result, which is written into the stage's folder and handed to later stages. The
    settings and ``wiring`` (what the inputs are) make its fingerprint. ``name``: the stage's
    folder when it is not the spec's (a later round's ``round-2/evaluate``)."""

    def run(ctx: StageContext) -> Any:
        result = spec.run(gather(ctx), settings, ctx.seed)
        result.write(ctx.out)
        return result

    run.__doc__ = spec.run.__doc__
    return Stage(name or spec.name, run, settings={spec.name: settings.to_dict(), **(wiring or {})},
                 inputs=inputs or {}, after=after, description=description or spec.description,
                 result_cls=spec.result_cls, folders=folders or {})


def run_stages(
    stages: Sequence[Stage],
    run_dir: Path,
    *,
    seed: int,
    from_stage: str | None = None,
    on_start: Callable[[Stage], None] | None = None,
    on_done: Callable[[Stage, StageOutcome], None] | None = None,
) -> RunResult:
    """Run ``stages`` in order into ``run_dir``, skipping the ones that are up to date."""
    names = [s.name for s in stages]
    if len(set(names)) != len(names):
        raise PluralignError(f"duplicate stage names in {names}")
    if from_stage is not None and from_stage not in names:
        raise PluralignError(f"unknown stage '{from_stage}'", hint=f"stages: {', '.join(names)}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    prints: dict[str, str] = {}
    outcomes: list[StageOutcome] = []
    results = StageResults(run_dir, {s.name: s.result_cls or StageFiles for s in stages})
    forced = False
    for stage in stages:
        forced = forced or stage.name == from_stage
        for dep in stage.after:
            if dep not in prints:
                raise PluralignError(f"stage '{stage.name}' needs stage '{dep}' to run before it")
        missing = [f"{k}={p}" for k, p in stage.inputs.items() if not Path(p).exists()]
        if missing:
            raise PluralignError(f"stage '{stage.name}': input not found: {', '.join(missing)}")
        input_hashes = {k: sha256_path(Path(p)) for k, p in sorted(stage.inputs.items())}
        input_hashes.update({f"stage:{d}": prints[d] for d in stage.after})
        fp = fingerprint(input_hashes, stage.settings, seed)
        prints[stage.name] = fp
        out = run_dir / stage.name
        previous = read_manifest(out)
        if not forced and previous is not None and previous.get("fingerprint") == fp:
            outcome = StageOutcome(stage.name, "skipped", 0.0, fp)
            outcomes.append(outcome)
            if on_done:
                on_done(stage, outcome)
            continue
        if previous is not None:  # finished before with other inputs: start clean
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
        if on_start:
            on_start(stage)
        started = time.time()
        t0 = time.perf_counter()
        result = stage.run(StageContext(stage.name, run_dir, out, seed, dict(stage.settings),
                                        results, dict(stage.folders)))
        if result is not None:
            results.put(stage.name, result)
        seconds = time.perf_counter() - t0
        write_json_atomic(
            out / MANIFEST,
            {
                "stage": stage.name,
                "fingerprint": fp,
                "inputs": {
                    k: {
                        "sha256": h,
                        **({"path": str(stage.inputs[k])} if k in stage.inputs else {}),
                    }
                    for k, h in input_hashes.items()
                },
                "settings": dict(stage.settings),
                "seed": seed,
                "versions": library_versions(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                "seconds": round(seconds, 3),
                "outputs": sorted(
                    p.relative_to(out).as_posix()
                    for p in out.rglob("*")
                    if p.is_file() and p.name != MANIFEST
                )[:1000],
            },
            sort_keys=True,
            default=str,
        )
        outcome = StageOutcome(stage.name, "ran", seconds, fp)
        outcomes.append(outcome)
        if on_done:
            on_done(stage, outcome)
    return RunResult(run_dir, tuple(outcomes), results)
