"""Figures of the report, each returned as a ``data:image/png;base64,...`` URI (no external file).

matplotlib runs on the non-interactive Agg backend; every function takes plain data and returns
one picture, so the report template never touches matplotlib.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np

FIG_WIDTH = 3.3
"""Inches of one per-group figure (330 px: three side by side on a desktop, one on a phone)."""
BEFORE = "#9aa5b1"
AFTER = "#1f6feb"


def _figure(width: float, height: float):
    """A figure without pyplot (no global state, no window manager: quicker and thread-safe)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _to_uri(fig, tight: bool = True) -> str:
    buffer = io.BytesIO()
    if tight:
        fig.tight_layout()
    # No metadata: the same data gives the same bytes.
    fig.savefig(buffer, format="png", metadata={"Software": None})
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
    fig = _figure(5.2 * cols, 2.8 * rows)
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
            heights = [values[v].get(key, np.nan) for v in names]
            ax.bar(x + offset, heights, width, label=label, color=color)
            for j, h in enumerate(heights):
                if h == 0:  # an empty bar would read as missing data: say it is zero
                    ax.text(
                        j + offset,
                        0,
                        "0",
                        ha="center",
                        va="bottom",
                        fontsize=7,
                        color=color,
                        fontweight="bold",
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
    return _to_uri(fig)


def probabilities(values: Sequence[float]) -> str:
    """Histogram of the pool's selection probabilities."""
    fig = _figure(6, 2.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(np.asarray(values, dtype=float), bins=30, color=AFTER)
    ax.set_xlabel("selection probability")
    ax.set_ylabel("people")
    return _to_uri(fig)


def curves(series: Mapping[str, tuple[Sequence[float], Sequence[float]]]) -> str:
    """Training curves: one line per metric name (x = step)."""
    n = len(series)
    fig = _figure(min(9.0, 3.0 * n), 2.6)
    for i, (name, (steps, values)) in enumerate(series.items()):
        ax = fig.add_subplot(1, n, i + 1)
        ax.plot(steps, values, color=AFTER)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        ax.spines[["top", "right"]].set_visible(False)
    return _to_uri(fig)


def group_dots(
    groups: Sequence[Mapping],
    title: str,
    labels: Sequence[str] | None = None,
    small: Sequence[bool] | None = None,
) -> str:
    """Accuracy before (grey ring) and after (blue dot) training per group, one row each in the
    given order (worst first, at the top), with the 95% intervals as lines and the value after
    training printed at the right. A value of 0 is a dot on the axis, never a missing bar.
    ``small``: groups too small for an interval (hollow marker, grey label)."""
    n = len(groups)
    labels = list(labels) if labels is not None else [str(g["group"]) for g in groups]
    small = list(small) if small is not None else [False] * n
    # fixed margins (in inches), so that every subset's figure has the same axis width
    longest = max((len(x) for x in labels), default=4)
    left = min(1.4, 0.15 + 0.064 * longest)
    # a long title (a held-out part: "consensus prompts: statements never trained on") wraps
    # over the axis width instead of running past the figure's edge (0.095 in a bold character)
    title = textwrap.fill(title, max(12, int((FIG_WIDTH - left) / 0.095)))
    head = 0.3 + 0.17 * title.count("\n")
    width, height = FIG_WIDTH, 0.55 + head + 0.3 * max(n, 1)
    fig = _figure(width, height)
    fig.subplots_adjust(
        left=left / width, right=1 - 0.45 / width, top=1 - head / height, bottom=0.38 / height
    )
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)[::-1].astype(float)  # first group at the top
    ax.axvline(0.5, color="#57606a", lw=0.8, ls="--", zorder=1)
    hollow = np.asarray(small, dtype=bool)
    for key, color, size, width, offset in (
        ("before", BEFORE, 34, 2.0, 0.14),
        ("after", AFTER, 40, 3.0, -0.14),
    ):
        est, low, high = (
            np.array([_num(g[key].get(k)) for g in groups]) for k in ("estimate", "low", "high")
        )
        spread = ~(np.isnan(low) | np.isnan(high)) & (high > low)
        ax.hlines(
            y[spread] + offset,
            low[spread],
            high[spread],
            colors=color,
            lw=width,
            alpha=0.55,
            zorder=2,
        )
        shown = ~np.isnan(est)
        filled = shown & ~hollow if key == "after" else np.zeros(n, bool)
        faces = [color if f else "white" for f in filled[shown]]
        ax.scatter(
            est[shown],
            y[shown] + offset,
            s=size,
            zorder=3,
            clip_on=False,
            facecolors=faces,
            edgecolors=color,
            linewidths=1.6,
        )
    for row, g, is_small in zip(y, groups, small, strict=True):
        after = _num(g["after"].get("estimate"))
        ax.text(
            1.04,
            row,
            "n/a" if np.isnan(after) else f"{after:.2f}",
            transform=ax.get_yaxis_transform(),
            va="center",
            ha="left",
            fontsize=9,
            color="#57606a" if is_small else "#1b1f24",
        )
    ax.set_yticks(np.arange(n), labels[::-1], fontsize=9)
    for tick, is_small in zip(ax.get_yticklabels(), small[::-1], strict=True):
        if is_small:
            tick.set_color("#57606a")
            tick.set_fontstyle("italic")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", ".25", ".5", ".75", "1"], fontsize=8)
    ax.set_title(title, fontsize=10, loc="left", fontweight="bold")
    ax.grid(axis="x", color="#d0d7de", lw=0.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)
    return _to_uri(fig, tight=False)


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def rounds_curve(
    rounds: Sequence[int],
    accuracy: Sequence[Mapping[str, float]],
    worst: Sequence[float | None] | None = None,
) -> str:
    """Held-out accuracy per round (x = round, 0 = the base model), the 95% interval as a
    band; ``worst``: the worst-off opinion group's accuracy per round (dashed), when known."""
    x = np.asarray(rounds, dtype=float)
    est, low, high = (np.array([_num(a.get(k)) for a in accuracy]) for k in
                      ("estimate", "low", "high"))
    fig = _figure(max(FIG_WIDTH, 1.2 + 0.7 * len(x)), 2.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.axhline(0.5, color="#57606a", lw=0.8, ls="--", zorder=1)
    ax.fill_between(x, low, high, color=AFTER, alpha=0.18, lw=0, label="95% interval")
    ax.plot(x, est, color=AFTER, marker="o", lw=2, label="all held-out pairs", clip_on=False)
    for xi, e in zip(x, est, strict=True):
        if not np.isnan(e):
            ax.annotate(f"{e:.2f}", (xi, e), textcoords="offset points", xytext=(0, 7),
                        ha="center", fontsize=8)
    if worst is not None and any(w is not None for w in worst):
        ax.plot(x, [_num(w) for w in worst], color=BEFORE, marker="s", ls="--", lw=1.5,
                label="worst opinion group")
    ax.set_xticks(x, ["base" if r == 0 else str(int(r)) for r in x], fontsize=8)
    ax.set_xlabel("round")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.08)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    return _to_uri(fig)
