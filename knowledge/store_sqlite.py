"""Search store for the embedded default: SQLite FTS5 over pre-tokenized text, ranked by bm25().

Layout (crm/migrations/versions/0002_search.py): ``knowledge_search`` holds one row per document
(doc_id, kind, center_id, the space-joined terms, ``meta`` tokens for kind and center);
``knowledge_fts`` is an external-content FTS5 index over ``terms`` and ``meta`` (tokenizer
'ascii': each term stays one token; ``meta`` has bm25 weight 0 and serves as a MATCH filter);
``knowledge_search_df`` keeps each term's document frequency, updated on every write.

Query plan (profiled at 100k documents: bm25() costs ~1 µs per matching row, reading a common
term's doclist costs tens of ms, so the plan avoids both):

1. document frequencies of the query terms from ``knowledge_search_df`` (one indexed query);
   keep the rarest terms within a postings budget (:func:`knowledge.index.choose_terms`);
2. when their postings are few (``exact_postings``), one OR query ranked by bm25: exact BM25;
3. otherwise candidates from cheap steps (:func:`knowledge.index.candidate_steps`: all chosen terms
   AND-ed, all but the commonest, and an OR of the rarest terms within the exact budget), then
   every candidate rescored by bm25 over ALL chosen terms (computed from the stored terms with
   FTS5's own N, average length and idf), so a document missing one term still ranks by its BM25;
4. only the final top ``k`` rows are joined to their stored terms (for "why it matched").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence

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

_N_CACHE_SECONDS = 5.0


def _varints(data: bytes) -> list[int]:
    """SQLite varints (FTS5's 'averages' record: row count, then each column's token total)."""
    out, i = [], 0
    while i < len(data):
        value = 0
        for j in range(9):
            byte = data[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(terms: Sequence[str], op: str = "OR") -> str:
    """An FTS5 MATCH expression over the ``terms`` column, each term quoted (no operator injection)."""
    return "terms : (" + f" {op} ".join(_phrase(t) for t in terms) + ")"


def meta_tokens(kind: str, center_id: int | None) -> str:
    """The ``meta`` column of a document: tokens for its kind and center (alphanumeric only)."""
    kind_token = "".join(c for c in kind.lower() if c.isascii() and c.isalnum())
    return f"k{kind_token} c{center_id if center_id is not None else 'none'}"


def _filter_query(filters: SearchFilters) -> str:
    parts = []
    if filters.kinds:
        parts.append(
            "meta : (" + " OR ".join(_phrase(meta_tokens(k, None).split()[0]) for k in filters.kinds) + ")"
        )
    if filters.center_id is not None:
        parts.append(f'meta : "c{int(filters.center_id)}"')
    return "".join(f" AND {p}" for p in parts)


class SqliteFtsStore:
    """FTS5 store; methods take the caller's connection (its transaction)."""

    def __init__(self, exact_postings: int = EXACT_POSTINGS) -> None:
        self.exact_postings = exact_postings
        self._n: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def _bump_df(self, conn: Connection, term_lists: Sequence[Sequence[str]], sign: int) -> None:
        counts: Counter[str] = Counter()
        for terms in term_lists:
            counts.update(set(terms))
        if counts:
            conn.execute(
                text(
                    "INSERT INTO knowledge_search_df(term, df) VALUES (:t, :d) "
                    "ON CONFLICT(term) DO UPDATE SET df = df + excluded.df"
                ),
                [{"t": t, "d": sign * c} for t, c in counts.items()],
            )

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None:
        """Insert or replace documents (by id) in the index."""
        if not docs:
            return
        docs = list({d.id: d for d in docs}.values())
        ids = [d.id for d in docs]
        old = [
            {"id": row.id, "terms": row.terms, "meta": row.meta}
            for row in conn.execute(
                text("SELECT id, terms, meta FROM knowledge_search WHERE doc_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            )
        ]
        if old:
            self._remove(conn, old)
        rows = [
            {
                "doc_id": d.id,
                "kind": d.kind,
                "center_id": d.center_id,
                "terms": " ".join(clean_terms(d.terms)),
                "meta": meta_tokens(d.kind, d.center_id),
            }
            for d in docs
        ]
        conn.execute(
            text(
                "INSERT INTO knowledge_search(doc_id, kind, center_id, terms, meta) "
                "VALUES (:doc_id, :kind, :center_id, :terms, :meta)"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO knowledge_fts(rowid, terms, meta) "
                "SELECT id, terms, meta FROM knowledge_search WHERE doc_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        )
        self._bump_df(conn, [r["terms"].split() for r in rows], +1)
        self._n = None

    def _remove(self, conn: Connection, old: list[dict]) -> None:  # type: ignore[type-arg]
        conn.execute(
            text(
                "INSERT INTO knowledge_fts(knowledge_fts, rowid, terms, meta) "
                "VALUES('delete', :id, :terms, :meta)"
            ),
            old,
        )
        conn.execute(
            text("DELETE FROM knowledge_search WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": [o["id"] for o in old]},
        )
        self._bump_df(conn, [o["terms"].split() for o in old], -1)

    def delete(self, conn: Connection, doc_id: str) -> bool:
        """Remove a document; False if it was not indexed."""
        row = conn.execute(
            text("SELECT id, terms, meta FROM knowledge_search WHERE doc_id = :d"), {"d": doc_id}
        ).first()
        if row is None:
            return False
        self._remove(conn, [{"id": row.id, "terms": row.terms, "meta": row.meta}])
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

    def _rescore(
        self, conn: Connection, chosen: list[str], rowids: list[int], flt: str
    ) -> list[tuple[int, float]]:
        """bm25 over ALL ``chosen`` terms for the given rows, computed here exactly as FTS5's bm25()
        does (same N, average length and idf, read from FTS5's own totals) from the stored terms:
        a MATCH bounded to these rowids would read the common terms' whole doclists."""
        if not rowids:
            return []
        block = conn.execute(text("SELECT block FROM knowledge_fts_data WHERE id = 1")).scalar()
        n_rows, *col_totals = _varints(bytes(block or b""))
        if not n_rows:
            return []
        avgdl = sum(col_totals) / n_rows
        rows = conn.execute(
            text("SELECT id, terms, meta FROM knowledge_search WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": rowids},
        ).all()
        df = self.document_frequencies(conn, chosen)
        idfs = {t: idf(n_rows, d) for t, d in df.items()}
        out = []
        for r in rows:
            doc = r.terms.split()
            tf = Counter(t for t in doc if t in idfs)
            norm = K1 * (1 - B + B * (len(doc) + len(r.meta.split())) / avgdl)
            score = sum(idfs[t] * c * (K1 + 1) / (c + norm) for t, c in tf.items())
            out.append((int(r.id), -score))
        return out

    def _ranked_rows(
        self, conn: Connection, chosen: list[str], df: dict[str, int], limit: int, flt: str
    ) -> list[tuple[int, float]]:
        if is_exact(chosen, df, self.exact_postings):
            return self._top(conn, fts_query(chosen) + flt, limit)
        depth = candidate_depth(limit)
        steps = candidate_steps(chosen, df, self.exact_postings)
        candidates: set[int] = set()
        for terms, all_required in steps:
            rows = self._top(conn, fts_query(terms, "AND" if all_required else "OR") + flt, depth)
            candidates.update(rid for rid, _ in rows)
        ranked = sorted(self._rescore(conn, chosen, sorted(candidates), flt), key=lambda kv: (kv[1], kv[0]))
        return ranked[:limit]

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
        rows = self._ranked_rows(conn, chosen, df, k + len(excluded), _filter_query(filters))
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
        conn.execute(text("DELETE FROM knowledge_search"))
        conn.execute(text("INSERT INTO knowledge_fts(knowledge_fts) VALUES('delete-all')"))
        conn.execute(text("DELETE FROM knowledge_search_df"))
        self._n = None
