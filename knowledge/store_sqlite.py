"""Search store for the embedded default: SQLite FTS5 over pre-tokenized text, ranked by bm25().

Layout (crm/migrations/versions/0002_search.py): ``knowledge_search`` holds one row per document
(doc_id, kind, center_id, the space-joined terms); ``knowledge_fts`` is an external-content FTS5
index over its ``terms`` (tokenizer 'ascii': each term stays one token); ``knowledge_fts_vocab``
gives document frequencies, used to keep the rarest query terms and skip those in over half the
documents (their BM25 idf is ~0 and they only cost time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from knowledge.index import Hit, IndexDoc, SearchFilters, choose_terms, clean_terms

_N_CACHE_SECONDS = 5.0


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted (no operator injection)."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class SqliteFtsStore:
    """FTS5 store; methods take the caller's connection (its transaction)."""

    def __init__(self) -> None:
        self._n: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None:
        """Insert or replace documents (by id) in the index."""
        if not docs:
            return
        docs = list({d.id: d for d in docs}.values())
        existing = {
            row.doc_id: (row.id, row.terms)
            for row in conn.execute(
                text("SELECT id, doc_id, terms FROM knowledge_search WHERE doc_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": [d.id for d in docs]},
            )
        }
        old = [{"id": rid, "terms": terms} for rid, terms in existing.values()]
        if old:
            conn.execute(
                text("INSERT INTO knowledge_fts(knowledge_fts, rowid, terms) VALUES('delete', :id, :terms)"),
                old,
            )
            conn.execute(
                text("DELETE FROM knowledge_search WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": [o["id"] for o in old]},
            )
        rows = [
            {
                "doc_id": d.id,
                "kind": d.kind,
                "center_id": d.center_id,
                "terms": " ".join(clean_terms(d.terms)),
            }
            for d in docs
        ]
        conn.execute(
            text(
                "INSERT INTO knowledge_search(doc_id, kind, center_id, terms) VALUES (:doc_id, :kind, :center_id, :terms)"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO knowledge_fts(rowid, terms) SELECT id, terms FROM knowledge_search WHERE doc_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": [d.id for d in docs]},
        )
        self._n = None

    def delete(self, conn: Connection, doc_id: str) -> bool:
        """Remove a document; False if it was not indexed."""
        row = conn.execute(
            text("SELECT id, terms FROM knowledge_search WHERE doc_id = :d"), {"d": doc_id}
        ).first()
        if row is None:
            return False
        conn.execute(
            text("INSERT INTO knowledge_fts(knowledge_fts, rowid, terms) VALUES('delete', :id, :terms)"),
            {"id": row.id, "terms": row.terms},
        )
        conn.execute(text("DELETE FROM knowledge_search WHERE id = :id"), {"id": row.id})
        self._n = None
        return True

    def count(self, conn: Connection) -> int:
        """Number of indexed documents (cached for a few seconds; exact after a write here)."""
        with self._lock:
            if self._n is not None and time.monotonic() - self._n[0] < _N_CACHE_SECONDS:
                return self._n[1]
        n = int(conn.execute(text("SELECT count(*) FROM knowledge_search")).scalar_one())
        with self._lock:
            self._n = (time.monotonic(), n)
        return n

    def _select_terms(self, conn: Connection, terms: Sequence[str]) -> list[str]:
        terms = list(dict.fromkeys(clean_terms(terms)))
        if not terms:
            return []
        df = dict(
            conn.execute(
                text("SELECT term, doc FROM knowledge_fts_vocab WHERE term IN :t").bindparams(
                    bindparam("t", expanding=True)
                ),
                {"t": terms},
            ).all()
        )
        return choose_terms(terms, df, self.count(conn))

    def search(
        self, conn: Connection, terms: Sequence[str], k: int, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Top ``k`` documents by BM25 over any of ``terms``, with the terms each one matched."""
        filters = filters or SearchFilters()
        chosen = self._select_terms(conn, terms)
        if not chosen or k <= 0:
            return []
        where, params = ["knowledge_fts MATCH :q"], {"q": fts_query(chosen), "k": k}
        if filters.kinds:
            where.append("s.kind IN :kinds")
            params["kinds"] = list(filters.kinds)
        if filters.center_id is not None:
            where.append("s.center_id = :center")
            params["center"] = filters.center_id
        if filters.exclude_ids:
            where.append("s.doc_id NOT IN :excl")
            params["excl"] = list(filters.exclude_ids)
        sql = text(
            "SELECT s.doc_id, s.terms, bm25(knowledge_fts) AS r FROM knowledge_fts "
            "JOIN knowledge_search s ON s.id = knowledge_fts.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY r, s.doc_id LIMIT :k"
        )
        for name in ("kinds", "excl"):
            if name in params:
                sql = sql.bindparams(bindparam(name, expanding=True))
        order = [t for t in dict.fromkeys(clean_terms(terms)) if t in set(chosen)]
        hits = []
        for row in conn.execute(sql, params):
            doc_terms = set(row.terms.split())
            matched = tuple(t for t in order if t in doc_terms)
            hits.append(Hit(row.doc_id, -float(row.r), matched))
        return hits

    def clear(self, conn: Connection) -> None:
        """Remove every document from the index."""
        conn.execute(text("DELETE FROM knowledge_search"))
        conn.execute(text("INSERT INTO knowledge_fts(knowledge_fts) VALUES('delete-all')"))
        self._n = None
