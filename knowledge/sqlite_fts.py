"""SQLite FTS5 pieces of the embedded search store: MATCH expressions, the ``meta`` filter tokens,
FTS5's own totals (as bm25() reads them) and the length-ordered row ids.

Row ids are length-ordered: ``id = (tokens in the row) << LENGTH_SHIFT | sequence``, so FTS5, which
returns a MATCH in rowid order, yields the shortest documents first.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Connection

from knowledge.index import SearchFilters

LENGTH_SHIFT = 32  # row id = tokens << 32 | sequence (a sequence per length: 4 billion rows each)


def varints(data: bytes) -> list[int]:
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


def phrase(term: str) -> str:
    """One FTS5 phrase, quoted (no operator injection)."""
    return '"' + term.replace('"', '""') + '"'


def fts_query(terms: Sequence[str], op: str = "OR") -> str:
    """An FTS5 MATCH expression over the ``terms`` column, each term quoted (no operator injection)."""
    return "terms : (" + f" {op} ".join(phrase(t) for t in terms) + ")"


@lru_cache(maxsize=4096)
def meta_tokens(kind: str, center_id: int | None) -> str:
    """The ``meta`` column of a document: tokens for its kind and center (alphanumeric only)."""
    kind_token = "".join(c for c in kind.lower() if c.isascii() and c.isalnum())
    return f"k{kind_token} c{center_id if center_id is not None else 'none'}"


def filter_query(filters: SearchFilters) -> str:
    """The filters as MATCH conditions on ``meta`` (appended to a step's expression)."""
    parts = []
    if filters.kinds:
        parts.append(
            "meta : (" + " OR ".join(phrase(meta_tokens(k, None).split()[0]) for k in filters.kinds) + ")"
        )
    if filters.center_id is not None:
        parts.append(f'meta : "c{int(filters.center_id)}"')
    return "".join(f" AND {p}" for p in parts)


def fts_totals(conn: Connection) -> tuple[int, float]:
    """FTS5's own row count and average row length (its 'averages' record), as bm25() uses them."""
    block = conn.execute(text("SELECT block FROM knowledge_fts_data WHERE id = 1")).scalar()
    n_rows, *col_totals = varints(bytes(block or b"")) or [0]
    return n_rows, (sum(col_totals) / n_rows if n_rows else 0.0)


def length_ordered(conn: Connection) -> bool:
    """True unless rows from before length-ordered ids remain (then: plain bm25 steps; reindex)."""
    low = conn.execute(text("SELECT min(id) FROM knowledge_search")).scalar()
    return low is None or int(low) >= 1 << LENGTH_SHIFT


def meta_filter(filters: SearchFilters) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The filters as ``meta`` tokens: (a row needs one of these, a row needs all of these)."""
    kinds = tuple(meta_tokens(k, None).split()[0] for k in filters.kinds)
    center = (f"c{int(filters.center_id)}",) if filters.center_id is not None else ()
    return kinds, center
