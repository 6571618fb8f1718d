"""Query vectors are cached per model and text, so a repeated search does not wait for the model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from knowledge import semantic


class _CountingModel:
    """A stand-in for the embedding model (not our code): a fixed unit vector per text, counted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Any:
        self.calls.extend(texts)
        return [np.full(4, 0.5, dtype=np.float32) * (1 if len(t) % 2 else -1) for t in texts]

    def embed_passages(self, texts: Sequence[str]) -> Any:
        raise AssertionError("queries only")


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> semantic.QueryVectorCache:
    cache = semantic.QueryVectorCache(size=2)
    monkeypatch.setattr(semantic, "query_vectors", cache)
    return cache


def test_a_repeated_query_is_embedded_once_and_answers_at_once() -> None:
    model = _CountingModel("m1")
    first = semantic.embed_query(model, "解約したいのに電話がつながらない")
    again = semantic.embed_query_async(model, "解約したいのに電話がつながらない")
    assert again.done() and np.array_equal(again.result(timeout=0), first)
    assert model.calls == ["解約したいのに電話がつながらない"]
    with pytest.raises(ValueError):
        first[0] = 2.0  # shared between searches: read-only


def test_models_do_not_share_vectors_and_old_queries_are_evicted() -> None:
    a, b = _CountingModel("m1"), _CountingModel("m2")
    semantic.embed_query(a, "q1")
    semantic.embed_query(b, "q1")  # another model: embedded again
    semantic.embed_query(a, "q2")  # size 2: ("m1", "q1") is the oldest and goes
    semantic.embed_query(a, "q1")
    assert a.calls == ["q1", "q2", "q1"] and b.calls == ["q1"]


def test_long_queries_are_cached_by_the_text_the_model_reads() -> None:
    model = _CountingModel("m1")
    base = "あ" * semantic.DENSE_QUERY_CHARS
    semantic.embed_query(model, base + "前半は同じ")
    assert semantic.embed_query_async(model, base + "後半が違う").done()
    assert model.calls == [base]
