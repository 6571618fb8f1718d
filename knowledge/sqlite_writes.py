"""Writes of the SQLite search store: rows of ``knowledge_search`` and ``knowledge_fts`` with
length-ordered ids, and the statistics the scorer reads (document frequencies, each term's max tf,
the (term, row) counts of 2 or more in ``knowledge_term_tf``), all in the caller's transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from knowledge.index import IndexDoc, clean_terms
from knowledge.sqlite_fts import LENGTH_SHIFT, meta_tokens
from knowledge.sqlite_shortest_first import TF_MARKER

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)


def upsert_rows(conn: Connection, docs: Sequence[IndexDoc]) -> None:
    """Insert or replace documents (by id) in the index."""
    if not docs:
        return
    docs = list({d.id: d for d in docs}.values())
    fresh = conn.execute(text("SELECT 1 FROM knowledge_search LIMIT 1")).first() is None
    old = [
        {"id": row.id, "terms": row.terms, "meta": row.meta}
        for row in conn.execute(
            text("SELECT id, terms, meta FROM knowledge_search WHERE doc_id IN :ids").bindparams(_IDS),
            {"ids": [d.id for d in docs]},
        )
    ]
    if old:
        remove_rows(conn, old)
    term_lists = [clean_terms(d.terms) for d in docs]
    rows: list[dict[str, Any]] = [
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
    for row, rid in zip(rows, _new_ids(conn, lengths), strict=True):
        row["id"] = rid
    order = sorted(range(len(rows)), key=lambda i: rows[i]["id"])
    rows = [rows[i] for i in order]  # FTS5 flushes its pending segment whenever a rowid goes down
    term_lists = [term_lists[i] for i in order]
    _many(
        conn,
        "INSERT INTO knowledge_search(id, doc_id, kind, center_id, terms, meta) VALUES (?, ?, ?, ?, ?, ?)",
        [(r["id"], r["doc_id"], r["kind"], r["center_id"], r["terms"], r["meta"]) for r in rows],
    )
    _many(
        conn,
        "INSERT INTO knowledge_fts(rowid, terms, meta) VALUES (?, ?, ?)",
        [(r["id"], r["terms"], r["meta"]) for r in rows],
    )
    counts = [Counter(terms) for terms in term_lists]
    _bump_df(conn, counts, +1)
    _bump_max_tf(conn, counts)
    repeated = _repeated(counts, [r["id"] for r in rows])
    _many(conn, "INSERT INTO knowledge_term_tf(term, id, tf) VALUES (?, ?, ?)", repeated)
    _bump_repeat_counts(conn, repeated, +1)
    if fresh:  # every row of this index has its repeated terms recorded (see has_tf_rows)
        conn.execute(
            text("INSERT OR IGNORE INTO knowledge_term_tf(term, id, tf) VALUES (:t, :i, 0)"), TF_MARKER
        )


def remove_rows(conn: Connection, old: list[dict[str, Any]]) -> None:
    """Remove stored rows (id, terms, meta) from the index and its statistics."""
    conn.execute(
        text(
            "INSERT INTO knowledge_fts(knowledge_fts, rowid, terms, meta) VALUES('delete', :id, :terms, :meta)"
        ),
        old,
    )
    conn.execute(
        text("DELETE FROM knowledge_search WHERE id IN :ids").bindparams(_IDS),
        {"ids": [o["id"] for o in old]},
    )
    counts = [Counter(o["terms"].split()) for o in old]
    _bump_df(conn, counts, -1)
    repeated = _repeated(counts, [o["id"] for o in old])
    _many(conn, "DELETE FROM knowledge_term_tf WHERE term = ? AND id = ?", [(t, i) for t, i, _ in repeated])
    _bump_repeat_counts(conn, repeated, -1)


def clear_index(conn: Connection) -> None:
    """Remove every document (the emptied index then records every row's repeated terms)."""
    conn.execute(text("DELETE FROM knowledge_search"))
    conn.execute(text("INSERT INTO knowledge_fts(knowledge_fts) VALUES('delete-all')"))
    conn.execute(text("DELETE FROM knowledge_search_df"))
    conn.execute(text("DELETE FROM knowledge_term_max_tf"))
    conn.execute(text("DELETE FROM knowledge_term_tf"))
    conn.execute(text("INSERT INTO knowledge_term_tf(term, id, tf) VALUES (:t, :i, 0)"), TF_MARKER)


def _many(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """One statement over many rows, straight to the driver (no per-row bind processing)."""
    if rows:
        conn.exec_driver_sql(sql, rows)


def _repeated(counts: Sequence[Counter[str]], ids: Sequence[int]) -> list[tuple[str, int, int]]:
    """(term, row id, count) wherever a term occurs twice or more in a row."""
    return [(t, rid, c) for cnt, rid in zip(counts, ids, strict=True) for t, c in cnt.items() if c > 1]


def _bump_repeat_counts(conn: Connection, repeated: Sequence[tuple[str, int, int]], sign: int) -> None:
    """Keep, in the row (term, id 0), how many rows repeat the term (the scorer's cost estimate)."""
    per_term = Counter(t for t, _, _ in repeated)
    _many(
        conn,
        "INSERT INTO knowledge_term_tf(term, id, tf) VALUES (?, 0, ?) "
        "ON CONFLICT(term, id) DO UPDATE SET tf = tf + excluded.tf",
        [(t, sign * n) for t, n in per_term.items()],
    )


def _new_ids(conn: Connection, lengths: Sequence[int]) -> list[int]:
    """Length-ordered row ids: the next free sequence per length. SQLite has one writer at a time,
    so max + 1 inside the transaction is unique."""
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


def _bump_df(conn: Connection, counts: Sequence[Counter[str]], sign: int) -> None:
    df: Counter[str] = Counter()
    for cnt in counts:
        df.update(cnt.keys())
    _many(
        conn,
        "INSERT INTO knowledge_search_df(term, df) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET df = df + excluded.df",
        [(t, sign * c) for t, c in df.items()],
    )


def _bump_max_tf(conn: Connection, counts: Sequence[Counter[str]]) -> None:
    most: dict[str, int] = {}
    for cnt in counts:
        for t, c in cnt.items():
            if c > 1 and c > most.get(t, 1):
                most[t] = c
    _many(
        conn,
        "INSERT INTO knowledge_term_max_tf(term, max_tf) VALUES (?, ?) "
        "ON CONFLICT(term) DO UPDATE SET max_tf = max(max_tf, excluded.max_tf)",
        list(most.items()),
    )
