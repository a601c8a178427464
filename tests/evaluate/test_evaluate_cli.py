"""`pluralign evaluate` end to end with precomputed margins, and its error paths."""

from __future__ import annotations

import json

from cli_inproc import run_inproc
from conftest import run_cli
from pluralign.data.preferences import PreferencePair, write_jsonl


def flat(text: str) -> str:
    """Rich wraps long messages: compare with whitespace collapsed."""
    return " ".join(text.split())


def _data(tmp_path):
    pairs = [
        PreferencePair("p", "c", "r", 1.0, g, "sim", {"kind": k, "participant": str(i)})
        for i, (g, k) in enumerate(
            [("a", "consensus"), ("b", "consensus"), ("a", "divisive"), ("b", "divisive")]
        )
    ]
    return write_jsonl(tmp_path / "held.jsonl", pairs)


def test_evaluate_with_margins(tmp_path):
    data = _data(tmp_path)
    margins = tmp_path / "m.json"
    margins.write_text(json.dumps({"after": [1.0, 2.0, 1.0, -1.0]}))
    r = run_cli(
        "evaluate",
        "--data",
        data,
        "--margins",
        margins,
        "--out",
        tmp_path / "ev",
        "--n-boot",
        "50",
        "--seed",
        "1",
    )
    assert r.returncode == 0, r.stderr
    m = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    scores = {(g["subset"], g["group"]): g["after"]["estimate"] for g in m["groups"]}
    assert scores == {
        ("all", "a"): 1.0,
        ("all", "b"): 0.5,
        ("consensus", "a"): 1.0,
        ("consensus", "b"): 1.0,
        ("divisive", "a"): 1.0,
        ("divisive", "b"): 0.0,
    }
    assert m["provenance"]["inputs"]["data"]["sha256"]
    assert m["settings"]["n_boot"] == 50


def test_evaluate_errors(tmp_path, capsys):
    data = _data(tmp_path)
    code, _, err = run_inproc(capsys, "evaluate", "--data", data, "--out", tmp_path / "ev")
    assert code == 1 and "--model and --ref" in err
    margins = tmp_path / "m.json"
    margins.write_text(json.dumps({"after": [1.0]}))
    code, _, err = run_inproc(
        capsys, "evaluate", "--data", data, "--margins", margins, "--out", tmp_path / "ev"
    )
    assert code == 1 and "1 margins but the data has 4 pairs" in err
    code, _, err = run_inproc(
        capsys,
        "evaluate",
        "--data",
        data,
        "--model",
        tmp_path / "nope",
        "--ref",
        tmp_path,
        "--out",
        tmp_path / "ev",
    )
    assert code == 1 and "--model folder not found" in err
    assert not (tmp_path / "ev" / "metrics.json").exists()
