"""Reading and writing files, one way everywhere.

Writes are atomic: the text goes to a uniquely named temporary file in the target's folder, is
flushed and fsynced, then renamed over the target, so a reader (or a killed run) never sees half
a file. The temporary file is created with mode ``0o666`` and the process umask applies, exactly
as for ``open(path, "w")`` (``tempfile.mkstemp`` would leave every output ``0600``).

Reads are strict and say where: text must be UTF-8 (a leading byte-order mark is accepted and
dropped, as spreadsheet programs write one), JSON may not hold ``NaN``/``Infinity`` or numbers
too large for a float, and every error is an :class:`~pluralign.errors.InputError` naming the
file and the line.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from pluralign.errors import N_, InputError, at

CHUNK = 1 << 20
BOM = "\ufeff"


# -- writing -------------------------------------------------------------------------------------


def _temp_beside(path: Path) -> tuple[int, Path]:
    """Open a new, uniquely named file next to ``path`` (mode 0o666 minus the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file beside {path}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:  # elsewhere: set and restore (not atomic for other threads' creates)
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def honour_umask(path: str | Path) -> None:
    """Give ``path`` (and, for a folder, everything below it) the mode the umask implies:
    ``0o666 & ~umask`` for files (``0o777`` for executables and folders). For outputs of
    libraries that write ``0600`` files (safetensors does), so the run's folder reads the same
    for everyone the umask lets in."""
    path = Path(path)
    mask = current_umask()
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in paths:
        if p.is_symlink():
            continue
        current = p.stat().st_mode
        full = 0o777 if p.is_dir() or current & 0o111 else 0o666
        wanted = full & ~mask
        if current & 0o777 != wanted:
            os.chmod(p, wanted)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, encoding: str = "utf-8") -> Iterator[IO]:
    """A handle whose content replaces ``path`` when the ``with`` block ends without an error
    (``mode`` ``"w"`` for text, ``"wb"`` for bytes); on an error the target is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes only ('w' or 'wb'), not {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temp_beside(path)
    try:
        if mode == "wb":
            handle = os.fdopen(fd, "wb")
        else:  # newline="": line ends exactly as written
            handle = os.fdopen(fd, "w", encoding=encoding, newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A new empty folder beside ``path`` that replaces ``path`` (and all it held) when the
    ``with`` block ends without an error; on an error it is removed and ``path`` is untouched.
    The folder and all written into it get the modes the umask implies (``tempfile.mkdtemp``
    would make it ``0700``; some libraries write ``0600`` files)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            tmp.mkdir(0o777)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a temporary folder beside {path}")
    try:
        yield tmp
        honour_umask(tmp)  # what libraries wrote inside (safetensors makes 0600 files)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders created); returns the path."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8, line ends exactly as given); returns it."""
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)
    return Path(path)


def write_json_atomic(
    path: str | Path,
    value: Any,
    *,
    indent: int | None = 2,
    sort_keys: bool = False,
    ensure_ascii: bool = False,
    default: Any = None,
    allow_nan: bool = True,
) -> Path:
    """Write ``value`` as JSON (and a final newline) to ``path`` atomically; returns the path.

    ``allow_nan=False`` refuses ``NaN`` and infinities (``ValueError``): JSON proper has no such
    numbers, and :func:`read_json` does not read them back."""
    text = json.dumps(
        value,
        indent=indent,
        sort_keys=sort_keys,
        ensure_ascii=ensure_ascii,
        default=default,
        allow_nan=allow_nan,
    )
    return atomic_write_text(path, text + "\n")


def write_jsonl_atomic(path: str | Path, rows: Iterable[Any], *, sort_keys: bool = False) -> Path:
    """Write one JSON value per line to ``path`` atomically (streamed, not built in memory)."""
    with atomic_open(path) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=sort_keys, allow_nan=False))
            handle.write("\n")
    return Path(path)


# -- hashing -------------------------------------------------------------------------------------


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths) -> str:
    """Hex sha256 of several files' bytes, one after the other in the given order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            while block := handle.read(CHUNK):
                digest.update(block)
    return digest.hexdigest()


RUN_MANIFEST = "manifest.json"
"""A run stage's own record in its folder (when it ran, for how long, its fingerprint):
bookkeeping, not the stage's data. A folder's hash (:func:`sha256_path`) and a stage's files
(:class:`pluralign.contract.FilesResult`) leave it out, so two identical runs hash a stage's
folder alike."""


def sha256_path(path: str | Path) -> str:
    """sha256 of a file, or of a folder as the sorted (relative name, file hash) list of its
    files, a run stage's :data:`RUN_MANIFEST` at its top left out (its data files only: the
    simulation's folder in a run hashes as the same simulation written anywhere else)."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*")
                            if p.is_file() and p != path / RUN_MANIFEST):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(sha256_file(child).encode())
        return digest.hexdigest()
    raise FileNotFoundError(path)


# -- reading text --------------------------------------------------------------------------------


def decode_text(data: bytes, where: str) -> str:
    """``data`` as UTF-8 text without a leading BOM; other bytes are an :class:`InputError`
    naming the line and the byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"not UTF-8 text (byte 0x{byte} on line {line})",
            where=where,
            hint="save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
        ) from None
    return text[1:] if text.startswith(BOM) else text


def read_text(path: str | Path, *, what: str = "file") -> str:
    """The UTF-8 text of ``path`` (a leading BOM dropped); a missing file, a folder, an
    unreadable file or other bytes are an :class:`InputError` naming the file."""
    path = Path(path)
    with _open_input(path, what) as handle:
        data = handle.read()
    return decode_text(data, str(path))


def _open_input(path: Path, what: str) -> IO[bytes]:
    """``path`` opened for reading bytes; a missing, folder or unreadable path is an
    :class:`InputError` naming it."""
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise InputError(f"{what} not found", where=str(path)) from None
    except IsADirectoryError:
        raise InputError(f"expected a {what}, found a folder", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", where=str(path)) from None


# -- JSON ----------------------------------------------------------------------------------------

class _NotFinite(ValueError):
    def __init__(self, token: str):
        super().__init__(token)
        self.token = token


def _refuse_constant(token: str):
    raise _NotFinite(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _NotFinite(token)
    return value


def _locate(text: str, token: str) -> tuple[int | None, str | None]:
    """Line and key of the first JSON value spelled ``token`` outside strings (to point a user
    at it): strings are matched whole, so a ``NaN`` inside one is never taken for the value."""
    pattern = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.])' + re.escape(token) + r"(?![\w.])")
    last = None
    for match in pattern.finditer(text):
        if match.group(0).startswith('"'):
            last = match
            continue
        key = None
        if last is not None and re.fullmatch(r"\s*:\s*", text[last.end() : match.start()]):
            key = last.group(0)[1:-1]
        return text.count("\n", 0, match.start()) + 1, key
    return None, None


def parse_json(text: str, where: str, *, line: int | None = None) -> Any:
    """Parse strict JSON: no ``NaN``/``Infinity``, no number beyond a float's range. Errors
    name ``where`` and the line (``line`` when the text is one line of a bigger file)."""
    if text.startswith(BOM):
        text = text[1:]
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        n = line if line is not None else exc.lineno
        raise InputError(N_("invalid JSON (%(reason)s at column %(column)s)", reason=exc.msg,
                            column=exc.colno), where=at(where, n)) from None
    except _NotFinite as exc:
        found, key = _locate(text, exc.token)
        n = line if line is not None else found
        raise InputError(
            N_("field '%(key)s' is %(token)s, not a finite number", key=key, token=exc.token)
            if key is not None else N_("%(token)s is not a finite number", token=exc.token),
            where=at(where, n),
            hint=N_("JSON numbers must be finite; write null for a missing value"),
        ) from None
    except ValueError as exc:  # Python refuses integers of more than 4300 digits
        reason = (N_("invalid JSON (an integer with too many digits)") if "digits" in str(exc)
                  else N_("invalid JSON (%(reason)s)", reason=str(exc)))
        raise InputError(reason, where=at(where, line)) from None
    except RecursionError:
        raise InputError(N_("invalid JSON (nested too deeply)"), where=at(where, line)) from None


def read_json(path: str | Path, *, what: str = "file") -> Any:
    """Read a strict JSON file (see :func:`parse_json`)."""
    return parse_json(read_text(path, what=what), str(path))


def iter_jsonl(path: str | Path, *, what: str = "file", growing: bool = False
               ) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file, streamed.

    Every line must be one strict JSON object (see :func:`parse_json`) in UTF-8 (a BOM on the
    first line is accepted); the first error stops the iteration with an :class:`InputError`
    naming the file and the line. ``growing``: another process may be appending to the file
    (a job's progress), so a last line that has no newline yet and does not parse is being
    written: it ends the iteration instead of being an error."""
    path = Path(path)
    with _open_input(path, what) as handle:
        yield from _jsonl_objects(handle, str(path), growing=growing)


def filter_jsonl(path: str | Path, keep: Callable[[dict], bool]) -> list[dict]:
    """Rewrite the JSON Lines file ``path`` (atomically) with only the objects ``keep`` accepts
    and return them; a missing file becomes an empty one. A resumed training cuts its logs
    back to the checkpoint's step this way."""
    path = Path(path)
    kept = [obj for _, obj in iter_jsonl(path) if keep(obj)] if path.exists() else []
    write_jsonl_atomic(path, kept)
    return kept


def parse_jsonl(data: bytes, where: str) -> Iterator[tuple[int, dict]]:
    """:func:`iter_jsonl` of JSON Lines held in memory (an uploaded file named ``where``): the
    same rules and the same errors."""
    return _jsonl_objects(io.BytesIO(data), where)


def _jsonl_objects(lines: Iterable[bytes], where: str, *, growing: bool = False
                   ) -> Iterator[tuple[int, dict]]:
    for number, raw in enumerate(lines, start=1):
        try:
            obj = _jsonl_object(raw, where, number)
        except InputError:
            if growing and not raw.endswith(b"\n"):
                return  # the last line, still being written
            raise
        if obj is not None:
            yield number, obj


def _jsonl_object(raw: bytes, where: str, number: int) -> dict | None:
    """The object on line ``number`` (None for a blank line)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            N_("not UTF-8 text (byte 0x%(byte)s)", byte=raw[exc.start:exc.start + 1].hex()),
            where=at(where, number),
            hint=N_("save the file as UTF-8"),
        ) from None
    if number == 1 and line.startswith(BOM):
        line = line[1:]
    if not line.strip():
        return None
    obj = parse_json(line, where, line=number)
    if not isinstance(obj, dict):
        raise InputError(N_("expected a JSON object, found %(type)s", type=type(obj).__name__),
                         where=at(where, number))
    return obj


# -- YAML ----------------------------------------------------------------------------------------


def yaml_error(exc: Exception, where: str, text: str = "", hint: str | None = None) -> InputError:
    """A one-line :class:`InputError` for a PyYAML error, naming the line where PyYAML says
    (its own messages span several lines)."""
    import yaml

    line = None
    problem = str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        problem = exc.problem or exc.context or problem
    elif isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1 if text else None
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = "a NUL byte" if code == 0 else f"the control character #x{code:04x}"
    return InputError(f"not valid YAML: {' '.join(problem.split())}", where=at(where, line),
                      hint=hint)


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML (safe loader); a syntax error names the line."""
    import yaml

    if text.startswith(BOM):
        text = text[1:]
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(exc, where, text) from None


def read_yaml(path: str | Path, *, what: str = "file") -> Any:
    """Read a YAML file (UTF-8, BOM accepted); errors name the file and line."""
    return parse_yaml(read_text(path, what=what), str(path))


# -- numbers -------------------------------------------------------------------------------------


def finite_number(value: Any, where: str, *, name: str = "value") -> float:
    """``value`` as a float when it is a finite real number (not a bool); else an
    :class:`InputError` naming ``where`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{name} must be a number, got {value!r}", where=where)
    try:
        number = float(value)
    except OverflowError:
        raise InputError(f"{name} {value} is too large", where=where) from None
    if not math.isfinite(number):
        raise InputError(f"{name} must be a finite number, got {value!r}", where=where)
    return number
