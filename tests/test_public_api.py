"""``import pluralign`` gives the main entry points lazily, through the one lazy-export helper
(:func:`pluralign.lazy.lazy_exports`) that every package uses."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pluralign

SRC = Path(pluralign.__file__).parent
PACKAGES = ["pluralign"] + [
    f"pluralign.{m.name}" for m in pkgutil.iter_modules([str(SRC)]) if m.ispkg
]


def test_one_lazy_export_implementation():
    """No module writes its own PEP 562 ``__getattr__``: packages call ``lazy_exports``."""
    own = []
    for path in SRC.rglob("*.py"):
        if path.name == "lazy.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"def __getattr__\(", line):
                own.append(f"{path.relative_to(SRC)}:{n}")
    assert own == []


@pytest.mark.parametrize("package", PACKAGES)
def test_every_export_resolves(package):
    module = importlib.import_module(package)
    exports = getattr(module, "_EXPORTS", None)
    if exports is None:
        return
    assert set(exports) <= set(module.__all__), f"{package}: exports missing from __all__"
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name  # noqa: B018


def test_import_pluralign_is_light_and_gives_the_entry_points():
    code = (
        "import sys, pluralign\n"
        "names = ('numpy', 'pandas', 'scipy', 'torch', 'sqlalchemy')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
        "from pluralign import run_pipeline, load_pipeline_config, evaluate_models\n"
        "print('OK', run_pipeline.__module__, load_pipeline_config.__module__,"
        " evaluate_models.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "HEAVY []" in out
    assert "OK pluralign.run.pipeline pluralign.run.config pluralign.evaluate.run" in out
