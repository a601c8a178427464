"""Proofs that the weights are true per-example weights, through the real Trainer code path.

For each method: weight 2 gives the gradient of the example duplicated; weight 0 gives the
gradient of the batch without it; gradient accumulation over uneven weights gives the gradient of
the single big batch; and with all weights 1 the weighted DPO equals stock TRL DPO.
"""

from __future__ import annotations

import pytest

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

# KTO with kl_estimate='none': z0 = 0 makes the loss additive over rows (module doc of
# pluralign.train.kto_trainer); the batch-KL variant is checked by hand in test_train_formulas.
METHODS = [("dpo", {}), ("kto", {"kl_estimate": "none"}), ("orpo", {})]


def _rows_per_pair(method: str) -> int:
    return 2 if method == "kto" else 1  # KTO trains on a desirable and an undesirable row per pair


def _idx(method: str, pairs) -> list[int]:
    k = _rows_per_pair(method)
    return [p * k + j for p in pairs for j in range(k)]


@pytest.mark.parametrize(("method", "extra"), METHODS)
def test_weight_two_equals_duplicated_example(method, extra, tmp_path):
    weighted = make_trainer(method, make_rows(3, [2.0, 1.0, 1.0]), tmp_path / "w", **extra)
    dup = make_trainer(method, make_rows(3), tmp_path / "d", **extra)
    loss_w, g_w = step_gradients(weighted, [collate(weighted, _idx(method, [0, 1, 2]))])
    loss_d, g_d = step_gradients(dup, [collate(dup, _idx(method, [0, 0, 1, 2]))])
    assert loss_w == pytest.approx(loss_d, rel=1e-5)
    assert_grads_close(g_w, g_d)


@pytest.mark.parametrize(("method", "extra"), METHODS)
def test_weight_zero_equals_example_absent(method, extra, tmp_path):
    with_zero = make_trainer(method, make_rows(3, [1.0, 0.0, 1.0]), tmp_path / "z", **extra)
    without = make_trainer(method, make_rows(3), tmp_path / "n", **extra)
    loss_z, g_z = step_gradients(with_zero, [collate(with_zero, _idx(method, [0, 1, 2]))])
    loss_n, g_n = step_gradients(without, [collate(without, _idx(method, [0, 2]))])
    assert loss_z == pytest.approx(loss_n, rel=1e-5)
    assert_grads_close(g_z, g_n)


@pytest.mark.parametrize(("method", "extra"), METHODS)
def test_accumulation_with_uneven_weights_equals_one_big_batch(method, extra, tmp_path):
    weights = [3.0, 0.5, 1.0, 0.0, 2.0, 0.25]
    trainer = make_trainer(method, make_rows(6, weights), tmp_path, **extra)
    big_loss, big = step_gradients(trainer, [collate(trainer, _idx(method, range(6)))])
    # three micro-batches of different total weight (3.5, 1.0, 2.25)
    micro = [collate(trainer, _idx(method, p)) for p in ([0, 1], [2, 3], [4, 5])]
    acc_loss, acc = step_gradients(trainer, micro)
    assert acc_loss == pytest.approx(big_loss, rel=1e-5)
    assert_grads_close(big, acc)
    # ... and uneven micro-batch sizes too (the last accumulation step of an epoch can be short)
    uneven = [collate(trainer, _idx(method, p)) for p in ([0, 1, 2, 3], [4], [5])]
    un_loss, un = step_gradients(trainer, uneven)
    assert un_loss == pytest.approx(big_loss, rel=1e-5)
    assert_grads_close(big, un)


def test_per_microbatch_normalisation_would_differ(tmp_path):
    """Guard against a vacuous GA test: normalising per micro-batch gives another gradient."""
    import torch

    weights = [3.0, 0.5, 1.0, 0.0, 2.0, 0.25]
    trainer = make_trainer("dpo", make_rows(6, weights), tmp_path)
    _, big = step_gradients(trainer, [collate(trainer, range(6))])
    model = trainer.model
    model.zero_grad(set_to_none=True)
    for pairs in ([0, 1], [2, 3], [4, 5]):  # each micro-batch normalised by its own weight sum
        batch = collate(trainer, pairs)
        (trainer.compute_loss(model, batch) / 3).backward()
    naive = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    assert any(not torch.allclose(big[n], naive[n], rtol=1e-3, atol=1e-6) for n in big)


def test_unit_weights_match_stock_trl_dpo(tmp_path):
    """All weights 1 and equal micro-batches: the same objective as TRL's DPOTrainer."""
    from trl import DPOTrainer

    trainer = make_trainer("dpo", make_rows(4), tmp_path / "w")
    stock = DPOTrainer(
        model=str(trainer.model.config._name_or_path),
        args=trainer.args,
        train_dataset=trainer.train_dataset.remove_columns(["weight"]),
        processing_class=trainer.processing_class,
    )
    micro = [collate(trainer, [0, 1]), collate(trainer, [2, 3])]
    loss_w, g_w = step_gradients(trainer, micro)
    stock_micro = [{k: v for k, v in b.items() if k != "weight"} for b in micro]
    loss_s, g_s = step_gradients(stock, stock_micro)
    assert loss_w == pytest.approx(loss_s, rel=1e-5)
    assert_grads_close(g_w, g_s)


@pytest.mark.slow
def test_real_training_loop_accumulation_equals_big_batch(tmp_path):
    """One optimizer step through Trainer.train(): micro-batches 2 x accumulation 2 vs one batch
    of 4 over the same 4 weighted pairs give the same updated weights."""
    import torch

    rows = make_rows(4, [2.0, 1.0, 0.5, 0.0])
    a = make_trainer(
        "dpo", rows, tmp_path / "a", per_device_train_batch_size=2, gradient_accumulation_steps=2
    )
    b = make_trainer(
        "dpo", rows, tmp_path / "b", per_device_train_batch_size=4, gradient_accumulation_steps=1
    )
    before = {n: p.detach().clone() for n, p in b.model.named_parameters()}
    a.train()
    b.train()
    pa, pb = dict(a.model.named_parameters()), dict(b.model.named_parameters())
    assert any(not torch.equal(before[n], pb[n]) for n in pb)  # the step changed the weights
    for n in pb:
        torch.testing.assert_close(pa[n], pb[n], rtol=1e-4, atol=1e-6, msg=n)


@pytest.mark.parametrize("method", ["dpo", "kto"])
def test_precomputed_reference_gives_the_same_step(method, tmp_path):
    rows = make_rows(3, [0.5, 2.0, 1.0])
    k = _rows_per_pair(method)
    live = make_trainer(method, rows, tmp_path / "live", per_device_train_batch_size=2 * k)
    pre = make_trainer(
        method,
        rows,
        tmp_path / "pre",
        per_device_train_batch_size=2 * k,
        precompute_ref_log_probs=True,
    )
    assert pre.ref_model is None  # the reference was used once, then dropped
    idx = _idx(method, [0, 1])
    loss_l, g_l = step_gradients(live, [collate(live, idx)])
    loss_p, g_p = step_gradients(pre, [collate(pre, idx)])
    assert loss_l == pytest.approx(loss_p, rel=1e-5)
    assert_grads_close(g_l, g_p)


@pytest.mark.parametrize("extra", [{}, {"sft_weight": 0.5}, {"loss_type": "ipo"}])
def test_a_pair_folded_with_its_reverse_equals_both_rows(extra, tmp_path):
    """merge_reverses: (A ≻ B, w 2) and (B ≻ A, w 0.5) as one row of weight 2.5 with forward
    share 0.8 give the loss and the gradient of the two rows (DPO, RPO's NLL term, IPO)."""
    from pluralign.train.api import Hardware, build_trainer
    from pluralign.train.config import load_train_config
    from pluralign.train.rows import load_rows, merge_duplicates, merge_reverses

    a, b, c = make_rows(3, [2.0, 1.0, 1.5])
    back = {**a, "chosen": a["rejected"], "rejected": a["chosen"], "weight": 0.5}
    rows = load_rows([a, b, back, c])
    folded, shares = merge_reverses(merge_duplicates(rows))
    assert [(r.chosen, r.weight) for r in folded] == [
        (a["chosen"], 2.5), (b["chosen"], 1.0), (c["chosen"], 1.5)]
    assert shares == pytest.approx([0.8, 1.0, 1.0])
    both = make_trainer("dpo", rows, tmp_path / "both", **extra)
    settings = {**reference_settings("dpo"), "per_device_train_batch_size": 2, "max_steps": 1,
                "save_steps": 0,
                "learning_rate": 1e-3, "lr_scheduler_type": "constant", "max_grad_norm": 0.0,
                **extra}
    one = build_trainer(folded, tiny_model_dir(), load_train_config(settings, "dpo"),
                        tmp_path / "one", Hardware(cuda=False, bf16=False, qlora=False),
                        forward_share=shares)
    assert one.train_dataset["forward_share"] == pytest.approx([0.8, 1.0, 1.0])
    loss_b, g_b = step_gradients(both, [collate(both, [0, 1, 2, 3])])
    loss_o, g_o = step_gradients(one, [collate(one, [0, 1, 2])])
    assert loss_o == pytest.approx(loss_b, rel=1e-5)
    assert_grads_close(g_o, g_b)


def test_merge_reverses_leads_with_the_heavier_order():
    from pluralign.train.rows import load_rows, merge_reverses

    rows = load_rows([
        {"prompt": "p", "chosen": "x", "rejected": "y", "weight": 1.0},
        {"prompt": "p", "chosen": "y", "rejected": "x", "weight": 3.0},
        {"prompt": "p", "chosen": "x", "rejected": "y", "weight": 0.5},
        {"prompt": "q", "chosen": "x", "rejected": "y", "weight": 1.0},
    ])
    folded, shares = merge_reverses(rows)
    assert [(r.prompt, r.chosen, r.rejected, r.weight) for r in folded] == [
        ("p", "y", "x", 4.5), ("q", "x", "y", 1.0)]
    assert shares == pytest.approx([3.0 / 4.5, 1.0])
