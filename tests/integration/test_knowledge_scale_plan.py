"""The search store's large-index plan (AND-first, document-frequency table) on both stores:
with a tiny exact budget the shortcut path runs even on a small index, and must agree with BM25."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from config.runtime import Runtime
from knowledge.index import IndexDoc, SearchFilters, store_for
from knowledge.service import DocumentIn, case_doc_id, search, upsert_documents
from tests.factories import make_center, make_ticket


def _corpus() -> list[IndexDoc]:
    docs = [IndexDoc(f"n{i}", "case", 1 + i % 3, ["解約", "電話", f"u{i}"]) for i in range(40)]
    docs += [
        IndexDoc("both", "case", 1, ["解約", "電話", "浄水器", "訪問販売"]),
        IndexDoc("water", "faq", None, ["浄水器", "点検"]),
        IndexDoc("visit", "case", 2, ["訪問販売", "解約"]),
    ]
    return docs


def test_and_first_plan_ranks_full_matches_first_and_fills_up(runtime: Runtime) -> None:
    name = runtime.engine.dialect.name
    with runtime.engine.begin() as conn:
        store_for(name).upsert(conn, _corpus())
    fast = type(store_for(name))(exact_postings=1)  # type: ignore[call-arg]
    with runtime.engine.connect() as conn:
        hits = fast.search(conn, ["浄水器", "訪問販売", "解約"], 5)
        assert hits[0].id == "both" and hits[0].matched == ("浄水器", "訪問販売")  # 解約: in most docs
        assert "water" in {h.id for h in hits}  # then the rarest term alone fills the page
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        only_faq = fast.search(conn, ["浄水器", "訪問販売"], 5, SearchFilters(kinds=("faq",)))
        assert [h.id for h in only_faq] == ["water"]
        center2 = fast.search(conn, ["訪問販売", "解約"], 5, SearchFilters(center_id=2))
        assert [h.id for h in center2][:1] == ["visit"]


def test_and_first_plan_scores_by_bm25_like_the_exact_plan(runtime: Runtime, request) -> None:  # type: ignore[no-untyped-def]
    name = runtime.engine.dialect.name
    with runtime.engine.begin() as conn:
        store_for(name).upsert(conn, _corpus())
    fast = type(store_for(name))(exact_postings=1)  # type: ignore[call-arg]
    with runtime.engine.connect() as conn:
        [fast_hit] = fast.search(conn, ["浄水器", "訪問販売"], 1)
        [exact_hit] = store_for(name).search(conn, ["浄水器", "訪問販売"], 1)
    assert fast_hit.id == exact_hit.id == "both"
    assert fast_hit.score == pytest.approx(exact_hit.score) and fast_hit.score > 1


def test_document_frequencies_follow_upserts_and_deletes(runtime: Runtime) -> None:
    store = store_for(runtime.engine.dialect.name)
    with runtime.engine.begin() as conn:
        store.upsert(conn, _corpus())
        assert store.document_frequencies(conn, ["浄水器", "解約", "nope"]) == {"浄水器": 2, "解約": 42}
        store.upsert(conn, [IndexDoc("both", "case", 1, ["点検"])])
        store.delete(conn, "water")
        assert store.document_frequencies(conn, ["浄水器", "点検"]) == {"点検": 1}
        assert store.count(conn) == 42
        store.clear(conn)
        assert conn.execute(text("SELECT count(*) FROM knowledge_search_df")).scalar_one() == 0


def test_label_feedback_reindexes_the_case(runtime: Runtime, session) -> None:  # type: ignore[no-untyped-def]
    from knowledge.categories import record_feedback

    center = make_center(session)
    ticket = make_ticket(session, center, "水のサーバーを勧められた")
    upsert_documents(
        session,
        [
            DocumentIn(
                case_doc_id(ticket.id),
                "case",
                "勧誘の相談",
                "自宅に来た業者に勧められた",
                center_id=center.id,
            )
        ],
    )
    session.commit()
    assert search(session, query="ウォーターサーバー", viewer_center_id=center.id) == []
    record_feedback(
        session,
        ticket_id=ticket.id,
        text="水のサーバーを勧められた",
        user_id=None,
        chosen={"product_category": "ウォーターサーバー"},
        suggested={"product_category": None},
    )
    session.commit()
    hits = search(session, query="ウォーターサーバー", viewer_center_id=center.id)
    assert [h.id for h in hits] == [case_doc_id(ticket.id)]
    assert hits[0].fields["product_category"] == "ウォーターサーバー"


def test_concurrent_writers_keep_frequencies_and_count_exact(runtime: Runtime) -> None:
    from concurrent.futures import ThreadPoolExecutor

    store = store_for(runtime.engine.dialect.name)

    def write(w: int) -> None:
        for i in range(5):  # shared terms in a different order per writer; one replace per writer
            terms = ["共通", "解約", f"w{w}"] if w % 2 else [f"w{w}", "解約", "共通"]
            with runtime.engine.begin() as conn:
                store.upsert(
                    conn, [IndexDoc(f"w{w}-{i}", "case", 1, terms), IndexDoc(f"w{w}-0", "case", 1, terms)]
                )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(4)))
    with runtime.engine.connect() as conn:
        assert store.count(conn) == 20
        assert store.document_frequencies(conn, ["共通", "解約", "w3"]) == {"共通": 20, "解約": 20, "w3": 5}


def test_large_index_plan_ranks_by_bm25_not_by_matching_every_term(runtime: Runtime) -> None:
    """A short document with both rare terms, several times, beats a long one that also has the
    common term: the fast plan (candidates rescored over all terms) must agree with exact BM25."""
    name = runtime.engine.dialect.name
    docs = [
        *_corpus(),
        IndexDoc("strong", "faq", None, ["浄水器", "浄水器", "訪問販売", "訪問販売"]),
        IndexDoc("long", "case", 1, ["浄水器", "訪問販売", "解約", *[f"pad{i}" for i in range(30)]]),
    ]
    with runtime.engine.begin() as conn:
        store_for(name).upsert(conn, docs)
    fast = type(store_for(name))(exact_postings=1)  # type: ignore[call-arg]
    query = ["浄水器", "訪問販売", "解約"]
    with runtime.engine.connect() as conn:
        exact = store_for(name).search(conn, query, 5)
        quick = fast.search(conn, query, 5)
    assert exact[0].id == "strong"  # it lacks 解約, yet BM25 ranks it first
    assert [h.id for h in quick][:2] == [h.id for h in exact][:2] == ["strong", "both"]
    exact_scores = {h.id: h.score for h in exact}
    assert all(h.score == pytest.approx(exact_scores[h.id]) for h in quick if h.id in exact_scores)
