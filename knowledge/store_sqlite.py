"""Search store for the embedded default: SQLite FTS5 over pre-tokenized text, ranked by bm25().

Layout (crm/migrations/versions/0002_search.py): ``knowledge_search`` holds one row per document
(doc_id, kind, center_id, the space-joined terms, ``meta`` tokens for kind and center);
``knowledge_fts`` is an external-content FTS5 index over ``terms`` and ``meta`` (tokenizer
'ascii': each term stays one token; ``meta`` has bm25 weight 0 and serves as a MATCH filter);
``knowledge_search_df`` keeps each term's document frequency, updated on every write
(:mod:`knowledge.sqlite_writes`).

Row ids are length-ordered: ``id = (tokens in the row) << 32 | sequence``, so FTS5, which returns a
MATCH in rowid order, yields the SHORTEST documents first and can stop early (``ORDER BY rowid
LIMIT``). ``knowledge_term_max_tf`` keeps the largest count of a term in one document (terms some
document has more than once), ``knowledge_term_tf`` the (term, row) counts of 2 or more. Together
they score a row without reading its text and bound the BM25 of every row not read yet.

Query plan (profiled at 100k documents: bm25() costs ~1 µs per matching row, reading a common
term's doclist costs tens of ms, so the plan avoids both):

1. document frequencies of the query terms from ``knowledge_search_df`` (one indexed query);
   keep the rarest terms within a postings budget (:func:`knowledge.index.choose_terms`);
2. when their postings are few (``exact_postings``), one OR query ranked by bm25: exact BM25;
3. otherwise candidates from cheap steps (:func:`knowledge.index.candidate_steps`: all chosen terms
   AND-ed, all but the commonest, and an OR of the rarest terms within the exact budget), then
   every candidate rescored by bm25 over ALL chosen terms (computed from the stored terms with
   FTS5's own N, average length and idf), so a document missing one term still ranks by its BM25;
   a step whose rows have all its terms (AND, or one term) reads its matches SHORTEST FIRST and
   scores them from our own tables instead of bm25() (:mod:`knowledge.sqlite_shortest_first`). The
   same top rows as bm25() over the whole match (tests/integration/test_knowledge_shortest_first.py);
   an OR of several terms, and an index from before length-ordered ids (reindex it), use bm25();
4. only the final top ``k`` rows are joined to their stored terms (for "why it matched").
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy import bindparam, text
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
from knowledge.sqlite_fts import filter_query, fts_query, fts_totals, length_ordered, meta_filter
from knowledge.sqlite_shortest_first import (
    FIRST_WINDOW,
    has_tf_rows,
    repeat_counts,
    top_by_length,
    top_by_repeats,
    top_shortest_first,
)
from knowledge.sqlite_writes import clear_index, remove_rows, upsert_rows

_N_CACHE_SECONDS = 5.0


class SqliteFtsStore:
    """FTS5 store; methods take the caller's connection (its transaction)."""

    def __init__(
        self,
        exact_postings: int = EXACT_POSTINGS,
        *,
        first_window: int = FIRST_WINDOW,
        shortest_first: bool = True,
        repeat_lists: bool | None = None,
        tf_table: bool = True,
    ) -> None:
        self.exact_postings = exact_postings
        self.first_window = first_window
        self.shortest_first = shortest_first  # False: every step ranked by bm25() (the plan before)
        # None: per step, the cheaper of the repeat lists and windows over the match; True / False: always
        self.repeat_lists = repeat_lists
        self.tf_table = tf_table  # False: tf counted in the stored terms (the step before that)
        self._n: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None:
        """Insert or replace documents (by id) in the index."""
        upsert_rows(conn, docs)
        self._n = None

    def delete(self, conn: Connection, doc_id: str) -> bool:
        """Remove a document; False if it was not indexed."""
        row = conn.execute(
            text("SELECT id, terms, meta FROM knowledge_search WHERE doc_id = :d"), {"d": doc_id}
        ).first()
        if row is None:
            return False
        remove_rows(conn, [{"id": row.id, "terms": row.terms, "meta": row.meta}])
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

    def document_frequencies(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        """term → number of indexed documents containing it (absent terms are left out)."""
        if not terms:
            return {}
        rows = conn.execute(
            text("SELECT term, df FROM knowledge_search_df WHERE term IN :t AND df > 0").bindparams(
                bindparam("t", expanding=True)
            ),
            {"t": list(terms)},
        ).all()
        return {t: int(d) for t, d in rows}

    def _top(self, conn: Connection, match: str, limit: int) -> list[tuple[int, float]]:
        return [
            (int(r[0]), float(r[1]))
            for r in conn.execute(
                text(
                    "SELECT rowid, bm25(knowledge_fts, 1.0, 0.0) AS r FROM knowledge_fts "
                    "WHERE knowledge_fts MATCH :q ORDER BY r, rowid LIMIT :lim"
                ),
                {"q": match, "lim": limit},
            )
        ]

    def _max_tf(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        rows = conn.execute(
            text("SELECT term, max_tf FROM knowledge_term_max_tf WHERE term IN :t").bindparams(
                bindparam("t", expanding=True)
            ),
            {"t": list(terms)},
        ).all()
        return {t: int(m) for t, m in rows}

    def _rescore(
        self, conn: Connection, chosen: list[str], rowids: list[int], totals: tuple[int, float]
    ) -> list[tuple[int, float]]:
        """bm25 over ALL ``chosen`` terms for the given rows, computed here exactly as FTS5's bm25()
        does (same N, average length and idf, read from FTS5's own totals) from the stored terms:
        a MATCH bounded to these rowids would read the common terms' whole doclists."""
        n_rows, avgdl = totals
        if not rowids or not n_rows:
            return []
        rows = conn.execute(
            text("SELECT id, terms, meta FROM knowledge_search WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": rowids},
        ).all()
        df = self.document_frequencies(conn, chosen)
        weights = [(t, idf(n_rows, df[t]) * (K1 + 1)) for t in chosen if t in df]  # FTS5's phrase order
        out = []
        for rid, terms, meta in rows:  # the hot loop of a large step: list.count, no Counter
            doc = terms.split()
            norm = K1 * (1 - B + B * (len(doc) + meta.count(" ") + 1) / avgdl)
            score = 0.0
            for t, w in weights:
                c = doc.count(t)
                if c:
                    score += w * c / (c + norm)
            out.append((int(rid), -score))
        return out

    def _ranked_rows(
        self, conn: Connection, chosen: list[str], df: dict[str, int], limit: int, filters: SearchFilters
    ) -> list[tuple[int, float]]:
        totals = fts_totals(conn)
        top = self._step_ranker(conn, chosen, df, totals, filters)
        if is_exact(chosen, df, self.exact_postings):
            return top(chosen, "OR", limit)
        depth = candidate_depth(limit)
        candidates: set[int] = set()
        for terms, all_required in candidate_steps(chosen, df, self.exact_postings):
            candidates.update(rid for rid, _ in top(terms, "AND" if all_required else "OR", depth))
        ranked = sorted(
            self._rescore(conn, chosen, sorted(candidates), totals), key=lambda kv: (kv[1], kv[0])
        )
        return ranked[:limit]

    def _step_ranker(
        self,
        conn: Connection,
        chosen: list[str],
        df: dict[str, int],
        totals: tuple[int, float],
        filters: SearchFilters,
    ) -> Callable[[list[str], str, int], list[tuple[int, float]]]:
        """``(terms, op, limit) -> top rows by bm25`` under ``filters``. Shortest first for a step
        that requires all its terms (AND, or one term) when the index has length-ordered ids: there
        the bound is tight (every row has every term); with the (term, row) counts, only the rows
        where a term repeats are read past the first ``limit``. An OR of several terms, or an index
        from before length-ordered ids, is ranked by bm25() over the whole match."""
        n_rows, avgdl = totals
        plain = self._top
        flt = filter_query(filters)
        if not (self.shortest_first and n_rows and length_ordered(conn)):
            return lambda terms, op, limit: plain(conn, fts_query(terms, op) + flt, limit)
        max_tf = self._max_tf(conn, chosen)
        tf_rows = self.tf_table and has_tf_rows(conn)
        repeats = repeat_counts(conn, chosen) if tf_rows else {}
        meta = meta_filter(filters)
        bounds = {t: (max_tf.get(t, 1), idf(n_rows, df[t]) * (K1 + 1) * max_tf.get(t, 1)) for t in chosen}

        def top(terms: list[str], op: str, limit: int) -> list[tuple[int, float]]:
            match = fts_query(terms, op) + flt
            if op == "OR" and len(terms) > 1:
                return plain(conn, match, limit)
            if all(bounds[t][0] == 1 for t in terms):
                return top_by_length(conn, match, sum(bounds[t][1] for t in terms), avgdl, limit)
            step = {t: bounds[t] for t in terms}
            # the rows where a term repeats, against the rows of the match (independent terms)
            match_rows = n_rows * math.prod(df[t] / n_rows for t in terms)
            few = sum(repeats.get(t, 0) for t in terms) < match_rows
            if tf_rows and (self.repeat_lists or (self.repeat_lists is None and few)):
                return top_by_repeats(conn, match, step, avgdl, limit, meta, first_window=self.first_window)
            return top_shortest_first(
                conn, match, step, avgdl, limit, first_window=self.first_window, tf_rows=tf_rows
            )

        return top

    def search(
        self, conn: Connection, terms: Sequence[str], k: int, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Top ``k`` documents by BM25 over ``terms`` (see the module docstring for the plan)."""
        filters = filters or SearchFilters()
        terms = list(dict.fromkeys(clean_terms(terms)))
        if not terms or k <= 0:
            return []
        df = self.document_frequencies(conn, terms)
        chosen = choose_terms(terms, df, self.count(conn))
        if not chosen:
            return []
        excluded = set(filters.exclude_ids)
        rows = self._ranked_rows(conn, chosen, df, k + len(excluded), filters)
        if not rows:
            return []
        stored = {
            r.id: (r.doc_id, r.terms)
            for r in conn.execute(
                text("SELECT id, doc_id, terms FROM knowledge_search WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": [rid for rid, _ in rows]},
            )
        }
        wanted = set(chosen)
        order = [t for t in terms if t in wanted]
        hits = []
        for rid, r in rows:
            if rid not in stored or stored[rid][0] in excluded:
                continue
            doc_terms = set(stored[rid][1].split())
            hits.append(Hit(stored[rid][0], -r, tuple(t for t in order if t in doc_terms)))
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]

    def clear(self, conn: Connection) -> None:
        """Remove every document from the index."""
        clear_index(conn)
        self._n = None
