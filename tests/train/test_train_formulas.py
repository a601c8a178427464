"""The weighted losses against hand computations of the papers' formulas.

Pure-function checks use numbers worked out with ``math``; trainer checks recompute every
log-probability independently (full logits + log-softmax, :func:`sequence_logps`, not TRL's fused
head) and rebuild Σ wᵢ·ℓᵢ / Σ wᵢ in float64 numpy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from trainkit import collate, make_rows, make_trainer  # noqa: E402

from pluralign.train.losses import (  # noqa: E402
    dpo_losses,
    kto_losses,
    kto_reference_point,
    orpo_losses,
    weighted_sum,
)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def t(*xs):
    return torch.tensor(xs, dtype=torch.float64)


def test_dpo_sigmoid_hinge_ipo_by_hand():
    pc, pr, rc, rr, beta = t(-3.0, -10.0), t(-5.0, -9.0), t(-4.0, -8.0), t(-4.5, -9.5), 0.5
    h = [(-3 + 4) - (-5 + 4.5), (-10 + 8) - (-9 + 9.5)]  # [1.5, -2.5]
    expect_sigmoid = [-math.log(_sig(beta * x)) for x in h]
    expect_hinge = [max(0.0, 1 - beta * x) for x in h]
    torch.testing.assert_close(dpo_losses(pc, pr, rc, rr, beta), t(*expect_sigmoid))
    torch.testing.assert_close(dpo_losses(pc, pr, rc, rr, beta, "hinge"), t(*expect_hinge))
    lc, lr = t(2.0, 4.0), t(1.0, 5.0)
    hbar = [(-3 + 4) / 2 - (-5 + 4.5) / 1, (-10 + 8) / 4 - (-9 + 9.5) / 5]
    expect_ipo = [(x - 1 / (2 * beta)) ** 2 for x in hbar]
    torch.testing.assert_close(dpo_losses(pc, pr, rc, rr, beta, "ipo", lc, lr), t(*expect_ipo))


def test_kto_by_hand():
    logps, ref = t(-2.0, -3.0, -1.0), t(-2.5, -2.0, -1.0)
    desirable = torch.tensor([True, False, True])
    z0, beta, ld, lu = 0.2, 0.1, 1.5, 0.7
    r = [0.5, -1.0, 0.0]
    expect = [
        ld * (1 - _sig(beta * (r[0] - z0))),
        lu * (1 - _sig(beta * (z0 - r[1]))),
        ld * (1 - _sig(beta * (r[2] - z0))),
    ]
    torch.testing.assert_close(kto_losses(logps, ref, desirable, z0, beta, ld, lu), t(*expect))


def test_kto_reference_point_is_weighted_clamped_and_safe():
    kl, w = t(1.0, 3.0, -10.0), t(1.0, 3.0, 0.0)
    assert float(kto_reference_point(kl, w)) == pytest.approx((1 + 9) / 4)
    assert float(kto_reference_point(t(-1.0, -2.0), t(1.0, 1.0))) == 0.0  # clamped at 0
    assert float(kto_reference_point(t(5.0), t(0.0))) == 0.0  # no weight, no estimate


def test_orpo_by_hand():
    c, r, lam = t(-0.5, -2.0), t(-1.5, -0.3), 0.25

    def log_odds(p):
        return p - math.log(1 - math.exp(p))

    expect = [
        0.5 - lam * math.log(_sig(log_odds(-0.5) - log_odds(-1.5))),
        2.0 - lam * math.log(_sig(log_odds(-2.0) - log_odds(-0.3))),
    ]
    torch.testing.assert_close(orpo_losses(c, r, -c, lam), t(*expect))


def test_weight_zero_row_contributes_nothing_even_if_nan():
    assert float(weighted_sum(t(1.0, float("nan"), 2.0), t(2.0, 0.0, 1.0))) == 4.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.integers(0, 4)), min_size=1, max_size=12))
def test_integer_weights_equal_repetition(pairs):
    """Σ wᵢℓᵢ/Σ wᵢ with integer weights = plain mean over the list with row i repeated wᵢ times."""
    losses, weights = [p[0] for p in pairs], [p[1] for p in pairs]
    if sum(weights) == 0:
        return
    repeated = [lo for lo, w in pairs for _ in range(w)]
    got = float(weighted_sum(t(*losses), t(*weights))) / sum(weights)
    assert got == pytest.approx(sum(repeated) / len(repeated), abs=1e-9)


# ---- trainer losses against hand computation from independently computed log-probs ----


def _perturb(model, seed=1, scale=0.05):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def _logps(model, tokenizer, pairs):
    from pluralign.train.margins import sequence_logps

    model.eval()
    return sequence_logps(model, tokenizer, pairs)


def _lengths(tokenizer, pairs):
    from pluralign.train.margins import encode_completion

    return np.array([len(encode_completion(tokenizer, p, c)[1]) for p, c in pairs], dtype=float)


def _ref(trainer):
    from pluralign.train.margins import load_causal_lm

    return load_causal_lm(trainer.model.config._name_or_path, "cpu")


def test_weighted_dpo_loss_matches_hand_computation(tmp_path):
    rows = make_rows(4, [2.0, 0.5, 0.0, 1.25])
    trainer = make_trainer("dpo", rows, tmp_path, per_device_train_batch_size=4, beta=0.3)
    _perturb(trainer.model)
    batch = collate(trainer, range(4))
    trainer.model.eval()
    with torch.no_grad():
        got = float(trainer.compute_loss(trainer.model, batch))
    tok = trainer.processing_class
    ref, _ = _ref(trainer)
    chosen = [(r["prompt"], r["chosen"]) for r in rows]
    rejected = [(r["prompt"], r["rejected"]) for r in rows]
    h = (_logps(trainer.model, tok, chosen) - _logps(ref, tok, chosen)) - (
        _logps(trainer.model, tok, rejected) - _logps(ref, tok, rejected)
    )
    assert np.abs(h).max() > 1e-3  # the policy really differs from the reference
    w = np.array([r["weight"] for r in rows])
    losses = np.log1p(np.exp(-0.3 * h))  # −log σ(βh), DPO Eq. 7
    assert got == pytest.approx(float((w * losses).sum() / w.sum()), rel=1e-5)


def test_weighted_kto_loss_with_batch_kl_matches_hand_computation(tmp_path):
    rows = make_rows(2, [2.0, 0.5])
    trainer = make_trainer(
        "kto",
        rows,
        tmp_path,
        per_device_train_batch_size=4,
        beta=0.2,
        desirable_weight=1.3,
        undesirable_weight=0.8,
    )
    # A degraded *reference* makes log πθ − log πref positive, so z0 > 0 is not clamped away.
    ref = trainer.ref_model
    _perturb(ref, scale=0.1)
    batch = collate(trainer, range(4))
    trainer.model.eval()
    with torch.no_grad():
        got = float(trainer.compute_loss(trainer.model, batch))
    tok = trainer.processing_class
    # unpaired rows in order: (x0, c0, +), (x0, r0, -), (x1, c1, +), (x1, r1, -)
    prompts = [rows[0]["prompt"]] * 2 + [rows[1]["prompt"]] * 2
    comps = [rows[0]["chosen"], rows[0]["rejected"], rows[1]["chosen"], rows[1]["rejected"]]
    w = np.array([2.0, 2.0, 0.5, 0.5])
    desirable = np.array([True, False, True, False])
    pairs = list(zip(prompts, comps, strict=True))
    # TRL's mismatched KL pairs: each row's prompt with the previous row's completion (cyclic)
    kl_pairs = [(prompts[k], comps[k - 1]) for k in range(4)]
    kl = _logps(trainer.model, tok, kl_pairs) - _logps(ref, tok, kl_pairs)
    z0 = max(0.0, float((w * kl).sum() / w.sum()))
    assert z0 > 0.1  # the reference point is really in play
    r = _logps(trainer.model, tok, pairs) - _logps(ref, tok, pairs)
    sig = 1 / (1 + np.exp(-0.2 * (r - z0)))
    losses = np.where(desirable, 1.3 * (1 - sig), 0.8 * (1 - 1 / (1 + np.exp(-0.2 * (z0 - r)))))
    assert got == pytest.approx(float((w * losses).sum() / w.sum()), rel=1e-5)


def test_weighted_orpo_loss_matches_hand_computation(tmp_path):
    rows = make_rows(3, [1.0, 3.0, 0.5])
    trainer = make_trainer("orpo", rows, tmp_path, per_device_train_batch_size=3, beta=0.4)
    batch = collate(trainer, range(3))
    trainer.model.eval()
    with torch.no_grad():
        got = float(trainer.compute_loss(trainer.model, batch))
    tok = trainer.processing_class
    chosen = [(r["prompt"], r["chosen"]) for r in rows]
    rejected = [(r["prompt"], r["rejected"]) for r in rows]
    c = _logps(trainer.model, tok, chosen) / _lengths(tok, chosen)  # per-token average
    r = _logps(trainer.model, tok, rejected) / _lengths(tok, rejected)
    log_odds = (c - np.log1p(-np.exp(c))) - (r - np.log1p(-np.exp(r)))
    losses = -c + 0.4 * np.log1p(np.exp(-log_odds))  # L_SFT + λ·(−log σ(log odds ratio))
    w = np.array([r_["weight"] for r_ in rows])
    assert got == pytest.approx(float((w * losses).sum() / w.sum()), rel=1e-5)
