"""The pipeline YAML (``pluralign run pipeline.yaml``): pydantic models with every default in one
place.

A pipeline file names the **inputs** (a simulated assembly, or real ones: a volunteer pool with
quotas or an existing panel; a Polis export folder or an assembly in the store; optionally a
constitution to start from and extra preference JSONL), the **model** (``smollm2``, the embedded
SmolLM2-135M-Instruct and the default; ``tiny`` to build a tiny random one for fast tests; or a
local transformers checkpoint; optionally an OpenAI-compatible server for the LLM stages) and
each stage's settings. :func:`load_pipeline_config` reads and validates it; an error names the
file and the YAML field (``pipeline.yaml: field 'train.max_steps': ...``). Relative paths are
resolved against the YAML file's folder. ``pluralign init`` writes :data:`EXAMPLE_YAML`.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from pluralign.aggregate.settings import AggregateSettings
from pluralign.constitution.settings import ConstitutionSettings
from pluralign.contract import Settings, default, help_of
from pluralign.data.settings import DataSettings, RoundDataSettings
from pluralign.errors import InputError, at
from pluralign.evaluate.settings import EvaluateSettings
from pluralign.llm.config import ProviderSettings
from pluralign.llm.settings import SynthSettings
from pluralign.models.settings import ModelSettings
from pluralign.moralgraph.settings import MoralGraphSettings
from pluralign.panel.settings import PanelSettings
from pluralign.report.settings import ReportSettings
from pluralign.simulate.settings import SimulateSettings
from pluralign.train.settings import TrainSettings


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Section(_Model):
    """A stage's section of pipeline.yaml, built from its settings class (:func:`section`)."""

    settings_cls: ClassVar[type[Settings]]

    def settings(self) -> Any:
        """The stage's settings (the dataclass) from this section."""
        names = {f.name for f in dataclasses.fields(self.settings_cls)}
        return self.settings_cls(**{k: v.settings() if isinstance(v, _Section) else v
                                    for k, v in self if k in names})


def section(cls: type[Settings], **engine_fields: Any) -> type[_Section]:
    """The pydantic model of ``cls``'s section of pipeline.yaml: one field per settings field
    (its default, help text and constraints; ``choices`` become a ``Literal``), plus
    ``engine_fields`` the run engine adds (``name=(type, Field(...))``). Fields holding another
    dataclass that is not a section of its own (the aggregation's consensus rule, set from the
    constitution's thresholds) are left out; a field holding another settings class is its
    own section, nested (``model.tiny``)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp, meta = hints[f.name], f.metadata
        if dataclasses.is_dataclass(tp) and not issubclass(tp, Settings):
            continue
        if dataclasses.is_dataclass(tp):
            nested = section(tp)
            fields[f.name] = (nested, Field(default_factory=nested,
                                            description=meta.get("help")))
            continue
        if "choices" in meta:
            lit = Literal[meta["choices"]]  # type: ignore[valid-type]
            tp = lit | None if type(None) in typing.get_args(tp) else lit
        bounds = {k: meta[k] for k in ("ge", "gt", "le", "lt") if k in meta}
        default = ({"default_factory": f.default_factory}
                   if f.default is dataclasses.MISSING else {"default": f.default})
        fields[f.name] = (tp, Field(**default, description=meta.get("help"), **bounds))
    model = create_model(f"{cls.__name__}Section", __base__=_Section, **fields, **engine_fields)
    model.settings_cls = cls
    model.__doc__ = cls.__doc__
    return model


SimulateInput = section(SimulateSettings)
"""A simulated assembly (``pluralign.simulate``) as the deliberation and volunteer pool."""


class StoreInput(_Model):
    """An assembly in the pluralign store (SQLite path or database URL)."""

    db: str = Field(description="Database URL or SQLite path of the store")
    slug: str = Field(description="Assembly slug")


class Inputs(_Model):
    """What the run starts from. Give ``simulate``, or one of ``polis`` / ``store``; or none of
    them with a ``constitution`` (and ``preferences`` or synthesis) to train on given data, as
    the web workbench's integration does (docs/rounds.md)."""

    simulate: SimulateInput | None = None  # type: ignore[valid-type]
    polis: Path | None = Field(None, description="Polis export folder (comments.csv, votes.csv)")
    store: StoreInput | None = None
    pool: Path | None = Field(None, description="Volunteer pool CSV (id + feature columns)")
    quotas: Path | None = Field(None, description="Quotas CSV (feature,value,min,max)")
    population: Path | None = Field(
        None, description="Population shares JSON {feature: {value: share}} (quotas and weights)"
    )
    panel: Path | None = Field(None, description="An existing panel CSV instead of pool+quotas")
    constitution: Path | None = Field(
        None, description="A constitution.yaml to start from (skips drafting)"
    )
    preferences: list[Path] = Field(
        default_factory=list, description="Extra preference JSONL files added to the data"
    )

    @model_validator(mode="after")
    def _check(self) -> Inputs:
        given = [n for n in ("simulate", "polis", "store") if getattr(self, n) is not None]
        if len(given) > 1 or (not given and self.constitution is None):
            raise ValueError(
                "give exactly one deliberation input: simulate, polis or store (or none of "
                "them with a constitution, to train on given preferences)"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if not given and any(
            getattr(self, n) is not None for n in ("pool", "quotas", "population", "panel")
        ):
            raise ValueError("a panel (pool, quotas, population, panel) needs a deliberation input")
        if self.panel is not None and self.pool is not None:
            raise ValueError("give either panel or pool (+ quotas or population), not both")
        if self.pool is not None and self.quotas is None and self.population is None:
            raise ValueError("pool needs quotas (or population shares to make quotas from)")
        if (self.quotas is not None) and self.pool is None and self.simulate is None:
            raise ValueError("quotas need a pool")
        return self


ModelSection = section(ModelSettings, llm=(ProviderSettings | None, Field(
    None,
    description="Provider for the LLM stages (pluralign.llm ProviderSettings); default: the "
    "embedded model through the local transformers provider (the tiny model when base is "
    "'tiny')",
)))
"""The model to fine-tune (:class:`~pluralign.models.settings.ModelSettings`), and the model the
LLM stages (synthesis) call."""


PanelSection = section(PanelSettings)


AggregateSection = section(AggregateSettings, panel_only=(bool, Field(
    True, description="Simulated input: aggregate only the panel members' votes")))


ConstitutionSection = section(ConstitutionSettings)


SynthSection = section(SynthSettings)


DataSection = section(DataSettings)


TrainSection = section(TrainSettings)


EvaluateSection = section(EvaluateSettings)


ReportSection = section(ReportSettings)


MoralGraphSection = section(MoralGraphSettings, enabled=(bool, Field(
    False, description="Add a simulated values assembly (demo only)")))


SYNTH_STEPS = ("questions", "answers", "critique", "revision")
"""The synthesis steps a round can run (``rounds.steps``; docs/rounds.md)."""
SynthStep = Literal["questions", "answers", "critique", "revision"]


class RoundsSettings(_Model):
    """Iterative bootstrapping (docs/rounds.md): round k+1 synthesises its data with round k's
    tuned model, trains from round k's weights and is evaluated on round 1's held-out pairs.
    ``rounds: N`` is short for ``rounds: {count: N}``."""

    count: int = Field(1, ge=1, le=50, description="Rounds to run (1: the plain pipeline)")
    steps: list[list[SynthStep]] | None = Field(
        None,
        description="Synthesis steps per round (a staged curriculum), e.g. [[questions, answers], "
        "[questions, answers, critique, revision]]; the last entry repeats for later rounds. "
        "questions+answers: the pair prefers the answer written with the clause as an explicit "
        "instruction; with critique+revision it prefers the revision. Default: every step. "
        "Round 1 of a simulated input trains on the panel's preferences: its entry is []",
    )
    min_improvement: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Stop after a round whose held-out preference accuracy (all pairs, after "
        "training) rose by this much or less over the previous round's (null: run every round)",
    )
    keep_people: bool = Field(default(RoundDataSettings, "keep_people"),
                              description=help_of(RoundDataSettings, "keep_people"))

    @model_validator(mode="before")
    @classmethod
    def _count_alone(cls, data: Any) -> Any:
        return {"count": data} if isinstance(data, int) and not isinstance(data, bool) else data

    @model_validator(mode="after")
    def _check_steps(self) -> RoundsSettings:
        if self.steps is None:
            return self
        if len(self.steps) > self.count:
            raise ValueError(f"steps lists {len(self.steps)} rounds but count is {self.count}")
        for i, steps in enumerate(self.steps):
            where = f"steps[{i}] (round {i + 1})"
            if len(set(steps)) != len(steps):
                raise ValueError(f"{where} names a step twice: {steps}")
            if not steps:
                continue  # a round without synthesis (checked against the input in the pipeline)
            for step, needs in (("questions", None), ("answers", "questions"),
                                ("critique", "answers"), ("revision", "critique"),
                                ("critique", "revision")):
                if needs is None and step not in steps:
                    raise ValueError(f"{where}: a synthesising round needs 'questions' "
                                     f"(got {steps})")
                if needs is not None and step in steps and needs not in steps:
                    raise ValueError(f"{where}: '{step}' needs '{needs}' (got {steps})")
            if "answers" not in steps:
                raise ValueError(f"{where}: a synthesising round needs 'answers' (got {steps})")
        return self

    def steps_of(self, k: int) -> tuple[str, ...] | None:
        """The synthesis steps of round ``k`` (1-based): None when not configured (every step)."""
        if self.steps is None:
            return None
        entry = self.steps[min(k, len(self.steps)) - 1]
        return tuple(s for s in SYNTH_STEPS if s in entry)


class PipelineConfig(_Model):
    """A whole run. Every stage's defaults live in the models above."""

    run_dir: Path = Path("pluralign-run")
    seed: int = 0
    threads: int | None = Field(
        None, ge=1, description="torch CPU threads (None: torch's default); 1 suits tiny models"
    )
    inputs: Inputs
    model: ModelSection = ModelSection()  # type: ignore[valid-type]
    panel: PanelSection = PanelSection()  # type: ignore[valid-type]
    aggregate: AggregateSection = AggregateSection()  # type: ignore[valid-type]
    constitution: ConstitutionSection = ConstitutionSection()  # type: ignore[valid-type]
    synth: SynthSection = SynthSection()  # type: ignore[valid-type]
    data: DataSection = DataSection()  # type: ignore[valid-type]
    train: TrainSection = TrainSection()  # type: ignore[valid-type]
    evaluate: EvaluateSection = EvaluateSection()  # type: ignore[valid-type]
    report: ReportSection = ReportSection()  # type: ignore[valid-type]
    moral_graph: MoralGraphSection = MoralGraphSection()  # type: ignore[valid-type]
    rounds: RoundsSettings = RoundsSettings()


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _resolve(value: Any, base: Path) -> Any:
    """Relative paths in the YAML are relative to its folder."""
    if isinstance(value, Path):
        return value if value.is_absolute() else (base / value)
    return value


def _resolve_paths(cfg: PipelineConfig, base: Path) -> PipelineConfig:
    inputs = cfg.inputs
    upd: dict[str, Any] = {
        k: _resolve(getattr(inputs, k), base)
        for k in ("polis", "pool", "quotas", "population", "panel", "constitution")
    }
    upd["preferences"] = [_resolve(p, base) for p in inputs.preferences]
    model = cfg.model
    from pluralign.models.embedded import is_embedded_name

    base_model = model.base
    if base_model != "tiny" and not is_embedded_name(base_model) \
            and not Path(base_model).is_absolute():
        base_model = str(base / base_model)
    llm = model.llm
    if llm is not None:
        keys = ("adapter", "cache_dir") if is_embedded_name(llm.checkpoint) else (
            "checkpoint", "adapter", "cache_dir")
        llm = llm.model_copy(update={k: _resolve(getattr(llm, k), base) for k in keys})
    return cfg.model_copy(update={
        "run_dir": _resolve(cfg.run_dir, base),
        "inputs": inputs.model_copy(update=upd),
        "model": model.model_copy(update={"base": base_model, "llm": llm}),
    })


def _line_of(text: str | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (the deepest existing one), if known."""
    if not text:
        return None
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(key)), None)
            key_node = next((k for k, v in node.value if k.value == str(key)), None)
            if match is None:
                break
            line, node = key_node.start_mark.line + 1, match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line if line is not None else (node.start_mark.line + 1 if node is not None else None)


def parse_pipeline_config(data: Any, source: str = "pipeline.yaml",
                          base: Path | None = None, text: str | None = None) -> PipelineConfig:
    """Validate a mapping as a :class:`PipelineConfig`; errors name ``source``, the YAML field
    and (given the file's ``text``) its line."""
    if not isinstance(data, dict):
        raise InputError("expected a mapping of settings (run_dir:, inputs:, model:, ...)",
                         where=source)
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InputError(f"field '{_field_path(loc)}': {first['msg']}{more}",
                         where=at(source, _line_of(text, loc)),
                         hint="`pluralign init` writes an example with every field") from None
    from pluralign.train.config import config_of, other_methods_fields

    others = other_methods_fields(cfg.train.method, cfg.train.model_fields_set)
    if others:  # train: takes every method's settings; the run's method must have those set
        raise InputError(f"field 'train.{others[0]}': not a setting of {cfg.train.method}",
                         where=at(source, _line_of(text, ("train", others[0]))),
                         hint="remove it, or choose the method it belongs to")
    for name in type(cfg).model_fields:  # the settings' own checks (across fields, too)
        sec = getattr(cfg, name)
        if isinstance(sec, _Section):
            try:
                sec.settings()
            except InputError as exc:
                where = str(exc.where or "")
                field = where if where.startswith("field ") else None
                loc = tuple(where.removeprefix("field '").rstrip("'").split(".")) if field \
                    else (name,)
                raise InputError(f"{field or f'section {name!r}'}: {exc.message}",
                                 where=at(source, _line_of(text, loc)), hint=exc.hint) from None
    try:  # the training method's rules across fields, now rather than after an hour of stages
        config_of(cfg.train.settings())
    except InputError as exc:
        loc = tuple(str(exc.where or "field 'train'").removeprefix("field '").rstrip("'")
                    .split("."))
        raise InputError(f"field '{_field_path(loc)}': {exc.message}",
                         where=at(source, _line_of(text, loc)), hint=exc.hint) from None
    return _resolve_paths(cfg, base) if base is not None else cfg


def with_rounds(cfg: PipelineConfig, count: int | None) -> PipelineConfig:
    """``cfg`` with ``rounds.count`` set from the ``--rounds`` option (None: unchanged)."""
    if count is None:
        return cfg
    try:
        rounds = RoundsSettings.model_validate({**cfg.rounds.model_dump(), "count": count})
    except ValidationError as exc:
        raise InputError(f"option '--rounds {count}': {exc.errors()[0]['msg']}",
                         hint="rounds.steps in the pipeline file may list at most COUNT rounds"
                         ) from None
    return cfg.model_copy(update={"rounds": rounds})


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    """Read ``pipeline.yaml``; relative paths are taken from the file's folder."""
    import yaml

    from pluralign.io import read_text, yaml_error

    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", where=str(path),
                         hint="write an example with `pluralign init`")
    text = read_text(path)  # UTF-8 (a BOM accepted), else a clean error naming the line
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, str(path), text) from None
    return parse_pipeline_config(data, str(path), path.parent.resolve(), text)


EXAMPLE_YAML = """\
# pluralign pipeline: `pluralign run pipeline.yaml [--from STAGE]`
# Every stage writes RUN_DIR/<stage>/ and, last, a manifest.json (inputs' sha256, settings, seed,
# versions, timings). A re-run skips stages whose inputs and settings did not change; a killed
# run resumes (training from its last checkpoint, LLM calls from the cache in RUN_DIR/llm-cache).
# Relative paths are relative to this file. Every field below shows its default unless marked.

run_dir: pluralign-run
seed: 0
threads: null        # torch CPU threads (null: torch's default; 1 is fastest for the tiny model)

inputs:
  # The deliberation: exactly one of polis (a Polis export folder), store (an assembly in the
  # pluralign store) or simulate (a synthetic assembly, as `pluralign demo` uses).
  polis: data/my-conversation          # comments.csv + votes.csv (example value)
  # store: {db: pluralign.db, slug: my-assembly}
  # simulate: {participants: 200, statements: 60, vote_rate: 0.5}

  # The panel (optional): a volunteer pool with quotas (or population shares to make quotas
  # from), selected by sortition; or an existing panel CSV.
  # pool: pool.csv                     # id + one column per feature
  # quotas: quotas.csv                 # feature,value,min,max
  # population: population.json        # {feature: {value: share}}: quotas and soft weights
  # panel: panel.csv                   # instead of pool + quotas

  # constitution: constitution.yaml    # start from this constitution instead of drafting one
  preferences: []                      # extra preference JSONL files (docs/preferences.md)

model:
  base: smollm2       # the embedded SmolLM2-135M-Instruct (converted once, offline); or 'tiny'
                      # (a tiny random model, for fast tests); or a local transformers checkpoint
  tiny: {vocab_size: 512, hidden_size: 64, layers: 2, heads: 4, pretrain_steps: 30}
  # The LLM stages (question synthesis, critique -> revision) use the embedded model locally
  # unless an OpenAI-compatible server (or another checkpoint) is given (docs/llm.md):
  # llm: {base_url: "http://127.0.0.1:8000/v1", model: my-model, api_key_env: OPENAI_API_KEY}

panel: {size: 40, method: leximin, slack: 0.1}
aggregate: {min_votes: 7, max_groups: 5, panel_only: true}
constitution: {title: Constitution, consensus_method: posterior, min_posterior: 0.25,
               min_group_votes: 3, embedder: auto}   # the consensus rule: docs/sensemaking.md §6
               # embedder auto: MiniLM when installed (pluralign[embed]), else TF-IDF
synth: {questions_per_clause: 2, attempts: 2, temperature: 0.7, max_tokens: 80, dedup: tfidf,
        language: auto}   # texts failing the quality gates are logged in synth/*.gates.jsonl
data: {weighting: auto, heldout_fraction: 0.3, unseen_fraction: 0.1, templates: all}
      # weighting: auto|hard|soft|representative; unseen_fraction: statements held out whole
train:               # any train.yaml key (docs/training.md §4); defaults suit LoRA on smollm2
  method: dpo        # dpo | kto | orpo
  lora: true
  learning_rate: 0.0005
  beta: 0.1
  sft_weight: 1.0    # RPO: + the preferred reply's token NLL (keeps the answers fluent)
  num_train_epochs: 1  # one pass over the merged pairs (max_steps: N instead caps the steps)
  per_device_train_batch_size: 4
  warmup_ratio: 0.1
  save_steps: 10
  max_length: 192
  lr_scheduler_type: linear
  precompute_ref_log_probs: true
evaluate: {margin: likelihood, beta: 0.1, n_boot: 1000, alpha: 0.05, min_group_size: 1,
           generations: 24, max_new_tokens: 64}
report: {title: null}
rounds: 1            # iterative bootstrapping (docs/rounds.md): {count: 3, steps: [[questions,
                     # answers], [questions, answers, critique, revision]], min_improvement: 0.01}
"""
"""The file ``pluralign init`` writes (it validates: a test parses it)."""
