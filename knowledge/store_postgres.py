"""Search store for deployments: PostgreSQL full text over pre-tokenized terms, BM25 in SQL.

``knowledge_search.tsv`` is built from our own terms as a tsvector literal ('term':1,5 ...), never
through a text-search parser (which does not split Japanese), and a GIN index finds candidates.
Ranking is the same BM25 as SQLite FTS5 (k1=1.2, b=0.75, same idf), computed from the positions
in the tsvector (term frequency), ``doc_len`` and per-term document frequencies counted with the
GIN index, so both stores rank alike and every API process shares one index.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from knowledge.index import K1, B, Hit, IndexDoc, SearchFilters, choose_terms, clean_terms, idf

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
_STATS_CACHE_SECONDS = 5.0


def lexeme(term: str) -> str:
    """A quoted tsvector/tsquery lexeme literal."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(terms: Sequence[str]) -> str:
    """'term':1,4 'other':2 ... (positions give term frequency to the ranking)."""
    positions: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(terms, start=1):
        if t:
            positions[t].append(min(i, MAX_POSITION))
    return " ".join(f"{lexeme(t)}:{','.join(map(str, sorted(set(p))))}" for t, p in positions.items())


class PostgresStore:
    """tsvector + GIN store; methods take the caller's connection (its transaction)."""

    def __init__(self, exact_postings: int | None = None) -> None:
        self.exact_postings = exact_postings  # parity with the SQLite store; PostgreSQL is always exact
        self._stats: tuple[float, int, float] | None = None
        self._lock = threading.Lock()

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None:
        """Insert or replace documents (by id) in the index."""
        if not docs:
            return
        rows = [
            {
                "doc_id": d.id,
                "kind": d.kind,
                "center_id": d.center_id,
                "doc_len": len(terms),
                "tsv": tsvector_literal(terms),
            }
            for d in {d.id: d for d in docs}.values()
            for terms in [clean_terms(d.terms)]
        ]
        conn.execute(
            text(
                "INSERT INTO knowledge_search (doc_id, kind, center_id, doc_len, tsv) "
                "VALUES (:doc_id, :kind, :center_id, :doc_len, CAST(:tsv AS tsvector)) "
                "ON CONFLICT (doc_id) DO UPDATE SET kind = EXCLUDED.kind, center_id = EXCLUDED.center_id, "
                "doc_len = EXCLUDED.doc_len, tsv = EXCLUDED.tsv"
            ),
            rows,
        )
        self._stats = None

    def delete(self, conn: Connection, doc_id: str) -> bool:
        """Remove a document; False if it was not indexed."""
        res = conn.execute(text("DELETE FROM knowledge_search WHERE doc_id = :d"), {"d": doc_id})
        self._stats = None
        return bool(res.rowcount)

    def _collection_stats(self, conn: Connection) -> tuple[int, float]:
        with self._lock:
            if self._stats is not None and time.monotonic() - self._stats[0] < _STATS_CACHE_SECONDS:
                return self._stats[1], self._stats[2]
        n, avgdl = conn.execute(
            text("SELECT count(*), coalesce(avg(doc_len), 0) FROM knowledge_search")
        ).one()
        with self._lock:
            self._stats = (time.monotonic(), int(n), float(avgdl))
        return int(n), float(avgdl)

    def count(self, conn: Connection) -> int:
        """Number of indexed documents."""
        return self._collection_stats(conn)[0]

    def _document_frequencies(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        rows = conn.execute(
            text(
                "SELECT t.term, (SELECT count(*) FROM knowledge_search s WHERE s.tsv @@ CAST(t.q AS tsquery)) "
                "FROM unnest(CAST(:terms AS text[]), CAST(:qs AS text[])) AS t(term, q)"
            ),
            {"terms": list(terms), "qs": [lexeme(t) for t in terms]},
        ).all()
        return {term: int(df) for term, df in rows}

    def search(
        self, conn: Connection, terms: Sequence[str], k: int, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Top ``k`` documents by BM25 over any of ``terms``, with the terms each one matched."""
        filters = filters or SearchFilters()
        terms = list(dict.fromkeys(clean_terms(terms)))
        if not terms or k <= 0:
            return []
        n, avgdl = self._collection_stats(conn)
        df = self._document_frequencies(conn, terms)
        chosen = choose_terms(terms, df, n)
        if not chosen:
            return []
        where, params = (
            ["s.tsv @@ CAST(:tsq AS tsquery)"],
            {
                "tsq": " | ".join(lexeme(t) for t in chosen),
                "terms": chosen,
                "idfs": [idf(n, df[t]) for t in chosen],
                "avgdl": avgdl or 1.0,
                "k": k,
            },
        )
        if filters.kinds:
            where.append("s.kind = ANY(CAST(:kinds AS text[]))")
            params["kinds"] = list(filters.kinds)
        if filters.center_id is not None:
            where.append("s.center_id = :center")
            params["center"] = filters.center_id
        if filters.exclude_ids:
            where.append("NOT (s.doc_id = ANY(CAST(:excl AS text[])))")
            params["excl"] = list(filters.exclude_ids)
        sql = text(
            "WITH q AS (SELECT * FROM unnest(CAST(:terms AS text[]), CAST(:idfs AS float8[])) AS q(term, idf)) "
            "SELECT s.doc_id, "
            f"sum(q.idf * (cardinality(u.positions) * {K1 + 1}) / (cardinality(u.positions) + "
            f"{K1} * (1 - {B} + {B} * s.doc_len / :avgdl))) AS score, array_agg(q.term) AS matched "
            "FROM knowledge_search s CROSS JOIN LATERAL unnest(s.tsv) AS u(lexeme, positions, weights) "
            "JOIN q ON q.term = u.lexeme "
            f"WHERE {' AND '.join(where)} GROUP BY s.doc_id ORDER BY score DESC, s.doc_id LIMIT :k"
        )
        order = {t: i for i, t in enumerate(terms)}
        return [
            Hit(row.doc_id, float(row.score), tuple(sorted(row.matched, key=lambda t: order.get(t, 0))))
            for row in conn.execute(sql, params)
        ]

    def clear(self, conn: Connection) -> None:
        """Remove every document from the index."""
        conn.execute(text("DELETE FROM knowledge_search"))
        self._stats = None
