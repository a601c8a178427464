"""The constitution as a run stage: ``run(inputs, settings, seed) -> ConstitutionResult``.

The run engine hands it the run's aggregation (or a given ``constitution.yaml`` to take as it
is); ``pluralign constitution draft`` hands it the aggregation of the conversation it read and
an LLM writer. Its files are ``constitution.yaml`` and ``constitution.md`` and, when the stage
also writes the grounded summary of the same topic model (a run does: templates, no LLM;
docs/sensemaking.md §5), ``topics.json``, ``summary.json`` and ``summary.md``.
:meth:`ConstitutionResult.read` reads them back, so a resumed run does not draft again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.constitution.settings import ConstitutionSettings
from pluralign.contract import StageSpec


@dataclass(frozen=True)
class ConstitutionInputs:
    """What the constitution is drafted from: an
    :class:`~pluralign.aggregate.AggregateResult`, or a ``given`` constitution file taken as
    it is. ``writer``: a :class:`~pluralign.sensemaking.writer.Writer` wording the clauses with
    an LLM (None: the cleaned statements). ``summary``: also the grounded summary of the same
    topic model. ``require_clauses``: a constitution without clauses is an error naming the
    threshold that stopped the closest statement (as pipeline.yaml's field)."""

    aggregate: Any = None
    given: Path | None = None
    writer: Any = None
    summary: bool = False
    require_clauses: bool = False


@dataclass(frozen=True)
class ConstitutionResult:
    """The constitution and, when the stage wrote it, the summary of its topic model (a
    :class:`~pluralign.sensemaking.run.SensemakingResult`)."""

    constitution: Any
    sensemaking: Any = None

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write the files of the module docstring; returns constitution.yaml's and .md's
        paths."""
        from pluralign.constitution import write_constitution

        if self.sensemaking is not None:
            self.sensemaking.write(folder)
        return write_constitution(self.constitution, folder)

    @classmethod
    def read(cls, folder: str | Path) -> ConstitutionResult:
        from pluralign.constitution import load_constitution

        folder = Path(folder)
        sense = None
        if (folder / "topics.json").is_file():
            from pluralign.sensemaking.run import SensemakingResult

            sense = SensemakingResult.read(folder)
        return cls(load_constitution(folder / "constitution.yaml"), sense)


def run(inputs: ConstitutionInputs, settings: ConstitutionSettings,
        seed: int) -> ConstitutionResult:
    """Draft the constitution from cross-group consensus, or take the given one."""
    from pluralign.errors import InputError

    if inputs.given is not None:
        from pluralign.constitution import load_constitution

        constitution = load_constitution(inputs.given)
        if not constitution.clauses:
            raise InputError("the given constitution has no clauses", where=str(inputs.given))
        return ConstitutionResult(constitution)
    from pluralign.constitution.draft import draft_constitution, no_consensus_reason

    result = inputs.aggregate
    if result is None:
        raise InputError("the constitution stage needs an aggregation or a given constitution")
    sense = topics = None
    if inputs.summary:  # one topic model for the constitution and the summary beside it
        from pluralign.sensemaking import SensemakingSettings
        from pluralign.sensemaking import run as sensemaking_run

        sense = sensemaking_run(result, SensemakingSettings(
            embedder=settings.embedder, max_topics=settings.max_topics, stability_seeds=0),
            seed=seed)
        topics = sense.topics
    constitution = draft_constitution(result, settings=settings, writer=inputs.writer,
                                      topics=topics)
    if inputs.require_clauses and not constitution.clauses:
        raise InputError(
            "the constitution has no clauses: no statement is cross-group consensus; "
            + no_consensus_reason(result, settings, lambda f: f"constitution.{f}"),
            where="pipeline.yaml constitution",
            hint="change that threshold in pipeline.yaml's constitution section, or give "
            "inputs.constitution",
        )
    return ConstitutionResult(constitution, sense)


STAGE = StageSpec("constitution", ConstitutionSettings, run, ConstitutionResult,
                  reads=("aggregate",))
