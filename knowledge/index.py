"""The search-index interface and the choice of store by database dialect.

A store keeps pre-tokenized documents (terms from knowledge.text) and answers ranked BM25 queries.
Two implementations pass the same tests: :mod:`knowledge.store_sqlite` (FTS5, the embedded
default) and :mod:`knowledge.store_postgres` (tsvector + GIN, shared by every API process).
Stores work on the caller's connection, so indexing joins the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from sqlalchemy.engine import Connection

K1 = 1.2
B = 0.75
MAX_QUERY_TERMS = 24  # the rarest terms of a long query; common ones add little and cost much
POSTINGS_BUDGET = 30_000  # stop adding (ever more common) query terms once this many postings are read
EXACT_POSTINGS = 8_000  # below this many postings, OR-all-terms (exact BM25) is cheap enough


@dataclass(frozen=True)
class IndexDoc:
    id: str
    kind: str
    center_id: int | None
    terms: Sequence[str]


@dataclass(frozen=True)
class SearchFilters:
    kinds: tuple[str, ...] = ()
    center_id: int | None = None  # only documents of this center
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    id: str
    score: float  # BM25, higher is better
    matched: tuple[str, ...] = field(default_factory=tuple)


class SearchStore(Protocol):
    """Pre-tokenized full-text index with BM25 ranking."""

    def upsert(self, conn: Connection, docs: Sequence[IndexDoc]) -> None: ...

    def delete(self, conn: Connection, doc_id: str) -> bool: ...

    def search(
        self, conn: Connection, terms: Sequence[str], k: int, filters: SearchFilters | None = None
    ) -> list[Hit]: ...

    def count(self, conn: Connection) -> int: ...

    def clear(self, conn: Connection) -> None: ...


_ASCII_JUNK = re.compile(r"[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]")


def clean_terms(terms: Sequence[str]) -> list[str]:
    """Terms as stores keep them: ASCII lower-cased, ASCII punctuation and spaces removed, no empties.

    Both stores apply this to indexed and query terms alike (the analyzer already emits clean terms).
    """
    return [c for c in map(_clean_term, terms) if c]


@lru_cache(maxsize=65536)
def _clean_term(term: str) -> str:
    return _ASCII_JUNK.sub("", term.lower())  # cached: a corpus repeats few distinct terms


def choose_terms(terms: Sequence[str], df: dict[str, int], n_docs: int) -> list[str]:
    """The query terms worth scoring: present, rarest first, within the postings budget.

    Terms in more than half the documents are dropped (BM25 idf ~0) unless nothing else is left;
    at least two terms are kept whatever their cost.
    """
    present = [t for t in terms if df.get(t, 0) > 0]
    useful = sorted([t for t in present if df[t] <= n_docs / 2] or present, key=lambda t: df[t])
    chosen: list[str] = []
    postings = 0
    for t in useful[:MAX_QUERY_TERMS]:
        if len(chosen) >= 2 and postings + df[t] > POSTINGS_BUDGET:
            break
        chosen.append(t)
        postings += df[t]
    return chosen


def is_exact(chosen: Sequence[str], df: dict[str, int], exact_postings: int) -> bool:
    """True when one OR over all chosen terms (exact BM25) is cheap enough to run."""
    return len(chosen) == 1 or sum(df[t] for t in chosen) <= exact_postings


RESCORE_DEPTH = 3  # candidates per wanted hit gathered by the cheap steps before exact rescoring
MIN_CANDIDATES = 30


def essential_terms(chosen: Sequence[str], df: dict[str, int], exact_postings: int) -> list[str]:
    """The rarest chosen terms whose postings together fit ``exact_postings`` (at least one)."""
    out: list[str] = []
    for t in chosen:
        if out and sum(df[x] for x in out) + df[t] > exact_postings:
            break
        out.append(t)
    return out


def candidate_steps(
    chosen: Sequence[str], df: dict[str, int], exact_postings: int
) -> list[tuple[list[str], bool]]:
    """The large-index plan shared by both stores, as ``(terms, all_required)`` candidate queries:
    documents with all chosen terms and the best by the rarest
    (essential) terms alone (an OR within ``exact_postings``). Every candidate is then rescored by
    BM25 over ALL chosen terms, so a document missing one term still competes on its score (the
    old AND-first plan ranked any full match above it). Documents none of these steps reach are
    missed: exact when the best matches contain a rare term, as natural-language queries do."""
    steps: list[tuple[list[str], bool]] = []
    if len(chosen) > 1:
        steps.append((list(chosen), True))
    return [*steps, (essential_terms(chosen, df, exact_postings), False)]


def candidate_depth(limit: int) -> int:
    """How many candidates each step of :func:`candidate_steps` fetches."""
    return max(MIN_CANDIDATES, limit * RESCORE_DEPTH)


def idf(n_docs: int, df: int) -> float:
    """BM25 idf as SQLite FTS5 computes it (clamped to a tiny positive value for very common terms)."""
    import math

    value = math.log((n_docs - df + 0.5) / (df + 0.5))
    return value if value > 0 else 1e-6


_stores: dict[str, SearchStore] = {}


def store_for(dialect: str) -> SearchStore:
    """The store for a database dialect ("sqlite" or "postgresql"), one per process."""
    if dialect in _stores:
        return _stores[dialect]
    if dialect == "sqlite":
        from knowledge.store_sqlite import SqliteFtsStore

        return _stores.setdefault(dialect, SqliteFtsStore())
    if dialect == "postgresql":
        from knowledge.store_postgres import PostgresStore

        return _stores.setdefault(dialect, PostgresStore())
    raise ValueError(f"no search store for database dialect {dialect!r} (use sqlite or postgresql)")


def reset_search_index(runtime: object) -> None:
    """Empty the search index (tests' reset hook: the index is not an ORM table)."""
    engine = runtime.engine  # type: ignore[attr-defined]
    with engine.begin() as conn:
        store_for(engine.dialect.name).clear(conn)
