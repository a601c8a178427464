"""The tiny offline model builder: loads with Auto* offline, chat template, pretraining, errors."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

from trainkit import make_rows, tiny_model_dir  # noqa: E402

from pluralign.errors import InputError  # noqa: E402


def test_tiny_model_loads_offline_with_auto_classes():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tiny_model_dir()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    assert tok.pad_token is not None and tok.eos_token is not None
    assert tok.pad_token_id != tok.eos_token_id
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tok)
    ids = tok("Should buses be free?", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=3, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > ids["input_ids"].shape[1]
    meta = json.loads((path / "pluralign_tiny.json").read_text())
    assert len(meta["texts_sha256"]) == 64 and meta["seed"] == 0


def test_chat_template_prompt_is_a_token_prefix_of_the_conversation():
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir())
    user = [{"role": "user", "content": "Is it fair to raise local taxes?"}]
    prompt = tok.apply_chat_template(user, add_generation_prompt=True, tokenize=True)["input_ids"]
    full = tok.apply_chat_template(
        user + [{"role": "assistant", "content": "Yes."}], tokenize=True
    )["input_ids"]
    assert full[: len(prompt)] == prompt
    assert full[-1] == tok.eos_token_id


def test_pretraining_lowers_the_loss_and_is_seeded(tmp_path):
    from pluralign.models.tiny import build_tiny_model

    texts = [r["chosen"] for r in make_rows(6)] * 3
    settings = dict(vocab_size=300, hidden_size=16, layers=1, heads=2, pretrain_steps=12, seed=3)
    a = build_tiny_model(texts, tmp_path / "a", **settings)
    b = build_tiny_model(texts, tmp_path / "b", **settings)
    la = json.loads((a / "pluralign_tiny.json").read_text())["pretrain_losses"]
    lb = json.loads((b / "pluralign_tiny.json").read_text())["pretrain_losses"]
    assert la == lb  # same seed, same run
    assert la[-1] < la[0] - 0.2


@pytest.mark.parametrize(
    ("texts", "kwargs", "match"),
    [
        (["", "  "], {}, "no text"),
        (["hello"], {"hidden_size": 30, "heads": 4}, "divisible"),
        (["hello"], {"vocab_size": 100}, "too small"),
        (["hello"], {"layers": 0}, "layers"),
    ],
)
def test_bad_arguments_are_input_errors(tmp_path, texts, kwargs, match):
    from pluralign.models.tiny import build_tiny_model

    with pytest.raises(InputError, match=match):
        build_tiny_model(texts, tmp_path / "m", **kwargs)
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_read_texts_from_jsonl_and_plain_files(tmp_path):
    from pluralign.models.tiny import read_texts

    jl = tmp_path / "p.jsonl"
    jl.write_text('{"prompt": "Q?", "chosen": "A", "rejected": "B"}\n\n')
    assert read_texts(jl) == ["<|user|>Q?<|end|><|assistant|>A", "<|user|>Q?<|end|><|assistant|>B"]
    plain = tmp_path / "t.txt"
    plain.write_text("one\n\ntwo\n")
    assert read_texts(plain) == ["one", "two"]
    jl.write_text("{oops\n")
    with pytest.raises(InputError, match="line 1"):
        read_texts(jl)
