"""The stage contract: settings classes check their constraints, every CLI option that sets a
stage setting has the settings class's default, pipeline.yaml's sections are built from the
settings classes, and the stage pages' settings tables are current."""

from __future__ import annotations

import dataclasses

import pytest

from pluralign.aggregate.settings import AggregateSettings
from pluralign.bootstrap import BootstrapSettings
from pluralign.constitution.settings import ConstitutionSettings
from pluralign.contract import Settings, default, setting, settings_from, settings_table
from pluralign.data.settings import DataSettings
from pluralign.errors import InputError
from pluralign.evaluate.settings import EvaluateSettings
from pluralign.llm.settings import SynthSettings
from pluralign.models.settings import ModelSettings, TinySettings
from pluralign.moralgraph.settings import GraphSummarySettings, MoralGraphSettings
from pluralign.panel.settings import PanelSettings
from pluralign.report.settings import ReportSettings
from pluralign.sensemaking.settings import SensemakingSettings
from pluralign.simulate.settings import SimulateSettings
from pluralign.train.settings import TrainSettings

COMMAND_SETTINGS = {
    ("aggregate",): AggregateSettings,
    ("simulate",): SimulateSettings,
    ("summarize",): SensemakingSettings,
    ("constitution", "draft"): ConstitutionSettings,
    ("evaluate",): EvaluateSettings,
    ("judge",): BootstrapSettings,
    ("eval-public", "results"): EvaluateSettings,
    ("panel", "select"): PanelSettings,
    ("panel", "quotas"): PanelSettings,
    ("model", "tiny"): TinySettings,
    ("moralgraph", "simulate"): MoralGraphSettings,
    ("moralgraph", "summarize"): GraphSummarySettings,
    ("moralgraph", "check"): GraphSummarySettings,
    ("report",): ReportSettings,
    ("data", "prefs"): DataSettings,
    ("data", "weight"): DataSettings,
    ("train",): TrainSettings,
    ("synth", "questions"): SynthSettings,
    ("synth", "revise"): SynthSettings,
}
"""Each command that runs a stage, and the settings class it parses its options into."""


def _command(path):
    from pluralign.cli import click_command

    cmd = click_command()
    for name in path:
        cmd = cmd.commands[name]
    return cmd


@pytest.mark.parametrize("path", sorted(COMMAND_SETTINGS))
def test_every_cli_option_default_is_the_settings_default(path):
    cls = COMMAND_SETTINGS[path]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    matched = []
    for param in _command(path).params:
        if param.name in fields and not param.required:
            assert param.default == default(cls, param.name), (path, param.name)
            matched.append(param.name)
    exposed = {n for n, f in fields.items() if f.metadata.get("cli", True)}
    assert matched and set(matched) <= exposed, (path, matched)


def test_every_settings_class_can_be_built_with_its_defaults_and_has_help():
    for cls in {*COMMAND_SETTINGS.values()}:
        obj = cls()
        assert dataclasses.is_dataclass(obj) and isinstance(obj, Settings)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.section_value = 1  # frozen
        for f in dataclasses.fields(cls):
            assert f.metadata.get("help"), (cls.__name__, f.name)


def test_pipeline_sections_are_built_from_the_settings_classes():
    from pluralign.run.config import PipelineConfig

    for name, cls in (("aggregate", AggregateSettings), ("evaluate", EvaluateSettings),
                      ("panel", PanelSettings), ("moral_graph", MoralGraphSettings),
                      ("report", ReportSettings), ("data", DataSettings),
                      ("train", TrainSettings), ("model", ModelSettings),
                      ("synth", SynthSettings), ("constitution", ConstitutionSettings)):
        section = PipelineConfig.model_fields[name].annotation
        assert section.settings_cls is cls
        built = PipelineConfig.model_fields[name].default.settings()
        assert built == cls()  # the same defaults, from one place
        for f in dataclasses.fields(cls):
            if f.name in section.model_fields:
                assert section.model_fields[f.name].description == f.metadata["help"]


@dataclasses.dataclass(frozen=True)
class _Toy(Settings):
    section = "toy"
    n: int = setting(3, "a count", ge=1, le=10)
    mode: str = setting("a", "a mode", choices=("a", "b"))
    rate: float | None = setting(None, "a rate", gt=0)


def test_constraints_name_the_field():
    assert _Toy().n == 3 and _Toy(rate=0.5).rate == 0.5
    for kwargs, match in (({"n": 0}, "field 'toy.n': must be >= 1"),
                          ({"n": 11}, "field 'toy.n': must be <= 10"),
                          ({"mode": "c"}, "field 'toy.mode'"),
                          ({"rate": 0.0}, "field 'toy.rate': must be > 0"),
                          ({"rate": float("inf")}, "finite")):
        with pytest.raises(InputError, match=match):
            _Toy(**kwargs)
    with pytest.raises(InputError, match="unknown setting"):
        settings_from(_Toy, {"n": 2, "typo": 1})
    assert settings_from(_Toy, {"n": 2}).replace(mode="b") == _Toy(n=2, mode="b")
    with pytest.raises(ValueError, match="help"):
        setting(1)


@dataclasses.dataclass(frozen=True)
class _LabelledToy(_Toy):
    section = ""
    label = "toy settings"


def test_a_class_that_is_no_section_names_itself_in_errors():
    from pluralign.contract import from_options

    with pytest.raises(InputError, match="^field 'n' of the toy settings: must be >= 1, got 0$"):
        _LabelledToy(n=0)
    with pytest.raises(InputError, match="^--n: must be >= 1, got 0$"):
        from_options(_LabelledToy, n=0)


def test_settings_table_lists_every_field_with_its_default():
    table = settings_table(_Toy).splitlines()
    assert table[2] == "| `n` | `3` | >= 1, <= 10 | a count |"
    assert table[3] == "| `mode` | `a` | a / b | a mode |"
    assert table[4] == "| `rate` | `null` | > 0 | a rate |"


def test_one_bootstrap_default_for_the_evaluation_and_the_judge():
    """The evaluation, public evaluation and the pairwise judge (library and command) take
    their resamples and confidence level from pluralign.bootstrap (the judge had 2000)."""
    import inspect

    from pluralign.bootstrap import ALPHA, N_BOOT
    from pluralign.llm.judge import run_judge
    from pluralign.llm.judge_stats import win_rate
    from pluralign.publiceval.stats import summarise

    def meta(cls):
        return {f.name: (f.default, dict(f.metadata)) for f in dataclasses.fields(cls)}

    evaluate, boot = meta(EvaluateSettings), meta(BootstrapSettings)
    assert boot == {"n_boot": (N_BOOT, boot["n_boot"][1]), "alpha": (ALPHA, boot["alpha"][1])}
    assert {k: evaluate[k] for k in boot} == boot  # same defaults, help and bounds
    assert inspect.signature(run_judge).parameters["n_boot"].default == N_BOOT
    params = inspect.signature(win_rate).parameters
    assert params["n_boot"].default == N_BOOT and params["confidence"].default == 1 - ALPHA
    params = inspect.signature(summarise).parameters
    assert params["n_boot"].default == N_BOOT and params["alpha"].default == ALPHA


def test_stage_pages_settings_tables_are_current():
    from pluralign.run.settingsdocs import DOCS, PAGES, render

    for page, refs in PAGES.items():
        text = (DOCS / page).read_text(encoding="utf-8")
        assert render(text, refs) == text, (
            f"docs/{page}: settings table stale: python -m pluralign.run.settingsdocs")
        if refs != ("pipeline",):  # (docs/pipeline.md: pipeline.yaml's sections, in place)
            assert text.splitlines()[2].startswith("<!-- settings:"), page  # under the title


def test_a_bad_option_value_names_the_option(capsys):
    from cli_inproc import run_inproc

    for args, message in ((["model", "tiny", "--texts", "t.txt", "--out", "o", "--layers", "0"],
                           "--layers: must be >= 1, got 0"),
                          (["evaluate", "--data", "d", "--out", "o", "--n-boot", "0"],
                           "--n-boot: must be >= 1, got 0"),
                          (["judge", "--prompts", "p", "-c", "c", "--n-boot", "0"],
                           "--n-boot: must be >= 1, got 0"),
                          (["aggregate", "x", "--min-votes", "0"],
                           "--min-votes: must be >= 1, got 0"),
                          (["train", "--data", "d", "--model", "m", "--out", "o",
                            "--learning-rate", "0"], "--learning-rate: must be > 0, got 0.0"),
                          (["train", "--data", "d", "--model", "m", "--out", "o",
                            "--method", "kto", "--sft-weight", "0.5"], "for kto: sft_weight")):
        code, _, err = run_inproc(capsys, *args)
        assert code == 1 and message in err and "Traceback" not in err, (args, err)


def test_the_example_pipeline_shows_the_training_defaults():
    """``pluralign init``'s pipeline.yaml, `pluralign train --help` and docs/training.md show
    the same training defaults: TrainSettings' (the command's defaults are checked above, the
    page's table by test_stage_pages_settings_tables_are_current)."""
    import yaml

    from pluralign.run.config import EXAMPLE_YAML, parse_pipeline_config

    train = yaml.safe_load(EXAMPLE_YAML)["train"]
    assert len(train) >= 10
    for name, value in train.items():
        assert value == default(TrainSettings, name), name
    assert parse_pipeline_config(yaml.safe_load(EXAMPLE_YAML)).train.settings() == TrainSettings()
