"""``evaluate --compare``: per-group, mean and worst-group differences of two runs on the same
held-out pairs, by hand; paired intervals; clear errors; the trade-off plot."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pluralign.data.preferences import PreferencePair, make_provenance, write_jsonl
from pluralign.errors import InputError
from pluralign.evaluate.compare import (
    compare_runs,
    load_run,
    tradeoff_png,
    tradeoff_points,
    worst_group_paired,
)
from pluralign.evaluate.run import evaluate_margins


def heldout(tmp_path: Path) -> tuple[Path, list[dict]]:
    """Eight people, two pairs each: a..d in group 'x' (divisive prompts), e..h in 'y'."""
    pairs = []
    for i, person in enumerate("abcdefgh"):
        for j in range(2):
            pairs.append(
                PreferencePair(
                    f"prompt {i} {j}",
                    "chosen reply",
                    "rejected reply",
                    1.0,
                    "x" if i < 4 else "y",
                    "test",
                    {"participant": person, "kind": "divisive" if j == 0 else "consensus"},
                )
            )
    path = write_jsonl(tmp_path / "heldout.jsonl", pairs)
    return path, [p.to_dict() for p in pairs]


def write_run(folder: Path, data: Path, rows, before, after, margin="likelihood") -> Path:
    prov = make_provenance("evaluate", inputs={"data": data}, settings={"margin": margin})
    evaluate_margins(rows, before, after, n_boot=200, provenance=prov).write(folder / "evaluate")
    return folder


# scores per row (1 = the chosen reply preferred): A serves group x badly, B better
A = np.array([-1, 1, -1, 1, -1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1], dtype=float)
B = np.array([1, 1, -1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1, -1, 1, 1], dtype=float)
BEFORE = np.array([1, -1] * 8, dtype=float)


def test_differences_by_hand(tmp_path):
    data, rows = heldout(tmp_path)
    a = load_run(write_run(tmp_path / "weighted", data, rows, BEFORE, A))
    b = load_run(write_run(tmp_path / "robust", data, rows, BEFORE, B))
    c = compare_runs(a, b, n_boot=300)
    assert c.labels == ("weighted", "robust")
    everyone = c.overall_of("all")
    assert (everyone.a.estimate, everyone.b.estimate) == (12 / 16, 13 / 16)
    assert everyone.difference.estimate == pytest.approx(1 / 16)
    div = {g.group: g for g in c.groups if (g.subset, g.grouping) == ("divisive", "group")}
    # divisive rows are the even ones: x = rows 0,2,4,6; y = rows 8,10,12,14
    assert (div["x"].a.estimate, div["x"].b.estimate) == (0.25, 0.75)
    assert (div["y"].a.estimate, div["y"].b.estimate) == (1.0, 0.75)
    assert div["x"].difference.estimate == 0.5 and div["y"].difference.estimate == -0.25
    order = [g.group for g in c.groups if (g.subset, g.grouping) == ("divisive", "group")]
    assert order == ["x", "y"]  # worst first (by A)
    w = c.worst_of("divisive", "group")
    # B ties x and y at 0.75: the first name is reported
    assert (w.a.estimate, w.b.estimate, w.worst_a, w.worst_b) == (0.25, 0.75, "x", "x")
    assert w.difference.estimate == 0.5
    assert w.difference.low <= 0.5 <= w.difference.high
    # consensus (odd rows): A and B agree on every pair, so the paired interval is a point
    cons = [g for g in c.groups if g.subset == "consensus"]
    assert all(g.difference.low == g.difference.high == 0.0 for g in cons)
    assert c.settings["resampled"] == "clusters of provenance.participant"
    out = json.loads(c.to_json())
    assert out["worst"][0]["a"]["group"] and out["format"] == "pluralign.compare/1"


def test_worst_group_interval_is_paired_and_stratified():
    groups = ["x"] * 6 + ["y"] * 6
    m = np.array([1, 1, 1, -1, -1, -1, 1, 1, 1, 1, 1, -1], dtype=float)
    same = worst_group_paired(m, m, groups, np.ones(12), n_boot=200)
    assert same[2].low == same[2].high == 0.0  # B = A: the difference never varies
    assert same[0].estimate == 0.5 and same[3] == "x"
    assert worst_group_paired(m, m, groups, np.ones(12), min_group_size=7) is None


def test_errors(tmp_path):
    data, rows = heldout(tmp_path)
    a = write_run(tmp_path / "a", data, rows, BEFORE, A)
    other = tmp_path / "other"
    other.mkdir()
    data2, rows2 = heldout(other)
    rows2[0]["weight"] = 2.0
    write_jsonl(data2, [PreferencePair(**{k: v for k, v in r.items()}) for r in rows2])
    b = write_run(tmp_path / "b", data2, rows2, BEFORE, B)
    with pytest.raises(InputError, match="different held-out pairs"):
        compare_runs(load_run(a), load_run(b))
    implicit = write_run(tmp_path / "b2", data, rows, BEFORE, B, margin="implicit")
    with pytest.raises(InputError, match="a used likelihood margins but b2 implicit"):
        compare_runs(load_run(a), load_run(implicit))
    (tmp_path / "b" / "evaluate" / "margins.json").unlink()
    with pytest.raises(InputError, match="no margins.json"):
        load_run(b)
    with pytest.raises(InputError, match="no evaluate/metrics.json"):
        load_run(tmp_path / "nowhere")
    data.write_text(data.read_text() + "\n")  # the held-out file changed since
    with pytest.raises(InputError, match="gone or changed"):
        load_run(a)


def test_tradeoff_plot(tmp_path):
    data, rows = heldout(tmp_path)
    a = load_run(write_run(tmp_path / "weighted", data, rows, BEFORE, A))
    b = load_run(write_run(tmp_path / "robust", data, rows, BEFORE, B))
    c = compare_runs(a, b, n_boot=100)
    points = tradeoff_points(c, "divisive", "group")
    assert [p.label for p in points] == ["base model", "weighted", "robust"]
    path = tradeoff_png(points, tmp_path / "tradeoff.png", title="divisive prompts")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_evaluate_writes_margins_and_compare_cli(tmp_path, capsys):
    """Two runs evaluated by ``pluralign evaluate`` (metrics.json worst group first, margins.json
    beside it), then ``evaluate --compare`` prints and writes the differences computed above."""
    from cli_inproc import run_inproc

    data, rows = heldout(tmp_path)
    for name, after in (("weighted", A), ("robust", B)):
        margins = tmp_path / f"{name}.json"
        margins.write_text(json.dumps({"after": after.tolist(), "before": BEFORE.tolist()}))
        out = tmp_path / name / "evaluate"
        code, _, err = run_inproc(
            capsys, "evaluate", "--data", data, "--margins", margins, "--out", out, "--n-boot", 50
        )
        assert code == 0, err
        saved = json.loads((out / "margins.json").read_text())
        assert saved == {"before": BEFORE.tolist(), "after": after.tolist()}
    metrics = json.loads((tmp_path / "weighted" / "evaluate" / "metrics.json").read_text())
    div = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == ("divisive", "group")]
    assert [(g["group"], g["after"]["estimate"]) for g in div] == [("x", 0.25), ("y", 1.0)]
    cons = [g for g in metrics["groups"] if (g["subset"], g["grouping"]) == ("consensus", "group")]
    # consensus (odd rows): x 4/4 right, y 3/4 right, so y comes first although x sorts first
    assert [(g["group"], g["after"]["estimate"]) for g in cons] == [("y", 0.75), ("x", 1.0)]

    cmp = tmp_path / "cmp"
    code, out, err = run_inproc(
        capsys,
        "evaluate",
        "--compare",
        tmp_path / "weighted",
        tmp_path / "robust",
        "--out",
        cmp,
        "--n-boot",
        100,
    )
    assert code == 0, err
    result = json.loads((cmp / "compare.json").read_text())
    assert (result["a"], result["b"]) == ("weighted", "robust")
    worst = next(w for w in result["worst"] if w["subset"] == "divisive")
    assert worst["difference"]["estimate"] == 0.5 and worst["a"]["group"] == "x"
    assert "+0.500" in out and "worst group (x / x)" in out
    assert (cmp / "tradeoff.png").read_bytes()[:4] == b"\x89PNG"

    code, _, err = run_inproc(
        capsys,
        "evaluate",
        "--compare",
        tmp_path / "weighted",
        tmp_path / "robust",
        "--data",
        data,
    )
    assert code == 1 and "leave out --data" in err
    code, _, err = run_inproc(capsys, "evaluate", "--out", cmp)
    assert code == 1 and "give --data and --out" in err
