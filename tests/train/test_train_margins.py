"""preference_margins: the implicit DPO reward margin, tokenised as the trainers tokenise."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("trl")

from trainkit import make_rows, make_trainer, tiny_model_dir  # noqa: E402

from pluralign.errors import InputError  # noqa: E402
from pluralign.train import pair_logps, preference_margins  # noqa: E402


def test_same_model_gives_zero_and_no_reference_gives_likelihood_margin():
    rows = make_rows(5)
    path = tiny_model_dir()
    np.testing.assert_array_equal(preference_margins(path, path, rows, beta=0.1), np.zeros(5))
    chosen, rejected = pair_logps(path, rows)
    np.testing.assert_allclose(
        preference_margins(path, None, rows, beta=0.5), 0.5 * (chosen - rejected), rtol=1e-12
    )
    assert np.all(chosen < 0) and np.all(rejected < 0)


def test_margin_formula_against_two_models(tmp_path):
    import torch

    from pluralign.train.margins import load_causal_lm

    model, tok = load_causal_lm(tiny_model_dir(), "cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.9)
    other = tmp_path / "other"
    model.save_pretrained(other)
    tok.save_pretrained(other)
    rows = make_rows(4)
    pc, pr = pair_logps(other, rows)
    rc, rr = pair_logps(tiny_model_dir(), rows)
    got = preference_margins(other, tiny_model_dir(), rows, beta=0.2)
    np.testing.assert_allclose(got, 0.2 * ((pc - rc) - (pr - rr)), rtol=1e-10)
    assert np.abs(got).max() > 1e-3


def test_tokenisation_matches_the_trl_trainer(tmp_path):
    from pluralign.train.margins import encode_completion

    rows = make_rows(4)
    trainer = make_trainer("dpo", rows, tmp_path)
    for i, r in enumerate(rows):
        prepared = trainer.train_dataset[i]
        prompt, chosen = encode_completion(trainer.processing_class, r["prompt"], r["chosen"])
        _, rejected = encode_completion(trainer.processing_class, r["prompt"], r["rejected"])
        assert prompt == prepared["prompt_ids"]
        assert chosen == prepared["chosen_ids"]
        assert rejected == prepared["rejected_ids"]


def test_errors(tmp_path):
    with pytest.raises(InputError, match="beta"):
        preference_margins(tiny_model_dir(), None, make_rows(1), beta=0)
    with pytest.raises(InputError, match="not found"):
        preference_margins(tmp_path / "nope", None, make_rows(1))
    with pytest.raises(InputError, match="missing column 'chosen'"):
        preference_margins(tiny_model_dir(), None, [{"prompt": "p", "rejected": "r"}])


def test_each_distinct_reply_is_scored_once_with_the_same_values(monkeypatch):
    """A reply chosen in one pair and rejected in the reverse pair (and a repeated pair) is run
    through the model once; the values are those of scoring each sequence on its own."""
    from pluralign.train import logps
    from pluralign.train.margins import load_causal_lm, sequence_logps

    model, tok = load_causal_lm(tiny_model_dir(), "cpu")
    rows = make_rows(3)
    seqs = [(r["prompt"], r["chosen"]) for r in rows] + [(r["prompt"], r["rejected"]) for r in rows]
    alone = np.array([sequence_logps(model, tok, [s])[0] for s in seqs])
    calls = []
    real = logps.completion_token_logps

    def counting(model_, labels, **kw):
        calls.append(labels.shape[0])
        return real(model_, labels, **kw)

    monkeypatch.setattr(logps, "completion_token_logps", counting)
    doubled = seqs + [(p, r) for p, r in reversed(seqs)]  # every sequence twice
    got = sequence_logps(model, tok, doubled, batch_size=64)
    assert sum(calls) == len(seqs)  # 6 distinct sequences, each forward once
    np.testing.assert_allclose(got, np.concatenate([alone, alone[::-1]]), rtol=1e-5, atol=1e-5)


def test_log_likelihoods_do_not_depend_on_the_batching_beyond_float32_rounding():
    """Scores are computed per sequence: another batch size changes only the padded width, so
    the results agree to float32 precision (not bit for bit: the matmuls see other shapes)."""
    rows = make_rows(5)
    path = tiny_model_dir()
    one_batch = np.concatenate(pair_logps(path, rows, batch_size=16))
    batches_of_three = np.concatenate(pair_logps(path, rows, batch_size=3))
    np.testing.assert_allclose(batches_of_three, one_batch, rtol=1e-5)
    assert not np.allclose(one_batch, one_batch[0])  # real, distinct scores
