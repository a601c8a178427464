"""Two CPU processes (``accelerate launch --multi_gpu --num_processes 2``: torchrun, gloo, DDP)
give the gradients, parameters and group weights of one process, for the weighted and the
group-robust objective, with uneven weights and an epoch whose last batch is short
(``ddp_exactness.py``). Counting accelerate's padded repeats instead shows a large difference,
so the comparison can fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from trainkit import tiny_model_dir  # noqa: E402

SCRIPT = Path(__file__).with_name("ddp_exactness.py")


def _run(cmd: list[str], out: Path) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1")
    src = Path(__file__).resolve().parents[2] / "src"
    env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [*cmd, str(SCRIPT), str(tiny_model_dir()), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _run([sys.executable], one)
    accelerate = str(Path(sys.executable).parent / "accelerate")
    _run([accelerate, "launch", "--multi_gpu", "--num_processes", "2"], two)
    for case in ("weighted", "group-robust"):
        a, b = torch.load(one / f"{case}.pt"), torch.load(two / f"{case}.pt")
        assert (a["processes"], b["processes"]) == (1, 2)
        assert a["steps"] == b["steps"] == 4  # 2 epochs of 5 pairs, global batch 4: 4 + 1 each
        for ga, gb in zip(a["grads"], b["grads"], strict=True):
            torch.testing.assert_close(gb, ga, rtol=1e-5, atol=1e-7, msg=case)
        # SGD (ddp_exactness.py says why not AdamW): parameters move by lr·g
        torch.testing.assert_close(b["params"], a["params"], rtol=1e-5, atol=1e-8, msg=case)
        if case == "group-robust":
            # log α moves by η·L̂ with η = 20: float32 losses that differ by ~1e-7 between
            # batch shapes (the gradients above differ by ~3e-8) move α by up to ~1e-5
            assert b["group_weights"] == pytest.approx(a["group_weights"], rel=1e-4)
            assert abs(a["group_weights"][0] - 0.5) > 1e-3  # the weights really moved
    padded = torch.load(two / "padded.pt")
    ref = torch.load(one / "weighted.pt")
    torch.testing.assert_close(padded["grads"][0], ref["grads"][0], rtol=1e-5, atol=1e-7)
    diff = (padded["grads"][1] - ref["grads"][1]).norm() / ref["grads"][1].norm()
    assert diff > 0.1  # with the repeats counted the short step's objective changes
