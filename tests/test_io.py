"""pluralign.io: atomic writes honour the umask and leave no half files; strict, located reads."""

from __future__ import annotations

import hashlib
import os
import stat
import threading

import pytest

from pluralign.errors import InputError
from pluralign.io import (
    atomic_folder,
    atomic_open,
    atomic_write_text,
    honour_umask,
    iter_jsonl,
    parse_json,
    parse_jsonl,
    read_json,
    read_text,
    read_yaml,
    sha256_file,
    sha256_path,
    write_json_atomic,
    write_jsonl_atomic,
)


@pytest.fixture
def umask():
    """Set the process umask for one test (xdist workers are separate processes)."""
    old = os.umask(0o022)
    os.umask(old)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755),
                                                            (0o077, 0o600, 0o700),
                                                            (0o002, 0o664, 0o775)])
def test_written_files_and_folders_honour_the_umask(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    assert mode(atomic_write_text(tmp_path / "a.txt", "x")) == file_mode
    assert mode(write_json_atomic(tmp_path / "sub" / "b.json", {"a": 1})) == file_mode
    assert mode(write_jsonl_atomic(tmp_path / "c.jsonl", [{"a": 1}])) == file_mode
    with atomic_folder(tmp_path / "model") as folder:
        (folder / "w.bin").write_bytes(b"1")
    assert mode(tmp_path / "model") == dir_mode
    assert mode(tmp_path / "model" / "w.bin") == file_mode


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n"
    with pytest.raises(ValueError):  # NaN refused on request: nothing written either
        write_json_atomic(target, {"x": float("nan")}, allow_nan=False)
    assert target.read_text() == "old\n"
    with pytest.raises(RuntimeError), atomic_folder(tmp_path / "m") as folder:
        (folder / "partial").write_text("x")
        raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_concurrent_writers_never_share_a_temporary_name(tmp_path):
    target = tmp_path / "shared.txt"
    errors = []

    def write(i: int) -> None:
        try:
            for _ in range(20):
                atomic_write_text(target, f"{i}\n" * 1000)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = set(target.read_text().splitlines())
    assert len(lines) == 1  # one writer's whole text, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]


def test_line_ends_are_written_as_given(tmp_path):
    p = atomic_write_text(tmp_path / "x.csv", "a\r\nb\n")
    assert p.read_bytes() == b"a\r\nb\n"


def test_sha256(tmp_path):
    (tmp_path / "d").mkdir()
    f = tmp_path / "d" / "f.bin"
    f.write_bytes(b"abc" * 100_000)
    assert sha256_file(f) == hashlib.sha256(b"abc" * 100_000).hexdigest()
    assert sha256_path(f) == sha256_file(f)
    before = sha256_path(tmp_path / "d")
    (tmp_path / "d" / "g").write_text("1")
    assert sha256_path(tmp_path / "d") != before
    after = sha256_path(tmp_path / "d")
    (tmp_path / "d" / "manifest.json").write_text('{"started": "now"}')  # a run stage's record
    assert sha256_path(tmp_path / "d") == after
    (tmp_path / "d" / "sub").mkdir()
    (tmp_path / "d" / "sub" / "manifest.json").write_text("{}")  # only the folder's own
    assert sha256_path(tmp_path / "d") != after


def test_text_reading_accepts_a_bom_and_names_bad_bytes(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes("\ufeffhé\n".encode())
    assert read_text(p) == "hé\n"
    p.write_bytes("ok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"t.txt: not UTF-8 text \(byte 0xe9 on line 2\)"):
        read_text(p)
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="found a folder"):
        read_text(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1,\n "weight": NaN}', r"f.json, line 2: field 'weight' is NaN, not a finite"),
        ('{"note": "NaN", "x": -Infinity}', r"f.json, line 1: field 'x' is -Infinity"),
        ("[1, 2,\n1e400]", r"f.json, line 2: 1e400 is not a finite number"),
        ('{"a": 1', r"f.json, line 1: invalid JSON \(Expecting ',' delimiter at column 8\)"),
        ("1" * 5000, r"f.json: invalid JSON \(an integer with too many digits\)"),
        ("[" * 100_000, r"f.json: invalid JSON \(nested too deeply\)"),
    ],
)
def test_json_is_strict_and_located(text, message):
    with pytest.raises(InputError, match=message):
        parse_json(text, "f.json")


def test_json_reading_accepts_a_bom(tmp_path):
    p = tmp_path / "x.json"
    p.write_bytes(b'\xef\xbb\xbf{"a": [1, 2.5, "NaN"]}')
    assert read_json(p) == {"a": [1, 2.5, "NaN"]}


def test_jsonl_is_streamed_strict_and_located(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n{"b": "\xe2\x80\xa8 stays one line"}\n')
    assert list(iter_jsonl(p)) == [(1, {"a": 1}), (3, {"b": "\u2028 stays one line"})]
    for body, message in [
        (b'{"a": 1}\n[1, 2]\n', r"x.jsonl, line 2: expected a JSON object, found list"),
        (b'{"a": 1}\n{"a": "caf\xe9"}\n', r"x.jsonl, line 2: not UTF-8 text \(byte 0xe9\)"),
        (b'{"a": 1}\n{"w": NaN}\n', r"x.jsonl, line 2: field 'w' is NaN"),
        (b'{"a": 1}\n{"w": \x00}\n', r"x.jsonl, line 2: invalid JSON"),
        (b'{"a": 1}\n{"a": ', r"x.jsonl, line 2: invalid JSON"),
    ]:
        p.write_bytes(body)
        with pytest.raises(InputError, match=message):
            list(iter_jsonl(p))
    with pytest.raises(InputError, match="missing.jsonl: file not found"):
        list(iter_jsonl(tmp_path / "missing.jsonl"))


def test_a_growing_jsonl_is_read_up_to_the_line_being_written(tmp_path):
    p = tmp_path / "job.jsonl"
    p.write_bytes(b'{"a": 1}\n{"b": 2}\n{"c": "h\xc3')  # the last line cut mid-character
    assert list(iter_jsonl(p, growing=True)) == [(1, {"a": 1}), (2, {"b": 2})]
    with pytest.raises(InputError, match="line 3"):
        list(iter_jsonl(p))  # a finished file: the cut line is an error
    p.write_bytes(b'{"a": 1}\n{"b": 2}')  # complete, only its newline missing
    assert list(iter_jsonl(p, growing=True)) == [(1, {"a": 1}), (2, {"b": 2})]
    p.write_bytes(b'{"a": 1}\n{"b": \n{"c": 3}\n')  # a broken line before the end
    with pytest.raises(InputError, match=r"job.jsonl, line 2: invalid JSON"):
        list(iter_jsonl(p, growing=True))


def test_jsonl_in_memory_reads_and_fails_as_a_file_does(tmp_path):
    body = b'\xef\xbb\xbf{"a": 1}\r\n\n{"b": "x\xe2\x80\xa8y"}\n'  # (U+2028 is no line end)
    p = tmp_path / "up.jsonl"
    p.write_bytes(body)
    assert list(parse_jsonl(body, "up.jsonl")) == list(iter_jsonl(p)) == [
        (1, {"a": 1}), (3, {"b": "x\u2028y"})]
    for bad in (b'{"a": 1}\n{"w": NaN}\n', b'{"a": 1}\n[1]\n', b'{"a": 1}\n{"a": "\xe9"}\n'):
        p.write_bytes(bad)
        with pytest.raises(InputError) as from_file:
            list(iter_jsonl(p))
        with pytest.raises(InputError) as in_memory:
            list(parse_jsonl(bad, str(p)))
        assert str(in_memory.value) == str(from_file.value)


def test_json_errors_are_marked_for_translation(tmp_path):
    from pluralign.errors import Msg

    for bad in (b'{"w": NaN}\n', b'[1]\n', b'{"a": \n', b'{"a": "\xe9"}\n'):
        with pytest.raises(InputError) as exc:
            list(parse_jsonl(bad, "up.jsonl"))
        assert isinstance(exc.value.message, Msg), bad


def test_yaml_reading_names_the_line_and_accepts_a_bom(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_bytes(b"\xef\xbb\xbfa: 1\nb: [2\n")
    with pytest.raises(InputError, match=r"c.yaml, line \d: not valid YAML"):
        read_yaml(p)
    p.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(p) == {"a": 1}


def test_honour_umask_widens_library_outputs(tmp_path, umask):
    umask(0o022)
    (tmp_path / "m" / "sub").mkdir(parents=True)
    weights = tmp_path / "m" / "sub" / "w.safetensors"
    weights.write_bytes(b"1")
    os.chmod(weights, 0o600)
    script = tmp_path / "m" / "run.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o700)
    os.chmod(tmp_path / "m" / "sub", 0o700)
    honour_umask(tmp_path / "m")
    assert (mode(weights), mode(script), mode(tmp_path / "m" / "sub")) == (0o644, 0o755, 0o755)


def test_filter_jsonl_keeps_the_rows_asked_for_atomically(tmp_path):
    from pluralign.io import filter_jsonl

    p = tmp_path / "curve.jsonl"
    p.write_text('{"step": 1, "loss": 0.9}\n{"step": 2, "loss": 0.8}\n\n{"step": 3}\n')
    assert filter_jsonl(p, lambda r: r["step"] <= 2) == [{"step": 1, "loss": 0.9},
                                                          {"step": 2, "loss": 0.8}]
    assert [obj for _, obj in iter_jsonl(p)] == [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.8}]
    assert filter_jsonl(tmp_path / "new.jsonl", lambda r: True) == []
    assert (tmp_path / "new.jsonl").read_text() == ""
    p.write_text('{"step": 1, "loss": NaN}\n')
    with pytest.raises(InputError, match="curve.jsonl, line 1: field 'loss' is NaN"):
        filter_jsonl(p, lambda r: True)
