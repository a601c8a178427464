"""Write an :class:`~pluralign.aggregate.pipeline.AggregateResult` to a folder.

Files: ``groups.csv`` (``participant,group``), ``statements.csv`` (see
:meth:`AggregateResult.statement_table`), ``summary.json`` (with provenance) and
``opinion_map.png`` (participants in PCA space coloured by group). Everything is written to a
temporary folder first and moved into place, so a failure leaves no partial output.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the result writes itself through this module
    from pluralign.aggregate.pipeline import AggregateResult

FILES = ("groups.csv", "statements.csv", "summary.json", "opinion_map.png")


def plot_opinion_map(result: AggregateResult, path: Path, title: str = "") -> None:
    """Scatter of participant projections coloured by opinion group (grey: not clustered)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=110)
    proj, groups = result.projection, result.groups
    out = groups < 0
    if out.any():
        ax.scatter(proj[out, 0], proj[out, 1], s=6, c="#c8c8c8", label="not clustered")
    cmap = plt.get_cmap("tab10")
    for g in range(result.n_groups):
        sel = groups == g
        ax.scatter(
            proj[sel, 0],
            proj[sel, 1],
            s=10,
            color=cmap(g % 10),
            alpha=0.8,
            label=f"group {g} ({int(sel.sum())})",
        )
    ax.axhline(0, color="#888", lw=0.5)
    ax.axvline(0, color="#888", lw=0.5)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title or f"Opinion map: {result.n_groups} groups")
    # below the axes, never over the points
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=min(result.n_groups + 1, 4),
              fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def write_outputs(result: AggregateResult, out: str | Path, title: str = "") -> Path:
    """Write all output files into ``out`` (created if missing); returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".tmp-aggregate-") as tmp:
        t = Path(tmp)
        result.groups_frame().to_csv(t / "groups.csv", index=False)
        result.statement_table().to_csv(t / "statements.csv", index=False)
        (t / "summary.json").write_text(
            json.dumps(result.summary(), indent=2, default=_json_default) + "\n"
        )
        plot_opinion_map(result, t / "opinion_map.png", title)
        for name in FILES:
            shutil.move(str(t / name), out / name)
    return out


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
