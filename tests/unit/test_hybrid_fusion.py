"""How the hybrid ranking weighs BM25 against dense retrieval, and the exact nearest-vector step."""

from __future__ import annotations

import numpy as np

from knowledge import semantic


def test_a_document_both_rankers_find_beats_the_first_of_only_one() -> None:
    bm25 = ["bm25-first", "both", "bm25-third"]
    dense = ["dense-first", "both", "dense-third"]
    fused = [doc for doc, _ in semantic.fuse(bm25, dense)]
    assert fused[0] == "both"  # second in each list beats first in only one
    assert set(fused[1:3]) == {"bm25-first", "dense-first"}


def test_a_heavier_ranking_wins_the_disagreements() -> None:
    fused = semantic.rrf([["b1", "b2"], ["d1", "d2"]], k=10, weights=(1.0, 1.5))
    assert [doc for doc, _ in fused] == ["d1", "d2", "b1", "b2"]


def test_fusion_reads_only_its_depth_of_each_ranking() -> None:
    bm25 = [f"b{i}" for i in range(100)]
    fused = {doc for doc, _ in semantic.fuse(bm25, ["d0"], depth=5)}
    assert fused == {"b0", "b1", "b2", "b3", "b4", "d0"}


def test_plain_rrf_with_equal_weights_ties_break_by_id() -> None:
    assert semantic.rrf([["a", "b"], ["b", "a"]]) == [("a", 1 / 61 + 1 / 62), ("b", 1 / 62 + 1 / 61)]


def test_nearest_vectors_respect_the_mask_and_never_pad_with_masked_rows() -> None:
    matrix = np.eye(4, dtype=np.float32)
    query = np.asarray([0.9, 0.8, 0.1, 0.0], dtype=np.float32)
    assert [i for i, _ in semantic.top_k(matrix, query, 2)] == [0, 1]
    mask = np.asarray([False, True, False, True])
    assert [i for i, _ in semantic.top_k(matrix, query, 3, mask=mask)] == [1, 3]
    assert semantic.top_k(matrix, query, 3, mask=np.zeros(4, dtype=bool)) == []
