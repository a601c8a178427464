"""The group-robust objective through ``train_preferences`` and ``pluralign train``: the group
with the higher loss gains weight (and its pairs are served better than by weighted DPO), the
logged α step matches a hand computation from the saved checkpoint, resume equals an
uninterrupted run, and bad group settings are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from trainkit import BAD, GOOD, PROMPTS, REFERENCE, make_rows, tiny_model_dir  # noqa: E402

from cli_inproc import run_inproc  # noqa: E402
from pluralign.errors import InputError  # noqa: E402
from pluralign.train import preference_margins, train_preferences  # noqa: E402

FAST = {
    **REFERENCE,
    "per_device_train_batch_size": 6,
    "learning_rate": 5e-3,
    "save_steps": 0,
    "lr_scheduler_type": "constant",
    "beta": 0.5,
    "torch_threads": 1,
    "max_grad_norm": 0.0,
}


def conflicting_rows() -> list[dict]:
    """A majority (weight 3 per pair) prefers the careful reply, a minority (weight 1) the
    blunt one, on the same prompts: weighted DPO serves the majority."""
    rows = []
    for i, prompt in enumerate(PROMPTS):
        good, bad = GOOD[i % 2], BAD[i % 2]
        rows.append(
            {
                "prompt": prompt,
                "chosen": good,
                "rejected": bad,
                "weight": 3.0,
                "group": "many",
                "provenance": {"participant": f"m{i}"},
            }
        )
        rows.append(
            {
                "prompt": prompt,
                "chosen": bad,
                "rejected": good,
                "weight": 1.0,
                "group": "few",
                "provenance": {"participant": f"f{i}"},
            }
        )
    return rows


def _log(out) -> list[dict]:
    return [json.loads(ln) for ln in (out / "group_weights.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_group_with_higher_loss_gains_weight_and_is_served_better(tmp_path):
    rows = conflicting_rows()
    eta = 1.0
    # one batch of all rows; start from the weighted objective (α = π), which serves the majority
    cfg = {**FAST, "per_device_train_batch_size": 12, "max_steps": 8, "group_step_size": eta}
    gr_cfg = {**cfg, "objective": "group-robust", "group_weights_init": "proportional"}
    robust = train_preferences(rows, tiny_model_dir(), gr_cfg, tmp_path / "gr")
    weighted = train_preferences(rows, tiny_model_dir(), cfg, tmp_path / "w")
    log = _log(tmp_path / "gr")
    assert [r["step"] for r in log] == list(range(9))  # the start, then every step
    assert log[0]["weights"] == pytest.approx({"few": 0.25, "many": 0.75})
    assert robust.group_weights == log[-1]["weights"]
    # the first step moves the model towards the majority; the minority's loss is then the
    # higher one and its weight rises
    assert log[2]["losses"]["few"] > log[2]["losses"]["many"]
    assert log[2]["weights"]["few"] > 2 * log[1]["weights"]["few"]
    for before, after in zip(log, log[1:], strict=False):  # (G5) for two groups
        lf, lm = after["losses"]["few"], after["losses"]["many"]
        ratio = np.log(after["weights"]["few"] / after["weights"]["many"])
        prev = np.log(before["weights"]["few"] / before["weights"]["many"])
        assert ratio - prev == pytest.approx(eta * (lf - lm), abs=1e-9)
    # the curve carries the weights too, and the manifest the final ones
    assert robust.curve[-1]["group_weight/few"] == pytest.approx(log[-1]["weights"]["few"])
    manifest = json.loads(robust.manifest_path.read_text())
    assert manifest["objective"] == "group-robust"
    assert manifest["groups"]["names"] == ["few", "many"]
    assert manifest["groups"]["shares"] == pytest.approx([0.25, 0.75])

    # the worst-off group's own pairs: group-robust training serves it better than weighted DPO
    def worst(model_dir):
        return min(
            preference_margins(
                model_dir, tiny_model_dir(), [r for r in rows if r["group"] == g], beta=1.0
            ).mean()
            for g in ("few", "many")
        )

    assert worst(robust.model_dir) > worst(weighted.model_dir) + 0.5


@pytest.mark.slow
def test_logged_step_matches_hand_computation_from_the_checkpoint(tmp_path):
    """The whole data is one batch: α after step 2 = normalise(α₁·exp(η·L̂)) with L̂ from the
    losses of the checkpoint-1 policy, recomputed independently (margins.pair_logps)."""
    from pluralign.train import pair_logps

    rows = conflicting_rows()[:8]
    eta, beta = 1.5, 0.5
    cfg = {
        **FAST,
        "per_device_train_batch_size": 8,
        "max_steps": 2,
        "save_steps": 1,
        "objective": "group-robust",
        "group_step_size": eta,
        "beta": beta,
    }
    train_preferences(rows, tiny_model_dir(), cfg, tmp_path / "run")
    log = _log(tmp_path / "run")
    ckpt = tmp_path / "run" / "checkpoints" / "checkpoint-1"
    pc, pr = pair_logps(str(ckpt), rows)
    rc, rr = pair_logps(str(tiny_model_dir()), rows)
    losses = np.log1p(np.exp(-beta * ((pc - rc) - (pr - rr))))  # −log σ(βh)
    w = np.array([r["weight"] for r in rows])
    g = np.array([r["group"] for r in rows])
    names = ["few", "many"]
    group_weights = np.array([w[g == n].sum() for n in names])  # W_{B,g}: the batch is all rows
    est = np.array([(w * losses)[g == n].sum() for n in names]) / group_weights  # (G3)
    a1 = np.array([log[1]["weights"][n] for n in names])
    a2 = a1 * np.exp(eta * est)
    got = np.array([log[2]["weights"][n] for n in names])
    np.testing.assert_allclose(got, a2 / a2.sum(), rtol=1e-5)
    stored = json.loads((ckpt / "group_robust.json").read_text())
    assert stored["weights"] == pytest.approx(a1.tolist(), rel=1e-12)


@pytest.mark.slow
def test_resume_equals_an_uninterrupted_run(tmp_path):
    rows = conflicting_rows()
    cfg = {
        **FAST,
        "per_device_train_batch_size": 4,
        "save_steps": 2,
        "objective": "group-robust",
        "group_step_size": 3.0,
    }
    straight = train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 4}, tmp_path / "a")
    train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 2}, tmp_path / "b")
    resumed = train_preferences(
        rows, tiny_model_dir(), {**cfg, "max_steps": 4}, tmp_path / "b", resume=True
    )
    la, lb = _log(tmp_path / "a"), _log(tmp_path / "b")
    assert [r["step"] for r in lb] == [0, 1, 2, 3, 4]
    for ra, rb in zip(la, lb, strict=True):
        for name in ra["weights"]:
            assert rb["weights"][name] == pytest.approx(ra["weights"][name], rel=1e-6)
    assert resumed.group_weights == pytest.approx(straight.group_weights, rel=1e-6)
    from transformers import AutoModelForCausalLM

    pa = dict(AutoModelForCausalLM.from_pretrained(straight.model_dir).named_parameters())
    pb = dict(AutoModelForCausalLM.from_pretrained(resumed.model_dir).named_parameters())
    for name in pa:
        torch.testing.assert_close(pa[name], pb[name], rtol=1e-4, atol=1e-6, msg=name)
    # resuming with other group settings would optimise another objective: refused
    train_preferences(rows, tiny_model_dir(), {**cfg, "max_steps": 2}, tmp_path / "c")
    with pytest.raises(InputError, match="other groups or settings"):
        train_preferences(
            rows,
            tiny_model_dir(),
            {**cfg, "max_steps": 4, "group_step_size": 1.0},
            tmp_path / "c",
            resume=True,
        )


def test_group_settings_errors_name_the_row_and_field(tmp_path):
    rows = make_rows(3)
    rows[1]["group"] = ""
    with pytest.raises(InputError, match="no value for the group column 'group'") as exc:
        train_preferences(rows, tiny_model_dir(), {"objective": "group-robust"}, tmp_path / "x")
    assert "row 1" in str(exc.value)
    data = tmp_path / "prefs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in make_rows(2)))
    with pytest.raises(InputError, match="'latent'") as exc:
        train_preferences(
            data,
            tiny_model_dir(),
            {"objective": "group-robust", "group_by": "latent"},
            tmp_path / "y",
        )
    assert "prefs.jsonl, line 1" in str(exc.value)
    for bad in ({"objective": "robust"}, {"group_step_size": -1}, {"group_weights_init": "x"}):
        with pytest.raises(InputError, match=f"config field '{next(iter(bad))}'"):
            train_preferences(make_rows(2), tiny_model_dir(), bad, tmp_path / "z")
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()


def test_auto_step_size_is_the_bound_for_the_runs_groups_and_steps(tmp_path):
    """group_step_size: auto is √(8·ln K / T) with T the steps the run really takes (here one
    epoch of 12 rows in batches of 6, accumulated over 2: ⌈⌈12/6⌉/2⌉ = 1 step), K = 2."""
    import math

    from pluralign.train import load_train_config
    from pluralign.train.group_robust import planned_steps, theory_step_size

    rows = conflicting_rows()  # 12 rows
    cfg = {**FAST, "gradient_accumulation_steps": 2, "num_train_epochs": 1.0,
           "objective": "group-robust", "group_step_size": "auto", "merge_duplicates": False}
    result = train_preferences(rows, tiny_model_dir(), cfg, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "train_manifest.json").read_text())
    steps = len(_log(tmp_path / "run")) - 1
    assert steps == planned_steps(12, load_train_config(cfg, "dpo")) == 1
    assert manifest["groups"]["step_size"] == pytest.approx(math.sqrt(8 * math.log(2) / 1))
    assert result.group_weights is not None
    assert theory_step_size(1, 30) == 0.0 and theory_step_size(5, 30) == pytest.approx(0.6551, 1e-3)
    with pytest.raises(InputError, match="finite number >= 0 or auto"):
        load_train_config({"group_step_size": "big"}, "dpo")


def test_rows_group_by_a_provenance_column():
    from pluralign.train.rows import load_rows

    rows = make_rows(2)
    rows[0]["provenance"] = {
        "latent_group": "fairness",
        "region": "north",
        "demographics": {"age": "18-29"},
    }
    rows[1]["provenance"] = {
        "latent_group": "autonomy",
        "region": "south",
        "demographics": {"age": "65+"},
    }
    assert [r.group for r in load_rows(rows, "latent")] == ["fairness", "autonomy"]
    assert [r.group for r in load_rows(rows, "region")] == ["north", "south"]
    assert [r.group for r in load_rows(rows, "provenance.region")] == ["north", "south"]
    assert [r.group for r in load_rows(rows, "demographic:age")] == ["18-29", "65+"]
    assert [r.group for r in load_rows(rows, "source")] == ["test", "test"]


@pytest.mark.slow
def test_cli_objective_and_group_by(tmp_path, capsys):
    data = tmp_path / "prefs.jsonl"
    rows = conflicting_rows()
    for r in rows:
        r["provenance"]["side"] = r["group"]
        r["group"] = "x"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = tmp_path / "train.yaml"
    config.write_text(
        "max_steps: 2\nper_device_train_batch_size: 6\nsave_steps: 0\ntorch_threads: 1\n"
    )
    code, out, err = run_inproc(
        capsys,
        "train",
        "--data",
        data,
        "--model",
        tiny_model_dir(),
        "--config",
        config,
        "--out",
        tmp_path / "run",
        "--objective",
        "group-robust",
        "--group-by",
        "side",
    )
    assert code == 0, err
    assert "group weights: few" in out and "group_weights.jsonl" in "".join(out.split())
    manifest = json.loads((tmp_path / "run" / "train_manifest.json").read_text())
    assert manifest["settings"]["group_by"] == "side"
    assert manifest["groups"]["names"] == ["few", "many"]
    code, _, err = run_inproc(
        capsys,
        "train",
        "--data",
        data,
        "--model",
        tiny_model_dir(),
        "--out",
        tmp_path / "bad",
        "--objective",
        "fair",
    )
    assert code == 1 and "objective" in err and "Traceback" not in err
