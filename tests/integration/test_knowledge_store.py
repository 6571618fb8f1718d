"""Both search stores (SQLite FTS5, PostgreSQL tsvector) pass the same tests: backend from the env."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import text

from config.runtime import Runtime
from knowledge.index import IndexDoc, SearchFilters, store_for


def _docs() -> list[IndexDoc]:
    return [
        IndexDoc("a", "case", 1, ["定期購入", "解約", "電話", "繋がる"]),
        IndexDoc("b", "case", 2, ["屋根", "点検", "訪問販売", "工事"]),
        IndexDoc("c", "faq", None, ["定期購入", "定期購入", "お試し", "解約"]),
        IndexDoc("d", "law", None, ["クーリングオフ", "訪問販売", "書面", "8"]),
    ] + [IndexDoc(f"filler{i}", "case", 1, ["天気", "雑談", f"x{i}"]) for i in range(8)]


@pytest.fixture
def store(runtime: Runtime):  # type: ignore[no-untyped-def]
    s = store_for(runtime.engine.dialect.name)
    with runtime.engine.begin() as conn:
        s.upsert(conn, _docs())
    return s


def _search(runtime: Runtime, store, terms, k=10, **flt):  # type: ignore[no-untyped-def]
    with runtime.engine.connect() as conn:
        return store.search(conn, terms, k, SearchFilters(**flt))


def test_ranks_by_bm25_and_reports_matched_terms(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    hits = _search(runtime, store, ["定期購入", "解約"])
    assert [h.id for h in hits] == ["c", "a"]  # c has the rarer term twice
    assert hits[0].score > hits[1].score > 0
    assert hits[0].matched == ("定期購入", "解約")


def _bm25(tf: int, df: int, n: int, dl: int, avgdl: float) -> float:
    """Reference BM25 as SQLite FTS5 computes it (k1=1.2, b=0.75; the document length counts the
    SQLite store's two meta tokens, so both stores add 2)."""
    idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
    return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * (dl + 2) / (avgdl + 2)))


def test_scores_are_fts5_bm25_on_both_stores(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    hits = {h.id: h.score for h in _search(runtime, store, ["定期購入", "解約"])}
    n, avgdl = 12, (4 * 4 + 8 * 3) / 12
    assert hits["c"] == pytest.approx(_bm25(2, 2, n, 4, avgdl) + _bm25(1, 2, n, 4, avgdl), rel=1e-9)
    assert hits["a"] == pytest.approx(_bm25(1, 2, n, 4, avgdl) * 2, rel=1e-9)


def test_filters_by_kind_center_and_excluded_ids(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    assert [h.id for h in _search(runtime, store, ["定期購入"], kinds=("case",))] == ["a"]
    assert [h.id for h in _search(runtime, store, ["訪問販売"], center_id=2)] == ["b"]
    assert [h.id for h in _search(runtime, store, ["定期購入"], exclude_ids=("c",))] == ["a"]
    assert [h.id for h in _search(runtime, store, ["訪問販売"], kinds=("law", "faq"))] == ["d"]


def test_upsert_replaces_and_delete_removes(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    with runtime.engine.begin() as conn:
        store.upsert(conn, [IndexDoc("a", "case", 1, ["架空請求", "葉書"])])
        assert store.count(conn) == 12
    assert [h.id for h in _search(runtime, store, ["定期購入"])] == ["c"]
    assert [h.id for h in _search(runtime, store, ["架空請求"])] == ["a"]
    with runtime.engine.begin() as conn:
        assert store.delete(conn, "a") is True
        assert store.delete(conn, "a") is False
    assert _search(runtime, store, ["架空請求"]) == []


def test_unknown_empty_and_hostile_terms_return_nothing(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    assert _search(runtime, store, []) == []
    assert _search(runtime, store, ["存在しない語"]) == []
    for hostile in ['"', "a OR b", "NEAR(x y)", "'); DROP TABLE knowledge_search; --", "*", "\\", ":"]:
        assert _search(runtime, store, [hostile]) == []
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM knowledge_search")).scalar_one() == 12


def test_quotes_in_terms_round_trip(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    with runtime.engine.begin() as conn:
        store.upsert(conn, [IndexDoc("q", "faq", None, ["it's", 'say"hi', "back\\slash", '日本語"引用'])])
    assert [h.id for h in _search(runtime, store, ["it's"])] == ["q"]
    assert [h.id for h in _search(runtime, store, ['say"hi'])] == ["q"]


def test_rollback_leaves_index_unchanged(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), runtime.engine.begin() as conn:
        store.upsert(conn, [IndexDoc("z", "faq", None, ["ロールバック"])])
        raise RuntimeError("boom")
    assert _search(runtime, store, ["ロールバック"]) == []


def test_very_common_terms_do_not_drown_rare_ones(runtime: Runtime, store) -> None:  # type: ignore[no-untyped-def]
    hits = _search(runtime, store, ["天気", "屋根"])
    assert hits[0].id == "b"


def test_two_character_words_match_inside_longer_nouns(runtime: Runtime) -> None:
    """期限 / 相談 typed alone find documents that wrote 期限内 / 相談員 (Sudachi mode-A parts)."""
    from sqlmodel import Session

    from knowledge.service import DocumentIn, search, upsert_documents

    with Session(runtime.engine) as session:
        upsert_documents(
            session,
            [
                DocumentIn("kigen", "faq", "通知の出し方", "期限内に通知を出してください"),
                DocumentIn("soudan", "faq", "窓口の案内", "消費生活相談員が対応します"),
                DocumentIn("other", "faq", "ごみの出し方", "燃やすごみは月曜日です"),
            ],
        )
        session.commit()
        assert [h.id for h in search(session, query="期限", viewer_center_id=None)] == ["kigen"]
        assert [h.id for h in search(session, query="相談したい", viewer_center_id=None)] == ["soudan"]
