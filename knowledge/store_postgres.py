"""Search store for deployments: PostgreSQL full text over pre-tokenized terms, BM25 in SQL.

Layout (crm/migrations/versions/0002_search.py):

- ``knowledge_search``: one row per document; ``tsv`` is built from our own terms as a tsvector
  literal ('term':1,5 ...), never through a text-search parser (which does not split Japanese),
  with a GIN index; ``doc_len`` (number of terms) and ``tf_multi`` (jsonb ``{term: tf}`` for the
  terms a document has more than once; every other term it contains has tf 1), so BM25 reads term
  frequencies without unnesting the tsvector.
- ``knowledge_search_df``: each term's document frequency; ``knowledge_search_stats``: one row with
  the document count and total length. Both are updated in the writer's transaction (rows locked in
  term order, so concurrent writers queue instead of deadlocking).

Query plan: the same as the SQLite store (knowledge/store_sqlite.py), profiled at 100k documents:
counting postings per query through the GIN index cost ~12 ms per term and scoring every OR
candidate ~12 µs per row (unnest of the tsvector), 0.7–2 s per query. Now: document frequencies
from the table (an index lookup); the rarest terms within the postings budget; when their postings
are few, one OR query (exact BM25); otherwise candidates from cheap GIN-driven steps (all chosen terms AND-ed, all but the commonest,
the rarest terms OR-ed within the budget), every candidate then rescored in SQL by BM25 over ALL
chosen terms, as the SQLite store does.

Ranking equals FTS5's bm25() (k1=1.2, b=0.75, same idf): FTS5 also counts the two tokens of the
SQLite store's ``meta`` column (kind, center) in a document's length, so they are added here too.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection

from knowledge.index import (
    EXACT_POSTINGS,
    K1,
    B,
    Hit,
    IndexDoc,
    SearchFilters,
    candidate_depth,
    candidate_steps,
    choose_terms,
    clean_terms,
    idf,
    is_exact,
)

MAX_POSITION = 16383  # PostgreSQL's largest tsvector position
META_TOKENS = 2  # FTS5 counts the SQLite store's meta tokens (kind, center) in the document length

# idf per chosen term, average document length, the filters' SQL and their parameters
_Context = tuple[dict[str, float], float, str, dict[str, object]]
_Row = tuple[str, float, list[str]]  # doc_id, BM25, the document's terms


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


def _score_sql(n_terms: int) -> str:
    """BM25 over the bound terms ``t0..``: tf from ``tf_multi`` (1 when absent), 0 if not contained."""
    norm = f"({K1} * (1 - {B} + {B} * (s.doc_len + {META_TOKENS}) / CAST(:avgdl AS float8)))"
    parts = []
    for i in range(n_terms):
        tf = (
            f"(CASE WHEN s.tsv @@ CAST(:q{i} AS tsquery) "
            f"THEN coalesce(CAST(s.tf_multi ->> CAST(:t{i} AS text) AS float8), 1) ELSE 0 END)"
        )
        parts.append(f"CAST(:idf{i} AS float8) * {tf} * {K1 + 1} / ({tf} + {norm})")
    return " + ".join(parts)


class PostgresStore:
    """tsvector + GIN store; methods take the caller's connection (its transaction)."""

    def __init__(self, exact_postings: int = EXACT_POSTINGS) -> None:
        self.exact_postings = exact_postings

    # -- writing -------------------------------------------------------------------------------

    def _bump(self, conn: Connection, df: Counter[str], docs: int, length: int) -> None:
        deltas = sorted((t, d) for t, d in df.items() if d)
        if deltas:
            conn.execute(
                text(
                    "INSERT INTO knowledge_search_df AS x (term, df) "
                    "SELECT * FROM unnest(CAST(:t AS text[]), CAST(:d AS int[])) ORDER BY 1 "
                    "ON CONFLICT (term) DO UPDATE SET df = x.df + EXCLUDED.df"
                ),
                {"t": [t for t, _ in deltas], "d": [d for _, d in deltas]},
            )
        if docs or length:
            conn.execute(
                text(
                    "INSERT INTO knowledge_search_stats AS x (id, n_docs, total_len) VALUES (1, :n, :l) "
                    "ON CONFLICT (id) DO UPDATE SET n_docs = x.n_docs + EXCLUDED.n_docs, "
                    "total_len = x.total_len + EXCLUDED.total_len"
                ),
                {"n": docs, "l": length},
            )

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None:
        """Insert or replace documents (by id) in the index."""
        if not docs:
            return
        unique = sorted({d.id: d for d in docs}.values(), key=lambda d: d.id)  # lock order
        rows, df, length = [], Counter[str](), 0
        for d in unique:
            terms = clean_terms(d.terms)
            tf = Counter(terms)
            rows.append(
                {
                    "doc_id": d.id,
                    "kind": d.kind,
                    "center_id": d.center_id,
                    "doc_len": len(terms),
                    "tsv": tsvector_literal(terms),
                    "tf": json.dumps({t: c for t, c in tf.items() if c > 1}, ensure_ascii=False),
                }
            )
            df.update(tf.keys())
            length += len(terms)
        old = conn.execute(
            text(
                "SELECT doc_len, tsvector_to_array(tsv) AS terms FROM knowledge_search "
                "WHERE doc_id = ANY(CAST(:ids AS text[])) ORDER BY doc_id FOR UPDATE"
            ),
            {"ids": [d.id for d in unique]},
        ).all()
        for row in old:
            df.subtract(row.terms)
            length -= row.doc_len
        conn.execute(
            text(
                "INSERT INTO knowledge_search (doc_id, kind, center_id, doc_len, tsv, tf_multi) "
                "VALUES (:doc_id, :kind, :center_id, :doc_len, CAST(:tsv AS tsvector), CAST(:tf AS jsonb)) "
                "ON CONFLICT (doc_id) DO UPDATE SET kind = EXCLUDED.kind, center_id = EXCLUDED.center_id, "
                "doc_len = EXCLUDED.doc_len, tsv = EXCLUDED.tsv, tf_multi = EXCLUDED.tf_multi"
            ),
            rows,
        )
        self._bump(conn, df, len(unique) - len(old), length)

    def delete(self, conn: Connection, doc_id: str) -> bool:
        """Remove a document; False if it was not indexed."""
        row = conn.execute(
            text(
                "DELETE FROM knowledge_search WHERE doc_id = :d "
                "RETURNING doc_len, tsvector_to_array(tsv) AS terms"
            ),
            {"d": doc_id},
        ).first()
        if row is None:
            return False
        self._bump(conn, Counter(dict.fromkeys(row.terms, -1)), -1, -row.doc_len)
        return True

    def clear(self, conn: Connection) -> None:
        """Remove every document from the index."""
        conn.execute(text("DELETE FROM knowledge_search"))
        conn.execute(text("DELETE FROM knowledge_search_df"))
        conn.execute(text("DELETE FROM knowledge_search_stats"))

    # -- reading -------------------------------------------------------------------------------

    def _stats(self, conn: Connection) -> tuple[int, float]:
        row = conn.execute(text("SELECT n_docs, total_len FROM knowledge_search_stats WHERE id = 1")).first()
        if row is None or not row.n_docs:
            return 0, 0.0
        return int(row.n_docs), float(row.total_len) / int(row.n_docs)

    def count(self, conn: Connection) -> int:
        """Number of indexed documents (kept on write: exact, one row read)."""
        return self._stats(conn)[0]

    def document_frequencies(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        """term → number of indexed documents containing it (absent terms are left out)."""
        if not terms:
            return {}
        rows = conn.execute(
            text("SELECT term, df FROM knowledge_search_df WHERE term = ANY(CAST(:t AS text[])) AND df > 0"),
            {"t": list(terms)},
        ).all()
        return {t: int(d) for t, d in rows}

    def _top(
        self,
        conn: Connection,
        terms: list[str],
        op: str,
        limit: int,
        ctx: _Context,
        only: Sequence[str] = (),
    ) -> list[_Row]:
        """Top ``limit`` (doc_id, bm25 over ``terms``, its terms) of documents matching ``terms``
        (among the ``only`` documents when given)."""
        idfs, avgdl, where, fparams = ctx
        if only:
            where += " AND s.doc_id = ANY(CAST(:only AS text[]))"
            fparams = {**fparams, "only": list(only)}
        params: dict[str, object] = {
            "tsq": f" {op} ".join(lexeme(t) for t in terms),
            "avgdl": avgdl or 1.0,
            "lim": limit,
            **fparams,
        }
        for i, t in enumerate(terms):
            params.update({f"t{i}": t, f"q{i}": lexeme(t), f"idf{i}": idfs[t]})
        sql = text(
            "SELECT doc_id, score, tsvector_to_array(tsv) AS terms FROM ("
            f"SELECT s.doc_id, s.tsv, {_score_sql(len(terms))} AS score FROM knowledge_search s "
            f"WHERE s.tsv @@ CAST(:tsq AS tsquery){where} ORDER BY score DESC, s.doc_id LIMIT :lim"
            ") top ORDER BY score DESC, doc_id"
        )
        return [(r.doc_id, float(r.score), r.terms) for r in conn.execute(sql, params)]

    def _ranked_rows(
        self, conn: Connection, chosen: list[str], df: dict[str, int], limit: int, ctx: _Context
    ) -> list[_Row]:
        """Mirror of SqliteFtsStore._ranked_rows (exact OR, else candidates rescored over all terms)."""
        if is_exact(chosen, df, self.exact_postings):
            return self._top(conn, chosen, "|", limit, ctx)
        depth = candidate_depth(limit)
        steps = candidate_steps(chosen, df, self.exact_postings)
        candidates: set[str] = set()
        for terms, all_required in steps:
            rows = self._top(conn, terms, "&" if all_required else "|", depth, ctx)
            candidates.update(d for d, _, _ in rows)
        ranked = self._top(conn, chosen, "|", len(candidates), ctx, only=sorted(candidates))
        ranked.sort(key=lambda r: (-r[1], r[0]))
        return ranked[:limit]

    def search(
        self, conn: Connection, terms: Sequence[str], k: int, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Top ``k`` documents by BM25 over ``terms`` (the SQLite store's plan, see module docstring)."""
        filters = filters or SearchFilters()
        terms = list(dict.fromkeys(clean_terms(terms)))
        if not terms or k <= 0:
            return []
        n, avgdl = self._stats(conn)
        df = self.document_frequencies(conn, terms)
        chosen = choose_terms(terms, df, n)
        if not chosen:
            return []
        where, fparams = "", dict[str, object]()
        if filters.kinds:
            where += " AND s.kind = ANY(CAST(:kinds AS text[]))"
            fparams["kinds"] = list(filters.kinds)
        if filters.center_id is not None:
            where += " AND s.center_id = :center"
            fparams["center"] = filters.center_id
        excluded = set(filters.exclude_ids)
        idfs = {t: idf(n, df[t]) for t in chosen}
        ctx = (idfs, avgdl + META_TOKENS, where, fparams)
        rows = self._ranked_rows(conn, chosen, df, k + len(excluded), ctx)
        wanted = set(chosen)
        order = [t for t in terms if t in wanted]
        hits = []
        for doc_id, score, doc_terms in rows:
            if doc_id in excluded:
                continue
            present = set(doc_terms)
            hits.append(Hit(doc_id, score, tuple(t for t in order if t in present)))
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]
