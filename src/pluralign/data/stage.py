"""The preference-data stage: ``run(inputs, settings, seed) -> DataResult``.

Two sources, one result: a simulated assembly gives each panel member's choices on the
simulator's prompt bank (weighted as configured: :func:`pluralign.data.prefsets.
sim_preference_sets`); a real one gives the LLM synthesis's pairs, split by clause and by prompt
(``unseen_fraction`` of the clauses held back whole, then ``heldout_fraction`` of the other
prompts; seeded; weights mean 1 per split: :mod:`pluralign.data.split`). Extra preference
JSONL files join the training pairs (simulated) or the pairs that are split (real). The
result's files are ``train.jsonl`` and ``heldout.jsonl`` with their provenance sidecars
(docs/preferences.md); :meth:`DataResult.read` reads them back, so a resumed run trains and
evaluates on the stored pairs.
``pluralign data prefs`` calls the same ``run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pluralign.contract import StageSpec
from pluralign.data.preferences import PreferenceSet
from pluralign.data.settings import DataSettings, RoundDataSettings
from pluralign.errors import InputError

TRAIN_FILE = "train.jsonl"
HELDOUT_FILE = "heldout.jsonl"


@dataclass(frozen=True)
class DataInputs:
    """Where the pairs come from: a simulation folder (with the panel CSV, person weights,
    population targets, opinion groups and prompt bank that shape them), or synthesised pairs
    (a preference JSONL); and extra preference JSONL files."""

    simulation: Path | None = None
    panel: Path | None = None
    weights: Path | None = None
    targets: Path | None = None
    groups: Path | None = None
    bank: Path | None = None
    synthesised: Path | None = None
    extra: Sequence[Path] = ()


@dataclass(frozen=True)
class DataResult:
    """The training and the held-out pairs, each with its file's provenance."""

    train: PreferenceSet
    heldout: PreferenceSet

    def write_files(self, train: str | Path, heldout: str | Path) -> tuple[Path, Path]:
        """Write both sets (JSONL and provenance sidecar) to the paths given."""
        from pluralign.data.preferences import write_jsonl

        return (write_jsonl(train, self.train.pairs, self.train.provenance),
                write_jsonl(heldout, self.heldout.pairs, self.heldout.provenance))

    def write(self, folder: str | Path) -> Path:
        folder = Path(folder)
        self.write_files(folder / TRAIN_FILE, folder / HELDOUT_FILE)
        return folder / TRAIN_FILE

    @classmethod
    def read(cls, folder: str | Path) -> DataResult:
        from pluralign.data.preferences import read_jsonl

        folder = Path(folder)
        return cls(read_jsonl(folder / TRAIN_FILE), read_jsonl(folder / HELDOUT_FILE))


def _read_all(paths: Sequence[Path]) -> list:
    from pluralign.data.preferences import read_jsonl

    return [pair for p in paths for pair in read_jsonl(p).pairs]


def run(inputs: DataInputs, settings: DataSettings, seed: int) -> DataResult:
    """Preference pairs: each panel member's choices on the simulator's prompt bank, or the LLM
    synthesis's pairs, split into train.jsonl and heldout.jsonl (held-out prompts never
    trained on)."""
    from pluralign.data.preferences import make_provenance

    extra = {f"extra{i}": Path(p) for i, p in enumerate(inputs.extra)}
    if inputs.simulation is not None:
        from pluralign.data.prefsets import sim_preference_sets

        train, heldout = sim_preference_sets(
            inputs.simulation, weighting=settings.weighting, panel=inputs.panel,
            weights=inputs.weights, targets=inputs.targets, groups=inputs.groups,
            bank=inputs.bank, templates=settings.templates,
            heldout_fraction=settings.heldout_fraction,
            unseen_fraction=settings.unseen_fraction,
            prompts_per_member=settings.prompts_per_member, seed=seed,
            balance=settings.balance, balance_unit=settings.balance_unit,
            heldout_unseen=settings.heldout_unseen,
            group_source=settings.group_source)
        if extra:  # the simulated pairs' provenance (their sha256 too) is the upstream
            prov = make_provenance("preferences.pipeline", inputs=extra, seed=seed,
                                   upstream=dict(train.provenance))
            train = PreferenceSet.of([*train.pairs, *_read_all(list(extra.values()))], prov)
        return DataResult(train, heldout)

    from pluralign.data.split import split_by_prompt

    sources: dict[str, Path] = {}
    pairs = []
    if inputs.synthesised is not None and Path(inputs.synthesised).is_file():
        sources["synth"] = Path(inputs.synthesised)
        pairs.extend(_read_all([inputs.synthesised]))
    sources.update(extra)
    pairs.extend(_read_all(list(extra.values())))
    if not pairs:
        raise InputError("no preference pairs: the synthesis wrote none and no extra "
                         "preference files were given", hint="add inputs.preferences")
    parts = split_by_prompt(pairs, settings.heldout_fraction, seed, settings.unseen_fraction)
    sets = [PreferenceSet.of(part, make_provenance(
        "preferences.pipeline", inputs=sources, seed=seed,
        settings={"heldout_fraction": settings.heldout_fraction,
                  "unseen_fraction": settings.unseen_fraction}, split=split))
        for split, part in zip(("train", "heldout"), parts, strict=True)]
    return DataResult(sets[0], sets[1])


STAGE = StageSpec("data", DataSettings, run, DataResult,
                  reads=("simulate", "panel", "aggregate", "synth"))


@dataclass(frozen=True)
class RoundDataInputs:
    """A later round's sources: round 1's data folder (its held-out pairs, and its training
    pairs from people) and the round's synthesised pairs (None: the round synthesised none)."""

    first: Path
    synthesised: Path | None = None


def run_round(inputs: RoundDataInputs, settings: RoundDataSettings, seed: int) -> DataResult:
    """The round's pairs (its synthesis, plus round 1's pairs from people when keep_people; no
    held-out prompt, weights of mean 1); round 1's held-out pairs."""
    from pluralign.data.preferences import make_provenance, read_jsonl
    from pluralign.data.weighting import normalise_mean_one

    first = Path(inputs.first)
    heldout = read_jsonl(first / HELDOUT_FILE)
    held = {p.prompt for p in heldout.pairs}
    sources: dict[str, Path] = {}
    pairs = []
    synth = inputs.synthesised
    if synth is not None and Path(synth).is_file():
        sources["synth"] = Path(synth)
        pairs.extend(read_jsonl(synth).pairs)
    if settings.keep_people:
        sources["people"] = first / TRAIN_FILE
        pairs.extend(p for p in read_jsonl(first / TRAIN_FILE).pairs
                     if not p.source.startswith("synth"))
    pairs = [p for p in pairs if p.prompt not in held]
    if not pairs:
        raise InputError(
            f"round {settings.round} has no training pairs: its synthesis wrote none"
            + ("" if settings.keep_people else " and rounds.keep_people is false"),
            where=str(Path(synth).parent if synth is not None else first),
            hint="see the gate logs (synth/*.gates.json) or set rounds.keep_people: true",
        )
    weights = normalise_mean_one([p.weight for p in pairs])
    pairs = [p.with_weight(float(w)) for p, w in zip(pairs, weights, strict=True)]
    prov = make_provenance("preferences.rounds", inputs=sources, seed=seed,
                           settings={"round": settings.round,
                                     "keep_people": settings.keep_people}, split="train")
    return DataResult(PreferenceSet.of(pairs, prov), heldout)


ROUND = StageSpec("data", RoundDataSettings, run_round, DataResult, reads=("data", "synth"))
"""A later round's ``data`` stage (:mod:`pluralign.run.rounds`): round 1's held-out pairs are
written back as they were read (the same bytes)."""
