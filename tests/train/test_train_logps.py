"""Completion-only log-probabilities equal the full-vocabulary log-softmax at the scored
positions, with and without TRL's fused-head call, with gradients, and in chunks."""

from __future__ import annotations

import os

import pytest
from trainkit import make_rows, make_trainer, tiny_model_dir

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model():
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir(), dtype=torch.float32)


def _batch(vocab: int):
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(8, vocab, (3, 12), generator=gen)
    att = torch.ones_like(ids)
    att[2, 9:] = 0  # right padding
    labels = ids.masked_fill(att == 0, -100)
    labels[:, :5] = -100  # the prompt
    labels[1, :7] = -100
    return ids, att, labels


def _reference(model, ids, att, labels):
    logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].float()
    logp = torch.log_softmax(logits, -1)
    target = labels[:, 1:]
    tok = logp.gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return tok.masked_fill(target == -100, 0)


def test_completion_logps_equal_log_softmax_and_their_gradients(model, monkeypatch):
    from pluralign.train import logps as L

    ids, att, labels = _batch(model.config.vocab_size)
    want = _reference(model, ids, att, labels)
    want.sum().backward()
    want_grad = model.get_output_embeddings().weight.grad.clone()
    model.zero_grad()
    got = L.completion_token_logps(model, labels, input_ids=ids, attention_mask=att)
    assert torch.allclose(got, want, atol=1e-5)
    got.sum().backward()
    assert torch.allclose(model.get_output_embeddings().weight.grad, want_grad, atol=1e-5)
    model.zero_grad()
    monkeypatch.setattr(L, "CHUNK", 4)  # several chunks, recomputed in backward
    chunked = L.completion_token_logps(model, labels, input_ids=ids, attention_mask=att)
    chunked.sum().backward()
    assert torch.allclose(chunked, want, atol=1e-5)
    assert torch.allclose(model.get_output_embeddings().weight.grad, want_grad, atol=1e-5)
    model.zero_grad()


def test_completion_head_answers_trls_fused_call():
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from pluralign.train.logps import add_completion_head

    m = AutoModelForCausalLM.from_pretrained(tiny_model_dir(), dtype=torch.float32)
    ids, att, labels = _batch(m.config.vocab_size)
    add_fused_lm_head(m)
    trl_out = m(input_ids=ids, attention_mask=att, labels=labels, fused_lm_head=True)
    assert add_completion_head(m) and not add_completion_head(m)  # installs once
    ours = m(input_ids=ids, attention_mask=att, labels=labels, fused_lm_head=True)
    assert torch.allclose(ours.log_probs, trl_out.log_probs, atol=1e-5)
    assert torch.allclose(ours.loss, trl_out.loss, atol=1e-5)
    plain = m(input_ids=ids, attention_mask=att)  # without the flag: the model's own forward
    assert plain.logits.shape == (*ids.shape, m.config.vocab_size)


def test_reference_pass_draws_no_tqdm_bar(capfd, monkeypatch, tmp_path):
    """TRL's bar over the precomputed reference pass is off (pluralign shows its own progress),
    and the TQDM_DISABLE variable is left as it was."""
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    trainer = make_trainer("dpo", make_rows(4), tmp_path, precompute_ref_log_probs=True)
    assert "ref_chosen_logps" in trainer.train_dataset.column_names  # the pass ran
    err = capfd.readouterr().err
    assert "Computing reference log probs" not in err, err  # TRL's bar
    assert "TQDM_DISABLE" not in os.environ
