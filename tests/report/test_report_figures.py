"""The report's pictures show what they claim: an accuracy of exactly 0 is a visible mark (not
an empty bar that reads as missing data), a group without an interval is drawn hollow, and the
opinion map's legend sits outside the points."""

from __future__ import annotations

import base64
import io

import numpy as np

from pluralign.report import plots


def _pixels(uri: str) -> np.ndarray:
    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")[..., :3]


def _near(img: np.ndarray, hex_color: str, tol: float = 0.08) -> np.ndarray:
    rgb = np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.abs(img - rgb).max(axis=-1) < tol


def _score(before, after, low=None, high=None):
    return {
        "estimate": after,
        "low": after if low is None else low,
        "high": after if high is None else high,
    }


def test_an_accuracy_of_zero_is_a_visible_dot():
    point = {"estimate": 0.5, "low": 0.5, "high": 0.5}
    zero = [{"group": "a", "before": point, "after": _score(0.5, 0.0)}]
    none = [{"group": "a", "before": point, "after": {"estimate": None, "low": None, "high": None}}]
    blue_zero = _near(_pixels(plots.group_dots(zero, "divisive prompts")), plots.AFTER)
    blue_none = _near(_pixels(plots.group_dots(none, "divisive prompts")), plots.AFTER)
    assert blue_zero.sum() > 40  # a filled dot of the "after" colour
    assert blue_none.sum() == 0  # no estimate draws nothing: the two cases look different
    cols = np.nonzero(blue_zero.any(axis=0))[0]
    width = blue_zero.shape[1]
    assert cols.mean() < 0.5 * width  # on the left, at x = 0 (the axis starts at 0)


def test_a_group_without_an_interval_is_hollow():
    point = {"estimate": 0.5, "low": 0.5, "high": 0.5}
    group = [{"group": "a", "before": point, "after": _score(0.5, 0.8)}]
    filled = _near(_pixels(plots.group_dots(group, "t", small=[False])), plots.AFTER).sum()
    hollow = _near(_pixels(plots.group_dots(group, "t", small=[True])), plots.AFTER).sum()
    assert 0 < hollow < 0.8 * filled


def test_intervals_are_drawn_and_order_is_kept():
    point = {"estimate": 0.5, "low": 0.5, "high": 0.5}
    wide = [{"group": "a", "before": point, "after": _score(0.5, 0.6, 0.1, 0.9)}]
    narrow = [{"group": "a", "before": point, "after": _score(0.5, 0.6)}]
    assert (
        _near(_pixels(plots.group_dots(wide, "t")), plots.AFTER, 0.3).sum()
        > _near(_pixels(plots.group_dots(narrow, "t")), plots.AFTER, 0.3).sum()
    )


def test_opinion_map_legend_does_not_cover_points(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from pluralign.aggregate.outputs import plot_opinion_map

    class Result:
        n_groups = 3
        rng = np.random.default_rng(0)
        # points fill the whole plot, corners included: any legend inside would cover some
        projection = np.vstack(
            [rng.uniform(-3, 3, size=(200, 2)), [[-3, -3], [-3, 3], [3, -3], [3, 3]]]
        )
        groups = np.concatenate([rng.integers(-1, 3, size=200), [0, 1, 2, 0]])

    figures = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figures.append(fig))
    plot_opinion_map(Result(), tmp_path / "map.png")
    fig = figures[-1]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))
    assert (tmp_path / "map.png").stat().st_size > 0
    plt.close("all")


def test_a_zero_share_in_the_composition_is_marked():
    blank = {"f": {"a": {"panel": 0.5, "population": 0.5}, "b": {"panel": 0.5, "population": 0.5}}}
    zero = {"f": {"a": {"panel": 1.0, "population": 0.5}, "b": {"panel": 0.0, "population": 0.5}}}
    # the "0" label is drawn in the panel colour where the bar has no height
    img = _pixels(plots.composition(zero))
    h, w = img.shape[:2]
    low_right = (slice(h // 2, h), slice(int(w * 0.6), w))  # below the legend, at value b
    mark = _near(img[low_right], plots.AFTER).sum()
    bar = _near(_pixels(plots.composition(blank))[low_right], plots.AFTER).sum()
    assert 0 < mark < 0.5 * bar  # a mark, much smaller than a real bar


def test_a_long_title_wraps_inside_the_figure():
    point = {"estimate": 0.5, "low": 0.5, "high": 0.5}
    group = [{"group": "unclustered", "before": point, "after": _score(0.5, 0.7)}]
    long = "consensus prompts: new wordings of trained statements"
    short = _pixels(plots.group_dots(group, "consensus prompts"))
    wrapped = _pixels(plots.group_dots(group, long))
    assert wrapped.shape[0] > short.shape[0]  # taller: the title took a second line
    assert wrapped.shape[1] == short.shape[1]  # same width, so the grid of figures lines up
    ink = wrapped.max(axis=-1) < 0.3  # dark pixels (the title's black text, the axes)
    assert not ink[:, -3:].any()  # nothing runs past the right edge
