"""The group-robust objective inside the real trainers (``Trainer.get_batch_samples`` +
``training_step``): one group is weighted DPO, the loss is (G4), the step's group sums and the
α step (G3, G5) match a hand computation from independently computed log-probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl")

from trainkit import (  # noqa: E402
    assert_grads_close,
    collate,
    make_rows,
    make_trainer,
    reference_settings,
    step_gradients,
    tiny_model_dir,
)

from pluralign.train.group_robust import GroupRobustState  # noqa: E402

METHODS = [
    ("dpo", {}),
    ("dpo", {"loss_type": "ipo"}),
    ("kto", {"kl_estimate": "none"}),
    ("orpo", {}),
]


def gr_trainer(method, rows, tmp_path, *, eta=1.0, init="uniform", **overrides):
    """A trainer with the group-robust objective from a fresh state over ``rows``' groups."""
    from pluralign.train.api import Hardware, build_trainer
    from pluralign.train.config import load_train_config
    from pluralign.train.rows import load_rows

    settings = {
        **reference_settings(method),
        "per_device_train_batch_size": 2,
        "max_steps": 1,
        "save_steps": 0,
        "learning_rate": 1e-3,
        "lr_scheduler_type": "constant",
        "max_grad_norm": 0.0,
        "objective": "group-robust",
        "group_step_size": eta,
        "group_weights_init": init,
        **overrides,
    }
    cfg = load_train_config(settings, method)
    loaded = load_rows(rows, "group")
    state = GroupRobustState.start([r.group for r in loaded], [r.weight for r in loaded], eta, init)
    return build_trainer(
        loaded,
        tiny_model_dir(),
        cfg,
        Path(tmp_path),
        Hardware(cuda=False, bf16=False, qlora=False),
        group_robust=state,
    )


def perturb(model, seed=3, scale=0.05):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def _batches(trainer, n, method):
    """Uneven micro-batches over the prepared rows (KTO: two unpaired rows per pair)."""
    k = 2 if method == "kto" else 1
    cut = 3 * k
    return [collate(trainer, range(cut)), collate(trainer, range(cut, n * k))]


W = [2.0, 0.5, 1.0, 3.0, 0.25]


@pytest.mark.parametrize(("method", "extra"), METHODS)
def test_one_group_equals_weighted(method, extra, tmp_path):
    rows = [{**r, "group": "everyone"} for r in make_rows(5, W)]
    gr = gr_trainer(method, rows, tmp_path / "gr", eta=5.0, **extra)
    wt = make_trainer(method, rows, tmp_path / "w", **extra)
    perturb(gr.model)
    perturb(wt.model)
    loss_gr, grads_gr = step_gradients(gr, _batches(gr, 5, method))
    loss_w, grads_w = step_gradients(wt, _batches(wt, 5, method))
    assert loss_gr == pytest.approx(loss_w, rel=1e-6)
    assert_grads_close(grads_gr, grads_w, rtol=1e-5, atol=1e-8)
    gr._finish_group_robust_step()
    assert gr.group_robust.weights.tolist() == [1.0] and gr.group_robust.step == 1


def test_proportional_weights_without_steps_equal_weighted_for_two_groups(tmp_path):
    """With α = π and a step holding all rows (so each group's batch share W_{B,g}/W_B is π_g),
    every factor α_g·W_B/W_{B,g} of (G4) is 1: the weighted loss."""
    rows = make_rows(5, W)  # groups g0, g1 alternate, with uneven weights
    gr = gr_trainer("dpo", rows, tmp_path / "gr", eta=0.0, init="proportional")
    wt = make_trainer("dpo", rows, tmp_path / "w")
    assert len(gr.group_robust.names) == 2
    perturb(gr.model)
    perturb(wt.model)
    _, grads_gr = step_gradients(gr, _batches(gr, 5, "dpo"))
    _, grads_w = step_gradients(wt, _batches(wt, 5, "dpo"))
    assert_grads_close(grads_gr, grads_w, rtol=1e-5, atol=1e-8)


def test_loss_is_rows_reweighted_by_alpha_over_batch_share(tmp_path):
    """(G4): the group-robust step equals the weighted step on weights wᵢ·α_g·W_B/W_{B,g}, the
    W_{B,g} those of the step's rows (four of the five here, over two micro-batches), and the
    normaliser the batch's own weight sum (Σ_B w' = Σ_B w: the factors average to 1)."""
    weights = [3.0, 0.5, 2.0, 0.5, 1.0]  # g0 holds 6 of the 7
    rows = make_rows(5, weights)
    gr = gr_trainer("dpo", rows, tmp_path / "gr")
    state = gr.group_robust
    step = rows[:4]
    group_weights = np.array(
        [sum(r["weight"] for r in step if r["group"] == g) for g in state.names]
    )
    np.testing.assert_allclose(group_weights, [5.0, 1.0])
    f = dict(zip(state.names, state.factors(group_weights), strict=True))
    np.testing.assert_allclose([f["g0"], f["g1"]], [0.5 * 6 / 5, 0.5 * 6 / 1])  # uniform α
    reweighted = [{**r, "weight": r["weight"] * f[r["group"]]} for r in step] + rows[4:]
    assert sum(r["weight"] for r in reweighted[:4]) == pytest.approx(6.0)
    wt = make_trainer("dpo", reweighted, tmp_path / "w")
    perturb(gr.model)
    perturb(wt.model)

    def four(trainer):
        return [collate(trainer, range(2)), collate(trainer, range(2, 4))]

    loss_gr, grads_gr = step_gradients(gr, four(gr))
    loss_w, grads_w = step_gradients(wt, four(wt))
    assert loss_gr == pytest.approx(loss_w, rel=1e-5)
    assert_grads_close(grads_gr, grads_w, rtol=1e-5)
    gr._finish_group_robust_step()
    assert gr.group_robust.step == 1 and gr._gr_group_weights is None


def test_step_group_losses_and_alpha_step_by_hand(tmp_path):
    """After a step of two micro-batches, α equals (G3)+(G5) computed in float64 from
    log-probabilities recomputed independently of TRL (full logits, margins.sequence_logps)."""
    from pluralign.train.margins import load_causal_lm, sequence_logps

    rows = make_rows(5, W)
    eta, beta = 2.0, 0.3
    gr = gr_trainer("dpo", rows, tmp_path, eta=eta, beta=beta)
    perturb(gr.model)
    step_gradients(gr, _batches(gr, 5, "dpo"))
    gr._finish_group_robust_step()

    tok = gr.processing_class
    ref, _ = load_causal_lm(str(tiny_model_dir()), "cpu")
    gr.model.eval()

    def lp(model, key):
        return sequence_logps(model, tok, [(r["prompt"], r[key]) for r in rows])

    h = (lp(gr.model, "chosen") - lp(ref, "chosen")) - (
        lp(gr.model, "rejected") - lp(ref, "rejected")
    )
    losses = np.log1p(np.exp(-beta * h))  # DPO's −log σ(βh)
    w = np.array(W)
    groups = np.array([r["group"] for r in rows])
    group_weights = np.array([w[groups == g].sum() for g in ("g0", "g1")])
    sums = np.array([(w * losses)[groups == g].sum() for g in ("g0", "g1")])
    est = sums / group_weights  # (G3): the batch is all five rows, each group's weighted mean
    alpha = 0.5 * np.exp(eta * est)
    np.testing.assert_allclose(gr.group_robust.weights, alpha / alpha.sum(), rtol=1e-5)
    np.testing.assert_allclose(gr.group_robust.last_losses, est, rtol=1e-5)


def _shared_pairs() -> list[dict]:
    """Three pairs, each given by both groups with uneven weights, two of them also in reverse
    (as a panel split on a prompt gives them): 7 rows of (pair, order, group)."""
    base = make_rows(3)

    def row(i, group, weight, reverse=False):
        r = {**base[i], "group": group, "weight": weight}
        if reverse:
            r["chosen"], r["rejected"] = r["rejected"], r["chosen"]
        return r

    return [
        row(0, "g0", 2.0), row(0, "g1", 0.5), row(0, "g1", 1.0, reverse=True),
        row(1, "g0", 1.0), row(1, "g0", 3.0, reverse=True),
        row(2, "g1", 1.5), row(2, "g0", 0.25),
    ]


@pytest.mark.parametrize(
    ("method", "extra"),
    [("dpo", {"sft_weight": 0.5}), ("dpo", {"loss_type": "ipo"}),
     ("kto", {"kl_estimate": "none"}), ("orpo", {})],
)
def test_merged_group_rows_equal_one_row_per_pair_and_group(method, extra, tmp_path):
    """Identical pairs of several groups merged into one row (DPO: also folded with their
    reverse), each group's weights kept apart (rows.group_rows): a step holding all the rows has
    the loss, gradients, group losses (G3) and α step (G5) of one row per pair, order and group."""
    from pluralign.train.api import Hardware, build_trainer
    from pluralign.train.config import load_train_config
    from pluralign.train.rows import group_rows, load_rows

    rows = _shared_pairs()
    eta = 2.0
    plain = gr_trainer(method, rows, tmp_path / "plain", eta=eta, **extra)
    loaded = load_rows(rows, "group")
    fold = method == "dpo"
    groups = group_rows(loaded, plain.group_robust.names, merge=True, fold=fold)
    assert len(groups.rows) == (3 if fold else 5)
    cfg = load_train_config({**reference_settings(method), "per_device_train_batch_size": 2,
                             "max_steps": 1, "save_steps": 0, "learning_rate": 1e-3,
                             "lr_scheduler_type": "constant", "max_grad_norm": 0.0,
                             "objective": "group-robust", "group_step_size": eta, **extra}, method)
    state = GroupRobustState.start([r.group for r in loaded], [r.weight for r in loaded], eta,
                                   "uniform")
    merged = build_trainer(groups.rows, tiny_model_dir(), cfg, tmp_path / "merged",
                           Hardware(cuda=False, bf16=False, qlora=False), group_robust=state,
                           forward_share=groups.forward_share() if fold else None, groups=groups)
    perturb(plain.model)
    perturb(merged.model)
    k = 2 if method == "kto" else 1
    n = len(groups.rows) * k
    loss_p, grads_p = step_gradients(plain, [collate(plain, range(4 * k)),
                                             collate(plain, range(4 * k, 7 * k))])
    loss_m, grads_m = step_gradients(merged, [collate(merged, range(k)),
                                              collate(merged, range(k, n))])
    assert loss_m == pytest.approx(loss_p, rel=1e-5)
    assert_grads_close(grads_m, grads_p, rtol=1e-4, atol=2e-6)  # float32 sums in another order
    plain._finish_group_robust_step()
    merged._finish_group_robust_step()
    np.testing.assert_allclose(merged.group_robust.last_losses, plain.group_robust.last_losses,
                               rtol=1e-5)
    np.testing.assert_allclose(merged.group_robust.weights, plain.group_robust.weights, rtol=1e-5)
    assert abs(merged.group_robust.weights[0] - 0.5) > 1e-4  # the step moved them


def test_group_rows_keep_each_groups_weight_on_each_order():
    from pluralign.train.rows import group_rows, load_rows

    loaded = load_rows(_shared_pairs(), "group")
    folded = group_rows(loaded, ("g0", "g1"), merge=True, fold=True)
    # pair 1: g0 gave 1 forward and 3 reversed, so the reverse leads
    assert folded.rows[1].chosen == loaded[4].chosen
    np.testing.assert_array_equal(folded.forward, [[2.0, 0.5], [3.0, 0.0], [0.25, 1.5]])
    np.testing.assert_array_equal(folded.reverse, [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    assert [r.weight for r in folded.rows] == [3.5, 4.0, 1.75]
    assert [r.group for r in folded.rows] == ["g0", "g0", "g1"]
    assert folded.forward_share() == pytest.approx([2.5 / 3.5, 0.75, 1.0])
    merged = group_rows(loaded, ("g0", "g1"), merge=True)
    assert len(merged.rows) == 5 and not merged.reverse.any()
    plain = group_rows([*loaded, loaded[0].with_weight(0.0)], ("g0", "g1"), merge=False)
    assert len(plain.rows) == 7 and plain.forward.sum() == pytest.approx(9.25)
