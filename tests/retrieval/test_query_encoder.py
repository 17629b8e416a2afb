"""The serving path's query encoder: cache, micro-batching of concurrent callers, errors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bot.retrieval.query_encoder import QueryEncoder, cache_key
from tests.conftest import FakeEmbedder


class SlowEmbedder(FakeEmbedder):
    """The fake model, taking `delay` seconds per call and recording each call's batch."""

    def __init__(self, delay: float = 0.05) -> None:
        super().__init__()
        self.delay = delay
        self.calls: list[list[str]] = []
        self.fail_next = False

    def encode(self, texts):
        self.calls.append(list(texts))
        time.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("model exploded")
        return super().encode(texts)


def test_concurrent_queries_share_model_calls_and_get_their_own_vectors():
    model = SlowEmbedder()
    encoder = QueryEncoder(model, cache_size=0)
    texts = [f"question number {i}" for i in range(16)]
    start = threading.Barrier(len(texts))

    def ask(text: str) -> np.ndarray:
        start.wait()
        return encoder.encode([text])[0]

    with ThreadPoolExecutor(len(texts)) as pool:
        vectors = list(pool.map(ask, texts))
    assert np.allclose(np.stack(vectors), FakeEmbedder().encode(texts))
    assert len(model.calls) < len(texts) / 2  # grouped while the model was busy
    assert sorted(t for call in model.calls for t in call) == sorted(texts)
    assert max(len(call) for call in model.calls) <= encoder.max_batch


def test_a_lone_query_is_encoded_at_once():
    model = SlowEmbedder(delay=0.0)
    encoder = QueryEncoder(model, cache_size=0, window_ms=0.0)
    encoder.encode(["warm"])
    started = time.perf_counter()
    encoder.encode(["hello there"])
    assert model.calls[-1] == ["hello there"]
    assert time.perf_counter() - started < 1.0  # generous: no waiting for company by default


def test_batches_never_exceed_max_batch():
    model = SlowEmbedder()
    encoder = QueryEncoder(model, cache_size=0, max_batch=3)
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda i: encoder.encode([f"q {i}"]), range(12)))
    assert max(len(call) for call in model.calls) <= 3
    assert sum(len(call) for call in model.calls) == 12


def test_repeated_questions_come_from_the_cache():
    model = SlowEmbedder(delay=0.0)
    encoder = QueryEncoder(model, cache_size=2)
    first = encoder.encode(["Where is my  order?"])
    again = encoder.encode(["  Where is my order? "])
    assert np.array_equal(first, again)
    assert model.calls == [["Where is my order?"]]
    assert encoder.hits == 1
    encoder.encode(["b"])
    encoder.encode(["c"])  # evicts the least recently used
    encoder.encode(["Where is my order?"])
    assert len(model.calls) == 4


def test_cache_keys_fold_whitespace_and_unicode_forms_but_not_case():
    assert cache_key(" caffe\u0300  macchina\n") == cache_key("caff\u00e8 macchina")
    assert cache_key("Ordine") != cache_key("ordine")


def test_a_model_error_reaches_the_caller_and_the_encoder_carries_on():
    model = SlowEmbedder(delay=0.0)
    encoder = QueryEncoder(model, cache_size=0)
    model.fail_next = True
    with pytest.raises(RuntimeError, match="model exploded"):
        encoder.encode(["boom"])
    assert encoder.encode(["fine"]).shape == (1, model.dimension)


def test_several_texts_go_straight_to_the_model():
    model = SlowEmbedder(delay=0.0)
    encoder = QueryEncoder(model)
    vectors = encoder.encode(["a", "b", "c"])
    assert vectors.shape == (3, model.dimension)
    assert model.calls == [["a", "b", "c"]]
    assert encoder.batches == 0


def test_returned_vectors_cannot_corrupt_the_cache():
    encoder = QueryEncoder(SlowEmbedder(delay=0.0))
    vector = encoder.encode(["shared"])[0]
    with pytest.raises(ValueError):
        vector[0] = 42.0
