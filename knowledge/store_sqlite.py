"""Search store for the embedded default: SQLite FTS5 over pre-tokenized text, ranked by bm25().

Layout (crm/migrations/versions/0002_search.py): ``knowledge_search`` holds one row per document
(doc_id, kind, center_id, the space-joined terms, ``meta`` tokens for kind and center);
``knowledge_fts`` is an external-content FTS5 index over ``terms`` and ``meta`` (tokenizer
'ascii': each term stays one token; ``meta`` has bm25 weight 0 and serves as a MATCH filter);
``knowledge_search_df`` keeps each term's document frequency, updated on every write.

Row ids are length-ordered: ``id = (tokens in the row) << 32 | sequence``, so FTS5, which returns a
MATCH in rowid order, yields the SHORTEST documents first and can stop early (``ORDER BY rowid
LIMIT``). ``knowledge_term_max_tf`` keeps the largest count of a term in one document (terms some
document has more than once). Together they bound the BM25 of every row not read yet.

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
   scores them from our own tables instead of bm25() (20–150 µs a row on an AND of common terms):
   idf from ``knowledge_search_df``, the length from the row id, tf 1 when the term's max tf is 1
   (then the first k rows are the top k: one ``LIMIT k`` read), else counted in SQL from the stored
   terms in growing windows until the k-th best reaches the bound on every unread row
   (Σ idf · (k1+1) · m / (m + norm(length of the last row read)), m = the term's max tf). The same
   top rows as bm25() over the whole match (tests/integration/test_knowledge_shortest_first.py);
   an OR of several terms, and an index from before length-ordered ids (reindex it), use bm25();
4. only the final top ``k`` rows are joined to their stored terms (for "why it matched").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import TextClause

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
LENGTH_SHIFT = 32  # row id = tokens << 32 | sequence (a sequence per length: 4 billion rows each)
FIRST_WINDOW = 512  # rows read by the first window of a large step (then doubled)
_BOUND_SLACK = 1e-9  # float safety margin on the unread-row bound


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


def _window_sql(bounds: dict[str, tuple[int, float]], avgdl: float) -> tuple[TextClause, dict[str, object]]:
    """One window of a shortest-first step, scored in SQL: BM25 over the step's terms, every row
    having each of them (AND / one term). tf is 1 for a term no document has twice (max tf 1),
    else counted in the stored terms (separators doubled, so adjacent repeats count)."""
    norm = f"({K1} * (1 - {B} + {B} * (f.rowid >> {LENGTH_SHIFT}) / :avgdl))"
    params: dict[str, object] = {"avgdl": avgdl}
    parts = []
    for i, (t, (m, bound)) in enumerate(bounds.items()):
        params[f"w{i}"] = bound / m  # idf · (k1 + 1)
        if m == 1:
            parts.append(f":w{i} / (1.0 + {norm})")
            continue
        params[f"p{i}"], params[f"n{i}"] = f" {t} ", len(t) + 2
        tf = f"((length(s.x) - length(replace(s.x, :p{i}, ''))) / :n{i})"
        parts.append(f":w{i} * {tf} / ({tf} + {norm})")
    sql = text(
        f"SELECT f.rowid, {' + '.join(parts)} FROM knowledge_fts f "
        "JOIN (SELECT id, ' ' || replace(terms, ' ', '  ') || ' ' AS x FROM knowledge_search) s "
        "ON s.id = f.rowid WHERE knowledge_fts MATCH :q AND f.rowid >= :after ORDER BY f.rowid LIMIT :w"
    )
    return sql, params


class SqliteFtsStore:
    """FTS5 store; methods take the caller's connection (its transaction)."""

    def __init__(
        self,
        exact_postings: int = EXACT_POSTINGS,
        *,
        first_window: int = FIRST_WINDOW,
        shortest_first: bool = True,
    ) -> None:
        self.exact_postings = exact_postings
        self.first_window = first_window
        self.shortest_first = shortest_first  # False: every step ranked by bm25() (the plan before)
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
        term_lists = [clean_terms(d.terms) for d in docs]
        rows = [
            {
                "doc_id": d.id,
                "kind": d.kind,
                "center_id": d.center_id,
                "terms": " ".join(terms),
                "meta": meta_tokens(d.kind, d.center_id),
            }
            for d, terms in zip(docs, term_lists, strict=True)
        ]
        lengths = [len(t) + len(r["meta"].split()) for t, r in zip(term_lists, rows, strict=True)]
        new_ids = self._new_ids(conn, lengths)
        for row, rid in zip(rows, new_ids, strict=True):
            row["id"] = rid
        rows.sort(key=lambda r: r["id"])  # FTS5 flushes its pending segment whenever a rowid goes down
        conn.execute(
            text(
                "INSERT INTO knowledge_search(id, doc_id, kind, center_id, terms, meta) "
                "VALUES (:id, :doc_id, :kind, :center_id, :terms, :meta)"
            ),
            rows,
        )
        conn.execute(text("INSERT INTO knowledge_fts(rowid, terms, meta) VALUES (:id, :terms, :meta)"), rows)
        self._bump_df(conn, term_lists, +1)
        self._bump_max_tf(conn, term_lists)
        self._n = None

    def _new_ids(self, conn: Connection, lengths: Sequence[int]) -> list[int]:
        """Length-ordered row ids (see the module docstring): the next free sequence per length.
        SQLite has one writer at a time, so max + 1 inside the transaction is unique."""
        nxt: dict[int, int] = {}
        for length in sorted(set(lengths)):
            lo = length << LENGTH_SHIFT
            top = conn.execute(
                text("SELECT max(id) FROM knowledge_search WHERE id >= :lo AND id < :hi"),
                {"lo": lo, "hi": (length + 1) << LENGTH_SHIFT},
            ).scalar()
            nxt[length] = lo if top is None else int(top) + 1
        out = []
        for length in lengths:
            out.append(nxt[length])
            nxt[length] += 1
        return out

    def _bump_max_tf(self, conn: Connection, term_lists: Sequence[Sequence[str]]) -> None:
        most: dict[str, int] = {}
        for terms in term_lists:
            for t, c in Counter(terms).items():
                if c > 1 and c > most.get(t, 1):
                    most[t] = c
        if most:
            conn.execute(
                text(
                    "INSERT INTO knowledge_term_max_tf(term, max_tf) VALUES (:t, :m) "
                    "ON CONFLICT(term) DO UPDATE SET max_tf = max(max_tf, excluded.max_tf)"
                ),
                [{"t": t, "m": m} for t, m in most.items()],
            )

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

    def _fts_totals(self, conn: Connection) -> tuple[int, float]:
        """FTS5's own row count and average row length (its 'averages' record), as bm25() uses them."""
        block = conn.execute(text("SELECT block FROM knowledge_fts_data WHERE id = 1")).scalar()
        n_rows, *col_totals = _varints(bytes(block or b"")) or [0]
        return n_rows, (sum(col_totals) / n_rows if n_rows else 0.0)

    def _length_ordered(self, conn: Connection) -> bool:
        """True unless rows from before length-ordered ids remain (then: plain bm25 steps; reindex)."""
        low = conn.execute(text("SELECT min(id) FROM knowledge_search")).scalar()
        return low is None or int(low) >= 1 << LENGTH_SHIFT

    def _max_tf(self, conn: Connection, terms: Sequence[str]) -> dict[str, int]:
        rows = conn.execute(
            text("SELECT term, max_tf FROM knowledge_term_max_tf WHERE term IN :t").bindparams(
                bindparam("t", expanding=True)
            ),
            {"t": list(terms)},
        ).all()
        return {t: int(m) for t, m in rows}

    def _top_shortest_first(
        self,
        conn: Connection,
        match: str,
        bounds: dict[str, tuple[int, float]],
        totals: tuple[int, float],
        limit: int,
    ) -> list[tuple[int, float]]:
        """The top ``limit`` (rowid, bm25) of ``match``, equal to :meth:`_top`, reading the rows
        shortest first in growing windows, each row scored in SQL from its length (in the row id)
        and its stored terms (bm25() costs 20–150 µs a row on an AND of common terms), until the
        ``limit``-th best beats every unread row; only for steps whose rows have every term (AND,
        or one term). ``bounds``: term → (m, idf · (k1+1) · m), m its max tf; a row's bm25 for the term is
        at most the latter over (m + norm(row length)), and norm grows with the length."""
        avgdl = totals[1]

        def unread_bound(length: int) -> float:
            norm = K1 * (1 - B + B * length / avgdl)
            return sum(b / (m + norm) for m, b in bounds.values()) * (1 + _BOUND_SLACK)

        sql, params = _window_sql(bounds, avgdl)
        best: list[tuple[int, float]] = []
        after, window = 0, self.first_window
        while True:
            scored = [
                (int(r[0]), -float(r[1]))
                for r in conn.execute(sql, {**params, "q": match, "after": after, "w": window})
            ]
            best = sorted(best + scored, key=lambda kv: (kv[1], kv[0]))[:limit]
            if len(scored) < window:
                return best
            last = scored[-1][0]
            after = last + 1
            if len(best) >= limit and -best[-1][1] >= unread_bound(last >> LENGTH_SHIFT):
                return best
            window *= 2

    def _top_by_length(
        self, conn: Connection, match: str, weight: float, avgdl: float, limit: int
    ) -> list[tuple[int, float]]:
        """The top ``limit`` (rowid, bm25) of a match whose every row has each term exactly once
        (all max tf 1): bm25 is then ``weight`` (sum of idf · (k1+1)) / (1 + norm(length)), a
        function of the length in the row id, so the ``limit`` shortest rows are the top ones
        (equal lengths: lower rowid first, as :meth:`_top` breaks ties). No bm25() call at all."""
        rows = conn.execute(
            text("SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH :q ORDER BY rowid LIMIT :w"),
            {"q": match, "w": limit},
        ).all()
        out = []
        for (rid,) in rows:
            norm = K1 * (1 - B + B * (int(rid) >> LENGTH_SHIFT) / avgdl)
            out.append((int(rid), -weight / (1 + norm)))
        return out

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
        self, conn: Connection, chosen: list[str], df: dict[str, int], limit: int, flt: str
    ) -> list[tuple[int, float]]:
        totals = self._fts_totals(conn)
        top = self._step_ranker(conn, chosen, df, totals)
        if is_exact(chosen, df, self.exact_postings):
            return top(chosen, "OR", flt, limit)
        depth = candidate_depth(limit)
        candidates: set[int] = set()
        for terms, all_required in candidate_steps(chosen, df, self.exact_postings):
            candidates.update(rid for rid, _ in top(terms, "AND" if all_required else "OR", flt, depth))
        ranked = sorted(
            self._rescore(conn, chosen, sorted(candidates), totals), key=lambda kv: (kv[1], kv[0])
        )
        return ranked[:limit]

    def _step_ranker(
        self, conn: Connection, chosen: list[str], df: dict[str, int], totals: tuple[int, float]
    ) -> Callable[[list[str], str, str, int], list[tuple[int, float]]]:
        """``(terms, op, filters, limit) -> top rows by bm25``. Shortest first for a step that
        requires all its terms (AND, or one term) when the index has length-ordered ids: there the
        bound is tight (every row has every term). An OR of several terms, or an index from before
        length-ordered ids, is ranked by bm25() over the whole match."""
        n_rows, avgdl = totals
        plain = self._top
        if not (self.shortest_first and n_rows and self._length_ordered(conn)):
            return lambda terms, op, flt, limit: plain(conn, fts_query(terms, op) + flt, limit)
        max_tf = self._max_tf(conn, chosen)
        bounds = {t: (max_tf.get(t, 1), idf(n_rows, df[t]) * (K1 + 1) * max_tf.get(t, 1)) for t in chosen}

        def top(terms: list[str], op: str, flt: str, limit: int) -> list[tuple[int, float]]:
            match = fts_query(terms, op) + flt
            if op == "OR" and len(terms) > 1:
                return plain(conn, match, limit)
            if all(bounds[t][0] == 1 for t in terms):
                return self._top_by_length(conn, match, sum(bounds[t][1] for t in terms), avgdl, limit)
            return self._top_shortest_first(conn, match, {t: bounds[t] for t in terms}, totals, limit)

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
        conn.execute(text("DELETE FROM knowledge_term_max_tf"))
        self._n = None
