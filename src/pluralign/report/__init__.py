"""The run report: one self-contained HTML file (figures embedded) built from a run folder whose
layout is documented in docs/run_folder.md. Names load lazily (``pluralign --help`` stays fast)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Section", "build_sections", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("pluralign.report.build"), name)
    raise AttributeError(f"module 'pluralign.report' has no attribute {name!r}")
