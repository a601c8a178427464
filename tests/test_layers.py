"""The layer contracts of pyproject.toml ([tool.importlinter]) hold: a stage never imports the web
app or a CLI, the store imports nothing above it, no import cycles (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.fail("lint-imports is missing: pip install -e '.[dev]' (import-linter)")
        exe = Path(found)
    proc = subprocess.run(
        [str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_no_contract_has_exceptions():
    """Every layer rule holds for every module: a violation is fixed by moving code (as
    docs/architecture.md lists), not by an ``ignore_imports`` entry."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert {c["id"] for c in contracts} >= {
        "stage-no-web-cli", "store-bottom", "no-constitution-below",
        "data-simulate-independent", "formats-below-stages", "acyclic",
    }
    excepted = {c["id"]: c["ignore_imports"] for c in contracts if c.get("ignore_imports")}
    assert not excepted, f"layer exceptions are back: {excepted}"
