"""Shared fixtures: stores on SQLite and PostgreSQL, paths to the shared real data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared/data beside the clone; git worktrees one level deeper (e.g. wt/<name>) look one up.
SHARED_DATA = next(
    (p for p in (REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data")
     if p.is_dir()),
    REPO.parent / "shared" / "data",
)
POLIS_CONVERSATIONS = ("brexit-consensus", "15-per-hour-seattle", "football-concussions")
PG_ENV = "PLURALIGN_TEST_POSTGRES_URL"


def pytest_configure(config):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # one torch thread per test worker: `-n 2` on two cores already fills them, and two
        # OpenMP threads per worker spin against each other (many times slower on the real model)
        os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def polis_dir() -> Path:
    """Folder holding the three real Polis conversations (../shared/data/polis)."""
    path = SHARED_DATA / "polis"
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path} (clone the repo beside ../shared)")
    return path


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The embedded SmolLM2-135M-Instruct as a converted checkpoint (converted once per machine,
    shared by every test and worker through the cache's file lock)."""
    from pluralign.errors import PluralignError
    from pluralign.models import embedded_checkpoint

    try:
        return embedded_checkpoint()
    except PluralignError as exc:
        if os.environ.get("PLURALIGN_REQUIRE_SMOLLM2") == "1":
            pytest.fail(f"the embedded model is needed: {exc}")
        pytest.skip(f"the embedded model is not installed: {exc}")


@pytest.fixture(scope="session")
def smollm2(smollm2_path):
    """(model, tokenizer) of the embedded model, loaded once per test worker, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(smollm2_path, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(smollm2_path)


def _postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("PLURALIGN_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{PG_ENV} is not set but PLURALIGN_REQUIRE_POSTGRES=1")
        pytest.skip(f"no PostgreSQL: set {PG_ENV} (scripts/test.sh starts a server and sets it)")
    return url


@pytest.fixture
def pg_url():
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    from sqlalchemy import create_engine, text

    base = _postgres_url()
    from pluralign.store.session import resolve_url

    admin_url = resolve_url(base)
    name = f"pluralign_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """A fresh database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    """An opened, migrated store on each database."""
    from pluralign.store import open_store

    s = open_store(db_url)
    yield s
    s.dispose()


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """Run ``python -m pluralign ARGS`` in a subprocess (the way a user runs it); returns the
    CompletedProcess with text stdout/stderr."""
    import subprocess
    import sys

    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pluralign", *map(str, args)],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
