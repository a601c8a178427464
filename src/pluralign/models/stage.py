"""The model stage: ``run(inputs, settings, seed) -> ModelResult``.

It records the run's base model — the embedded SmolLM2 (converted once into its cache), a local
checkpoint, or the tiny random model built here from the run's texts — in ``model.json`` (its
path, name, parameters, licence, sha256 and whether it has a chat template: generations, the
evaluation and the default LLM prompt the model as chat). :meth:`ModelResult.read` reads
``model.json`` back, so a resumed run hands the same model on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pluralign.contract import StageSpec
from pluralign.errors import InputError
from pluralign.models.settings import ModelSettings, TunedModelSettings

MODEL_FILE = "model.json"


@dataclass(frozen=True)
class ModelInputs:
    """The texts the tiny model learns its tokenizer and words from (base ``tiny`` only) and
    the folder it is built in."""

    texts: Sequence[str] = ()
    folder: Path | None = None


@dataclass(frozen=True)
class ModelResult:
    """The base model: its folder and what :func:`pluralign.models.model_info` says of it."""

    path: Path
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str | None:
        """How the run named it: ``smollm2``, ``tiny``, a folder."""
        return self.info.get("source")

    def write(self, folder: str | Path) -> Path:
        from pluralign.io import write_json_atomic

        path = Path(folder) / MODEL_FILE
        write_json_atomic(path, {"path": str(self.path), **self.info})
        return path

    @classmethod
    def read(cls, folder: str | Path) -> ModelResult:
        from pluralign.io import read_json

        data = dict(read_json(Path(folder) / MODEL_FILE))
        return cls(Path(data.pop("path")), data)


def run(inputs: ModelInputs, settings: ModelSettings, seed: int) -> ModelResult:
    """Record the base model (the embedded SmolLM2, converted once, or a checkpoint), or build
    the tiny offline model from the run's texts; model.json says what it is."""
    from pluralign.models import is_embedded_name, model_info, require_chat_template

    if is_embedded_name(settings.base):
        from pluralign.models import embedded_checkpoint

        path = embedded_checkpoint()
    elif settings.base != "tiny":
        path = Path(settings.base)
        if not (path / "config.json").is_file():
            raise InputError("not a transformers checkpoint folder (no config.json)",
                             where=str(path),
                             hint="set model.base to 'smollm2', 'tiny' or a model folder")
    else:
        from pluralign.models.info import quiet_libraries
        from pluralign.models.tiny import build_tiny_model

        if inputs.folder is None:
            raise ValueError("the tiny model needs a folder to be built in")
        quiet_libraries()
        path = build_tiny_model(list(inputs.texts), Path(inputs.folder) / "tiny",
                                **settings.tiny.to_dict(), seed=seed)
    require_chat_template(Path(path))
    return ModelResult(Path(path).resolve(), model_info(path, source=settings.base))


STAGE = StageSpec("model", ModelSettings, run, ModelResult,
                  reads=("data", "constitution", "aggregate"))


@dataclass(frozen=True)
class TunedModelInputs:
    """The previous round's tuned model folder and how the run names it (the stage that
    trained it: ``train``, ``round-2/train``)."""

    path: Path
    source: str


def run_tuned(inputs: TunedModelInputs, settings: TunedModelSettings, seed: int) -> ModelResult:
    """Record the previous round's tuned model as this round's base (model.json)."""
    from pluralign.models import model_info, require_chat_template

    path = Path(inputs.path).resolve()
    require_chat_template(path)
    return ModelResult(path, model_info(path, source=inputs.source))


TUNED = StageSpec("model", TunedModelSettings, run_tuned, ModelResult, reads=("train",))
"""A later round's ``model`` stage (:mod:`pluralign.run.rounds`)."""
