"""The large-index plan reads matches shortest first (SQLite: length-ordered row ids, windows, a
bound from each term's max tf) and must return what bm25() over every matching row returns.
Both stores run these tests (backend from the env); PostgreSQL has no windows, so there they check
that its plan gives the same answers."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from config.runtime import Runtime
from knowledge.index import IndexDoc, SearchFilters, store_for
from knowledge.store_sqlite import SqliteFtsStore


def _stores(runtime: Runtime):  # type: ignore[no-untyped-def]
    """(fast, reference): the fast one with tiny windows and no exact shortcut; the reference
    ranks every matching row by bm25 (same candidate steps)."""
    name = runtime.engine.dialect.name
    cls = type(store_for(name))
    if name == "sqlite":
        return SqliteFtsStore(exact_postings=1, first_window=4), SqliteFtsStore(
            exact_postings=1, shortest_first=False
        )
    return cls(exact_postings=1), cls(exact_postings=1)  # type: ignore[call-arg]


def _index(runtime: Runtime, docs: list[IndexDoc]) -> None:
    with runtime.engine.begin() as conn:
        store_for(runtime.engine.dialect.name).upsert(conn, docs)


def test_a_long_document_repeating_the_term_still_ranks_first(runtime: Runtime) -> None:
    """Shortest first must not mean 'short wins': the long FAQ that says 浄水器 six times has the
    best BM25, though forty shorter documents are read before it."""
    short = [
        IndexDoc(f"s{i}", "case", 1, ["浄水器", "点検", *[f"u{i}.{j}" for j in range(i % 8)]])
        for i in range(40)
    ]
    long = IndexDoc("long", "faq", None, ["浄水器"] * 6 + [f"pad{i}" for i in range(14)])
    _index(runtime, [*short, long, *[IndexDoc(f"o{i}", "case", 2, ["雑談", f"v{i}"]) for i in range(60)]])
    fast, reference = _stores(runtime)
    with runtime.engine.connect() as conn:
        quick = fast.search(conn, ["浄水器"], 5)
        full = reference.search(conn, ["浄水器"], 5)
        both = fast.search(conn, ["浄水器", "点検"], 5)
        both_full = reference.search(conn, ["浄水器", "点検"], 5)
    assert quick[0].id == full[0].id == "long"
    assert [(h.id, round(h.score, 9)) for h in quick] == [(h.id, round(h.score, 9)) for h in full]
    assert both[0].id == both_full[0].id != "long"  # 点検 lifts the short ones above it


def test_shortest_first_agrees_with_bm25_over_every_row(runtime: Runtime) -> None:
    """A varied corpus (lengths 2–40, counts up to 4, three kinds, several centers): every query,
    filtered or not, gets the same hits and scores as ranking every matching row."""
    rng = random.Random(3)
    vocab = [f"w{i}" for i in range(40)]
    docs = []
    for i in range(300):
        terms = [vocab[min(39, int(rng.paretovariate(0.8)) - 1)] for _ in range(rng.randint(2, 40))]
        terms += [rng.choice(vocab[:6])] * rng.randint(0, 3)
        docs.append(IndexDoc(f"d{i}", rng.choice(["case", "faq", "law"]), rng.randint(1, 4), terms))
    _index(runtime, docs)
    fast, reference = _stores(runtime)
    # SQLite: each step scorer on its own (the default picks the cheaper per step)
    forced = [SqliteFtsStore(exact_postings=1, first_window=4, repeat_lists=r) for r in (True, False)]
    queries = [[rng.choice(vocab[:12]) for _ in range(rng.randint(1, 4))] for _ in range(40)]
    filters = (None, SearchFilters(kinds=("faq",)), SearchFilters(kinds=("faq", "law"), center_id=2))
    with runtime.engine.connect() as conn:
        for q in queries:
            for flt in (*filters, SearchFilters(center_id=2)):
                got = [(h.id, round(h.score, 9)) for h in fast.search(conn, q, 10, flt)]
                want = [(h.id, round(h.score, 9)) for h in reference.search(conn, q, 10, flt)]
                assert got == want, (q, flt)
                if runtime.engine.dialect.name == "sqlite":
                    for store in forced:
                        assert [(h.id, round(h.score, 9)) for h in store.search(conn, q, 10, flt)] == want


def test_replaced_and_deleted_documents_leave_no_stale_rows(runtime: Runtime) -> None:
    """Re-indexing a document under a new length moves it; deleting it removes it from every step."""
    _index(runtime, [IndexDoc(f"n{i}", "case", 1, ["解約", f"x{i}"]) for i in range(20)])
    fast, _ = _stores(runtime)
    with runtime.engine.begin() as conn:
        store = store_for(runtime.engine.dialect.name)
        store.upsert(conn, [IndexDoc("n3", "case", 1, ["解約", "解約", "解約"])])
        assert fast.search(conn, ["解約"], 1)[0].id == "n3"
        store.upsert(conn, [IndexDoc("n3", "case", 1, ["電話", *[f"p{i}" for i in range(30)]])])
        assert "n3" not in {h.id for h in fast.search(conn, ["解約"], 30)}
        assert store.delete(conn, "n5") is True
        hits = fast.search(conn, ["解約"], 30)
    assert len(hits) == 18 and "n5" not in {h.id for h in hits}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].score == pytest.approx(hits[-1].score)  # the same two-term documents remain


def test_a_reused_row_id_does_not_keep_the_deleted_rows_term_count(runtime: Runtime) -> None:
    """Row ids are reused after a delete (the next free one per length): the new document there must
    score with its own count, not the deleted one's (SQLite keeps counts of 2 or more per row)."""
    _index(runtime, [IndexDoc(f"f{i}", "case", 1, ["返金", f"y{i}", f"z{i}"]) for i in range(12)])
    _index(runtime, [IndexDoc("old", "case", 1, ["返金", "返金", "返金"])])
    fast, reference = _stores(runtime)
    with runtime.engine.begin() as conn:
        store = store_for(runtime.engine.dialect.name)
        assert store.delete(conn, "old") is True
        store.upsert(conn, [IndexDoc("new", "case", 1, ["返金", "q1", "q2"])])
        got = [(h.id, round(h.score, 9)) for h in fast.search(conn, ["返金"], 5)]
        want = [(h.id, round(h.score, 9)) for h in reference.search(conn, ["返金"], 5)]
    assert got == want
    assert len({score for _, score in got}) == 1  # "new" is one more three-term document


def test_an_index_from_before_the_term_counts_still_ranks_exactly(runtime: Runtime) -> None:
    """SQLite: an index without the (term, row) counts (built before them; no marker row) counts tf
    from the stored terms until it is reindexed, with the same results."""
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("the term-count table is the SQLite store's")
    rng = random.Random(8)
    docs = [
        IndexDoc(
            f"d{i}", "case", 1, [rng.choice(["w1", "w2", "w3", f"u{i}"]) for _ in range(rng.randint(2, 20))]
        )
        for i in range(200)
    ]
    _index(runtime, docs)
    fast, reference = _stores(runtime)
    queries = [["w1"], ["w1", "w2"], ["w2", "w3"], ["w1", "w2", "w3"]]
    with runtime.engine.begin() as conn:
        with_counts = [[(h.id, round(h.score, 9)) for h in fast.search(conn, q, 10)] for q in queries]
        conn.execute(text("DELETE FROM knowledge_term_tf"))
        legacy = [[(h.id, round(h.score, 9)) for h in fast.search(conn, q, 10)] for q in queries]
        want = [[(h.id, round(h.score, 9)) for h in reference.search(conn, q, 10)] for q in queries]
    assert with_counts == legacy == want
    assert any(len({s for _, s in hits}) > 1 for hits in want)  # repeated terms change the order
