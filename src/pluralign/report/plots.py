"""Figures of the report, each returned as a ``data:image/png;base64,...`` URI (no external file).

matplotlib runs on the non-interactive Agg backend; every function takes plain data and returns
one picture, so the report template never touches matplotlib.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np

BEFORE = "#9aa5b1"
AFTER = "#1f6feb"


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=(width, height), dpi=100)


def _to_uri(plt, fig) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    # No metadata: the same data gives the same bytes.
    fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_file_uri(data: bytes) -> str:
    """A PNG file's bytes as a data URI (e.g. the aggregation stage's opinion map)."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def composition(features: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """Per feature, bars of population, pool and panel shares per value, and the quota band.

    ``features``: feature → value → {"population": share, "pool": share, "panel": share,
    "quota_min": share, "quota_max": share} (any key may be missing)."""
    n = len(features)
    cols = min(n, 2)
    rows = (n + cols - 1) // cols
    plt, fig = _figure(5.2 * cols, 2.8 * rows)
    for i, (feature, values) in enumerate(features.items()):
        ax = fig.add_subplot(rows, cols, i + 1)
        names = list(values)
        x = np.arange(len(names))
        series = [
            (key, label, color)
            for key, label, color in (
                ("population", "population", "#6e7781"),
                ("pool", "pool", BEFORE),
                ("panel", "panel", AFTER),
            )
            if any(key in values[v] for v in names)
        ]
        width = 0.8 / max(len(series), 1)
        for i_s, (key, label, color) in enumerate(series):
            offset = (i_s - (len(series) - 1) / 2) * width
            ax.bar(
                x + offset,
                [values[v].get(key, np.nan) for v in names],
                width,
                label=label,
                color=color,
            )
        panel_offset = (len(series) - 1) / 2 * width
        for j, v in enumerate(names):
            lo, hi = values[v].get("quota_min"), values[v].get("quota_max")
            if lo is not None and hi is not None:
                ax.plot(
                    [j + panel_offset] * 2,
                    [lo, hi],
                    color="black",
                    lw=3,
                    alpha=0.6,
                    label="quota range" if j == 0 else None,
                )
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(feature, fontsize=10)
        ax.set_ylabel("share")
        top = max(
            [
                e.get(key, 0) or 0
                for e in values.values()
                for key in ("population", "pool", "panel", "quota_max")
            ]
            + [0.1]
        )
        ax.set_ylim(0, top * 1.4)
        ax.legend(fontsize=7, loc="upper center", ncol=4, frameon=False)
    return _to_uri(plt, fig)


def probabilities(values: Sequence[float]) -> str:
    """Histogram of the pool's selection probabilities."""
    plt, fig = _figure(6, 2.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(np.asarray(values, dtype=float), bins=30, color=AFTER)
    ax.set_xlabel("selection probability")
    ax.set_ylabel("people")
    return _to_uri(plt, fig)


def curves(series: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> str:
    """Training curves: one line per metric name (x = step)."""
    plt, fig = _figure(7, 3)
    n = len(series)
    for i, (name, (steps, values)) in enumerate(series.items()):
        ax = fig.add_subplot(1, n, i + 1)
        ax.plot(steps, values, color=AFTER)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
    return _to_uri(plt, fig)


def group_accuracy(panels: Mapping[str, Sequence[Mapping]], grouping: str) -> str:
    """One panel per subset of prompts (all, consensus, divisive ...): bars per group of the
    accuracy before and after training with their intervals. Groups stay side by side, never
    pooled."""
    n = len(panels)
    cols = min(n, 3)
    rows_n = (n + cols - 1) // cols
    widest = max((len(rows) for rows in panels.values()), default=1)
    plt, fig = _figure(min(11.0, max(4.5, (0.55 * widest + 1.5) * cols)), 3.0 * rows_n)
    for i, (subset, groups) in enumerate(panels.items()):
        ax = fig.add_subplot(rows_n, cols, i + 1)
        names = [g["group"] for g in groups]
        x = np.arange(len(names))
        for offset, key, color in ((-0.2, "before", BEFORE), (0.2, "after", AFTER)):
            est = np.array([_num(g[key]["estimate"]) for g in groups])
            low = np.array([_num(g[key]["low"]) for g in groups])
            high = np.array([_num(g[key]["high"]) for g in groups])
            # clip: a point interval can sit a rounding error off its estimate
            err = np.clip(np.vstack([np.nan_to_num(est - low), np.nan_to_num(high - est)]), 0, None)
            ax.bar(x + offset, est, 0.4, yerr=err, capsize=3, label=key, color=color)
        ax.axhline(0.5, color="black", lw=0.8, ls="--")
        ax.set_ylim(0, 1.15)
        ax.set_xticks(x, names, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{subset} prompts", fontsize=10)
        if i % cols == 0:
            ax.set_ylabel("accuracy")
        if i == 0:
            ax.legend(fontsize=7, loc="upper center", ncol=2, frameon=False)
    return _to_uri(plt, fig)


def _num(value) -> float:
    return float("nan") if value is None else float(value)
